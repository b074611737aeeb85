package storesync

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/wakunode/wakunode/message"
)

func consecutive(n int, t0 int64) *Index {
	ix := &Index{}
	for i := range n {
		ix.Insert(ID{Time: t0 + int64(i), Hash: hashOf(i)}, tpc, ct)
	}
	return ix
}

func procFor(ix *Index, threshold, parts int) *processor {
	return &processor{ix: ix, f: ix.newFilter(nil, nil), threshold: threshold, partitions: parts}
}

func fpRange(ix *Index, lo, hi ID) Range {
	return Range{Lower: lo, Upper: hi, Type: Fingerprint, Fingerprint: ix.fingerprint(ix.lowerBound(lo), ix.upperBound(hi), &filter{all: true})}
}

func types(rs []Range) []RangeType {
	var out []RangeType
	for _, r := range rs {
		out = append(out, r.Type)
	}
	return out
}

// mismatch returns a copy of a consecutive store whose element k has another hash.
func mismatch(n, k int, t0 int64) (*Index, ID, ID) {
	ix := &Index{}
	var mine ID
	for i := range n {
		id := ID{Time: t0 + int64(i), Hash: hashOf(i)}
		if i == k {
			id.Hash = hashOf(-1)
			mine = id
		}
		ix.Insert(id, tpc, ct)
	}
	return ix, mine, ID{Time: t0 + int64(k), Hash: hashOf(k)}
}

// §13.11: 2048 elements with one mismatch give 8 Fingerprints, then 8 ItemSets.
func TestSplitFingerprintsThenItemSets(t *testing.T) {
	a := consecutive(2048, 1000)
	b, bVersion, _ := mismatch(2048, 700, 1000)
	var d Diff
	out := procFor(a, 100, 8).process([]Range{fpRange(b, ID{Time: 1000}, ID{Time: 3048})}, &d)
	if len(out) != 8 || slices.ContainsFunc(out, func(r Range) bool { return r.Type != Fingerprint }) || len(d.ToSend)+len(d.ToRecv) != 0 {
		t.Fatalf("first reply %v, diff %+v", types(out), d)
	}
	var sub Range
	for _, r := range out {
		if r.Lower.Time <= bVersion.Time && bVersion.Time < r.Upper.Time {
			sub = r
		}
	}
	if sub.Upper.Time-sub.Lower.Time != 256 {
		t.Fatalf("sub-range %v", sub)
	}
	out = procFor(a, 100, 8).process([]Range{fpRange(b, sub.Lower, sub.Upper)}, &d)
	holding := 0
	for _, r := range out {
		if r.Type != ItemSet {
			t.Fatalf("second reply %v", types(out))
		}
		if slices.Contains(r.Items, ID{Time: bVersion.Time, Hash: hashOf(700)}) {
			holding++
		}
	}
	if len(out) != 8 || holding != 1 {
		t.Fatalf("second reply %d ranges, %d hold the element", len(out), holding)
	}
}

func TestSplitSmallParameters(t *testing.T) {
	a := consecutive(8, 0)
	b, _, _ := mismatch(8, 3, 0)
	var d Diff
	if out := procFor(a, 4, 2).process([]Range{fpRange(b, ID{}, ID{Time: 8})}, &d); len(out) != 2 || out[0].Type != ItemSet || out[1].Type != ItemSet {
		t.Fatalf("threshold 4 / 2 parts: %v", types(out))
	}
	out := procFor(a, 100, 8).process([]Range{fpRange(b, ID{}, ID{Time: 8})}, &d)
	if len(out) != 1 || out[0].Type != ItemSet || out[0].Reconciled {
		t.Fatalf("8 elements: %v", out)
	}
	// The other store processes that item set: it pushes its version, lacks ours.
	var back Diff
	reply := procFor(b, 100, 8).process(out, &back)
	if len(back.ToSend) != 1 || back.ToSend[0].Hash != hashOf(-1) || len(back.ToRecv) != 1 || back.ToRecv[0].Hash != hashOf(3) {
		t.Fatalf("diff %+v", back)
	}
	if len(reply) != 1 || !reply[0].Reconciled {
		t.Fatalf("reply %+v", reply)
	}
	// 300 elements with threshold 50: 8 item sets at once.
	big, _, _ := mismatch(300, 5, 0)
	if out := procFor(consecutive(300, 0), 50, 8).process([]Range{fpRange(big, ID{}, ID{Time: 300})}, &d); len(out) != 8 || slices.ContainsFunc(out, func(r Range) bool { return r.Type != ItemSet }) {
		t.Fatalf("300/50: %v", types(out))
	}
}

