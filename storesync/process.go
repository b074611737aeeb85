package storesync

import (
	"slices"
)

// nwaku's split parameters (store-sync.md §5.4).
const (
	DefaultThreshold  = 100 // a range of at most this many elements is answered with its items
	DefaultPartitions = 8   // a larger differing range is split into this many equal time parts
)

// Diff is what processing one payload found: IDs the peer lacks (to push) and IDs it has
// that we lack (pushed to us by the peer; counted only).
type Diff struct {
	ToSend, ToRecv []ID
}

// processor answers ranges from an index (SeqStorage rules of store-sync.md §5.4).
type processor struct {
	ix         *Index
	f          *filter
	threshold  int
	partitions int
}

// process answers every range of in and merges runs of Skip; an answer of only Skips is nil.
func (p *processor) process(in []Range, d *Diff) []Range {
	out := make([]Range, 0, len(in))
	for i := range in {
		r := &in[i]
		switch r.Type {
		case Fingerprint:
			out = p.fingerprint(out, r)
		case ItemSet:
			out = append(out, p.itemSet(r, d))
		default:
			out = append(out, Range{Lower: r.Lower, Upper: r.Upper, Type: Skip})
		}
	}
	return mergeSkips(out)
}

func (p *processor) fingerprint(out []Range, r *Range) []Range {
	lo, hi := p.ix.lowerBound(r.Lower), p.ix.upperBound(r.Upper)
	if p.ix.fingerprint(lo, hi, p.f) == r.Fingerprint {
		return append(out, Range{Lower: r.Lower, Upper: r.Upper, Type: Skip})
	}
	if lo >= hi {
		return append(out, Range{Lower: r.Lower, Upper: r.Upper, Type: ItemSet, Items: []ID{}, Reconciled: true})
	}
	width := uint64(r.Upper.Time) - uint64(r.Lower.Time)
	// nwaku drops a range narrower than the partition count; answering with the items
	// instead keeps a burst of same-nanosecond messages reconcilable.
	if hi-lo <= p.threshold || r.Upper.Time < r.Lower.Time || width < uint64(p.partitions) {
		return append(out, Range{Lower: r.Lower, Upper: r.Upper, Type: ItemSet, Items: p.ix.ids(lo, hi, p.f)})
	}
	q, rem := width/uint64(p.partitions), width%uint64(p.partitions)
	lb := r.Lower.Time
	for i := range p.partitions {
		step := q
		if uint64(i) < rem {
			step++
		}
		ub := int64(uint64(lb) + step)
		part := Range{Lower: ID{Time: lb}, Upper: ID{Time: ub}}
		plo, phi := p.ix.lowerBound(part.Lower), p.ix.upperBound(part.Upper)
		switch {
		case plo >= phi:
			part.Type, part.Items, part.Reconciled = ItemSet, []ID{}, true
		case phi-plo <= p.threshold:
			part.Type, part.Items = ItemSet, p.ix.ids(plo, phi, p.f)
		default:
			part.Type, part.Fingerprint = Fingerprint, p.ix.fingerprint(plo, phi, p.f)
		}
		out = append(out, part)
		lb = ub
	}
	return out
}

func (p *processor) itemSet(r *Range, d *Diff) Range {
	lo, hi := p.ix.lowerBound(r.Lower), p.ix.upperBound(r.Upper)
	if lo >= hi {
		if r.Reconciled {
			return Range{Lower: r.Lower, Upper: r.Upper, Type: Skip}
		}
		return Range{Lower: r.Lower, Upper: r.Upper, Type: ItemSet, Items: []ID{}, Reconciled: true}
	}
	mine := p.ix.ids(lo, hi, p.f)
	theirs := r.Items
	if !slices.IsSortedFunc(theirs, ID.Compare) {
		theirs = slices.Clone(theirs)
		slices.SortFunc(theirs, ID.Compare)
	}
	i, j := 0, 0
	for i < len(mine) || j < len(theirs) {
		switch {
		case j == len(theirs) || (i < len(mine) && mine[i].Compare(theirs[j]) < 0):
			d.ToSend = append(d.ToSend, mine[i])
			i++
		case i == len(mine) || mine[i].Compare(theirs[j]) > 0:
			d.ToRecv = append(d.ToRecv, theirs[j])
			j++
		default:
			for j < len(theirs) && theirs[j] == mine[i] { // duplicates from a sloppy peer
				j++
			}
			i++
		}
	}
	if r.Reconciled {
		return Range{Lower: r.Lower, Upper: r.Upper, Type: Skip}
	}
	return Range{Lower: r.Lower, Upper: r.Upper, Type: ItemSet, Items: mine, Reconciled: true}
}

// mergeSkips collapses adjacent Skip ranges; if nothing but Skip remains the answer is empty.
func mergeSkips(rs []Range) []Range {
	out := rs[:0]
	allSkip := true
	for _, r := range rs {
		if r.Type != Skip {
			allSkip = false
		}
		if n := len(out); n > 0 && r.Type == Skip && out[n-1].Type == Skip {
			out[n-1].Upper = r.Upper
			continue
		}
		out = append(out, r)
	}
	if allSkip {
		return nil
	}
	return out
}

// onlySkips reports whether a received payload asks nothing (no ranges or all Skip).
func onlySkips(rs []Range) bool {
	for _, r := range rs {
		if r.Type != Skip {
			return false
		}
	}
	return true
}

// capReply keeps an answer within about budget encoded bytes: ranges past the budget become
// Skip, so their differences stay unresolved and are found again by a later session instead of
// making one frame unbounded (nwaku has no such cap: a million IDs differing by 1 % make a
// single 100 MB frame). budget <= 0 disables it.
func capReply(rs []Range, budget int) []Range {
	if budget <= 0 {
		return rs
	}
	used, kept := 0, false
	for i := range rs {
		r := &rs[i]
		size := 12
		switch r.Type {
		case Fingerprint:
			size += 32
		case ItemSet:
			size += 2 + 41*len(r.Items)
		}
		if r.Type != Skip && used+size > budget && kept { // the first one always goes: progress
			*r = Range{Lower: r.Lower, Upper: r.Upper, Type: Skip}
			size = 12
		}
		kept = kept || r.Type != Skip
		used += size
	}
	return mergeSkips(rs)
}