func TestSplitSkipThenItemSet(t *testing.T) {
	a := consecutive(120, 0)
	b := consecutive(60, 0)
	for i := 60; i < 120; i++ {
		b.Insert(ID{Time: int64(i), Hash: hashOf(1000 + i)}, tpc, ct)
	}
	in := []Range{fpRange(b, ID{}, ID{Time: 60}), fpRange(b, ID{Time: 60}, ID{Time: 120})}
	var d Diff
	if out := procFor(a, 100, 8).process(in, &d); len(out) != 2 || out[0].Type != Skip || out[1].Type != ItemSet {
		t.Fatalf("%v", types(out))
	}
}

// 80k elements: three rounds of 8 Fingerprints, then 8 ItemSets, then one ItemSet; once both
// hold the element, the range's fingerprint gives an empty reply.
func TestSplit80k(t *testing.T) {
	const n, k = 80_000, 12_345
	a := consecutive(n, 0)
	b, bVersion, aVersion := mismatch(n, k, 0)
	lo, hi := ID{}, ID{Time: n}
	var d Diff
	for round := 1; round <= 3; round++ {
		out := procFor(a, 100, 8).process([]Range{fpRange(b, lo, hi)}, &d)
		if len(out) != 8 || slices.ContainsFunc(out, func(r Range) bool { return r.Type != Fingerprint }) {
			t.Fatalf("round %d: %v", round, types(out))
		}
		for _, r := range out {
			if r.Lower.Time <= int64(k) && int64(k) < r.Upper.Time {
				lo, hi = r.Lower, r.Upper
			}
		}
	}
	out := procFor(a, 100, 8).process([]Range{fpRange(b, lo, hi)}, &d)
	if len(out) != 8 || slices.ContainsFunc(out, func(r Range) bool { return r.Type != ItemSet }) {
		t.Fatalf("round 4: %v", types(out))
	}
	i := slices.IndexFunc(out, func(r Range) bool { return slices.Contains(r.Items, aVersion) })
	last := procFor(b, 100, 8).process(out[i:i+1], &d)
	if len(last) != 1 || last[0].Type != ItemSet || !last[0].Reconciled {
		t.Fatalf("round 5: %+v", last)
	}
	a.Insert(bVersion, tpc, ct)
	b.Insert(aVersion, tpc, ct)
	if out := procFor(a, 100, 8).process([]Range{fpRange(b, out[i].Lower, out[i].Upper)}, &d); len(out) != 0 {
		t.Fatalf("after repair: %v", types(out))
	}
}

// §13.12: prune, identical fingerprint, item-set diff, topic slot reuse.
func TestIndexStorage(t *testing.T) {
	ix := consecutive(1000, 0)
	if n := ix.Prune(ID{Time: 500}); n != 500 || ix.Len() != 500 {
		t.Fatalf("pruned %d, left %d", n, ix.Len())
	}
	var d Diff
	same := consecutive(1000, 0)
	same.Prune(ID{Time: 500})
	if out := procFor(ix, 100, 8).process([]Range{fpRange(same, ID{}, ID{Time: 2000})}, &d); out != nil {
		t.Fatalf("identical: %v", types(out))
	}
	// Item-set diffing returns exactly the local elements the peer lacks.
	theirs := same.ids(0, same.Len(), &filter{all: true})
	theirs = slices.DeleteFunc(theirs, func(id ID) bool { return id.Time%100 == 7 })
	procFor(ix, 100, 8).process([]Range{{Upper: ID{Time: 2000}, Type: ItemSet, Items: theirs}}, &d)
	if len(d.ToSend) != 5 || len(d.ToRecv) != 0 || d.ToSend[0].Time != 507 {
		t.Fatalf("diff %+v", d)
	}
	tp := &Index{}
	tp.Insert(ID{Time: 1, Hash: hashOf(1)}, "a", "x")
	tp.Insert(ID{Time: 2, Hash: hashOf(2)}, "b", "y")
	tp.Prune(ID{Time: 2})
	tp.Insert(ID{Time: 3, Hash: hashOf(3)}, "c", "z")
	if len(tp.pubsub.names) != 2 || tp.pubsub.names[0] != "c" {
		t.Fatalf("slots %v", tp.pubsub.names)
	}
}

// The chunked index agrees with a plain sorted slice under random inserts and prunes.
func TestIndexMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ix := &Index{}
	var model []ID
	topics := []string{"p0", "p1", "p2"}
	topicOf := map[ID]string{}
	for step := range 20_000 {
		if step%2000 == 1999 {
			cut := ID{Time: int64(rng.IntN(1000))}
			ix.Prune(cut)
			model = slices.DeleteFunc(model, func(id ID) bool { return id.Compare(cut) < 0 })
		}
		id := ID{Time: int64(rng.IntN(100_000)), Hash: hashOf(rng.IntN(50_000))}
		tpc := topics[rng.IntN(3)]
		if pos, found := slices.BinarySearchFunc(model, id, ID.Compare); !found {
			model = slices.Insert(model, pos, id)
			topicOf[id] = tpc
		}
		ix.Insert(id, tpc, ct)
	}
	if ix.Len() != len(model) || !slices.Equal(ix.ids(0, ix.Len(), &filter{all: true}), model) {
		t.Fatalf("len %d vs %d", ix.Len(), len(model))
	}
	for range 200 {
		a, b := ID{Time: int64(rng.IntN(100_000))}, ID{Time: int64(rng.IntN(100_000))}
		if b.Compare(a) < 0 {
			a, b = b, a
		}
		lo, hi := ix.lowerBound(a), ix.upperBound(b)
		var want, wantP1 message.Hash
		n := 0
		for _, id := range model {
			if id.Compare(a) >= 0 && id.Compare(b) <= 0 {
				xorInto(&want, &id.Hash)
				if topicOf[id] == "p1" {
					xorInto(&wantP1, &id.Hash)
				}
				n++
			}
		}
		if hi-lo != n || ix.fingerprint(lo, hi, &filter{all: true}) != want || ix.fingerprint(lo, hi, ix.newFilter([]string{"p1"}, nil)) != wantP1 {
			t.Fatalf("range [%v,%v]: %d vs %d elements", a.Time, b.Time, hi-lo, n)
		}
	}
}

// A reply over budget defers ranges as Skip; a later session picks them up.
func TestReplyBudgetDefersRanges(t *testing.T) {
	a, c := &Index{}, &Index{}
	for i := range 10_000 {
		id := ID{Time: vecT0 + int64(i+1)*(hour/10_001), Hash: hashOf(i)}
		a.Insert(id, tpc, ct)
		if i%100 != 0 {
			c.Insert(id, tpc, ct)
		}
	}
	found := map[message.Hash]bool{}
	for round := 1; len(found) < 100; round++ {
		if round > 20 {
			t.Fatalf("found %d of 100 after 20 sessions", len(found))
		}
		ca, cc := newSession(a, tpc), newSession(c, tpc)
		ca.replyBudget, cc.replyBudget = 100_000, 100_000
		converse(t, ca, cc, vecT0, vecT0+hour)
		for _, id := range append(ca.diff.ToSend, cc.diff.ToSend...) {
			found[id.Hash] = true
			c.Insert(id, tpc, ct) // the transfer
		}
		if round == 1 && len(found) == 100 {
			t.Fatal("budget did not defer anything")
		}
	}
}
