// Package storesync implements Waku store sync as nwaku ships it: range-based set
// reconciliation of archived message IDs (/vac/waku/reconciliation/1.0.0) and a push of the
// messages one side lacks (/vac/waku/transfer/1.0.0). The codec, the range processing and the
// index are pure; Syncer runs them over libp2p streams with an archive behind small interfaces.
package storesync

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/wakunode/wakunode/message"
)

// ID identifies one archived message: its own timestamp (ns) and its deterministic hash.
// IDs order by time, then by hash bytes.
type ID struct {
	Time int64
	Hash message.Hash
}

// Compare orders IDs by time (signed), then hash (memcmp).
func (a ID) Compare(b ID) int {
	switch {
	case a.Time < b.Time:
		return -1
	case a.Time > b.Time:
		return 1
	}
	return bytes.Compare(a.Hash[:], b.Hash[:])
}

// RangeType says what a range carries.
type RangeType byte

// Range types as encoded on the wire; any other byte fails decoding.
const (
	Skip        RangeType = 0
	Fingerprint RangeType = 1
	ItemSet     RangeType = 2
)

func (t RangeType) String() string {
	switch t {
	case Skip:
		return "skip"
	case Fingerprint:
		return "fingerprint"
	case ItemSet:
		return "itemset"
	}
	return fmt.Sprintf("rangetype(%d)", byte(t))
}

// Range is one interval [Lower, Upper] of a payload with its body. On the wire only the first
// lower bound's time is sent: every other lower bound is the previous range's upper bound.
type Range struct {
	Lower, Upper ID
	Type         RangeType
	Fingerprint  message.Hash // Type == Fingerprint
	Items        []ID         // Type == ItemSet, ascending
	Reconciled   bool         // Type == ItemSet
}

// Payload is one reconciliation frame (nwaku's RangesData).
type Payload struct {
	PubsubTopics  []string
	ContentTopics []string
	Ranges        []Range
}

// Decoder limits: nwaku reads at most 9 bytes of LEB128 (values < 2^63).
const maxVarintLen = 9

// DefaultMaxRanges bounds the ranges one decoded payload may hold; a legitimate session over a
// million-message window stays far below it (each diverging range splits into 8).
const DefaultMaxRanges = 100_000

// maxTopics bounds each topic list of a payload (1024 shards is the most a cluster has).
const maxTopics = 1024

var (
	errTruncated = errors.New("storesync: truncated payload")
	errVarint    = errors.New("storesync: varint longer than 9 bytes")
)

// Encode renders p exactly as nwaku's codec does. A payload with no ranges is the single byte
// 0x00, whatever its topics.
func (p *Payload) Encode() []byte {
	if len(p.Ranges) == 0 {
		return []byte{0}
	}
	var b []byte
	b = putTopics(b, p.PubsubTopics)
	b = putTopics(b, p.ContentTopics)
	first := p.Ranges[0].Lower
	b = putUvarint(b, uint64(first.Time))
	prev := first.Time
	for i := range p.Ranges {
		r := &p.Ranges[i]
		dt := uint64(r.Upper.Time) - uint64(prev)
		b = putUvarint(b, dt)
		if dt == 0 {
			// nwaku compares with the first range's lower-bound hash, never the previous one.
			n := commonPrefix(r.Upper.Hash[:], first.Hash[:]) + 1
			if n > 32 {
				n = 32
			}
			b = append(b, byte(n))
			b = append(b, r.Upper.Hash[:n]...)
		}
		b = append(b, byte(r.Type))
		switch r.Type {
		case Fingerprint:
			b = append(b, r.Fingerprint[:]...)
		case ItemSet:
			b = putItems(b, r.Items, r.Reconciled)
		}
		prev = r.Upper.Time
	}
	return b
}

func putTopics(b []byte, ts []string) []byte {
	b = putUvarint(b, uint64(len(ts)))
	for _, t := range ts {
		b = putUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	return b
}

func putItems(b []byte, items []ID, reconciled bool) []byte {
	b = putUvarint(b, uint64(len(items)))
	var prev int64
	for _, it := range items {
		b = putUvarint(b, uint64(it.Time)-uint64(prev))
		b = append(b, it.Hash[:]...)
		prev = it.Time
	}
	if reconciled {
		return append(b, 1)
	}
	return append(b, 0)
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// putUvarint appends the minimal unsigned LEB128 form of v.
func putUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) uvarint() (uint64, error) {
	var v uint64
	for i := 0; i < maxVarintLen; i++ {
		if r.off >= len(r.b) {
			return 0, errTruncated
		}
		c := r.b[r.off]
		r.off++
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errVarint
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || r.left() < n {
		return nil, errTruncated
	}
	out := r.b[r.off : r.off+n]
	r.off += n
	return out, nil
}

func (r *reader) byte() (byte, error) {
	if r.left() < 1 {
		return 0, errTruncated
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) topics() ([]string, error) {
	n, err := r.uvarint()
	if err != nil {
		return nil, fmt.Errorf("topic count: %w", err)
	}
	if n > maxTopics {
		return nil, fmt.Errorf("storesync: %d topics, limit %d", n, maxTopics)
	}
	out := make([]string, 0, n)
	for range n {
		l, err := r.uvarint()
		if err != nil {
			return nil, fmt.Errorf("topic length: %w", err)
		}
		if l > uint64(r.left()) {
			return nil, errTruncated
		}
		s, _ := r.bytes(int(l))
		out = append(out, string(s))
	}
	return out, nil
}

// Decode parses a reconciliation payload. A buffer of at most one byte holds no ranges (the
// terminal 0x00 and the empty frame). maxRanges <= 0 means DefaultMaxRanges. Trailing bytes
// shorter than a range record are ignored, as nwaku does.
func Decode(buf []byte, maxRanges int) (*Payload, error) {
	if maxRanges <= 0 {
		maxRanges = DefaultMaxRanges
	}
	p := &Payload{}
	if len(buf) <= 1 {
		return p, nil
	}
	r := &reader{b: buf}
	var err error
	if p.PubsubTopics, err = r.topics(); err != nil {
		return nil, fmt.Errorf("pubsub topics: %w", err)
	}
	if p.ContentTopics, err = r.topics(); err != nil {
		return nil, fmt.Errorf("content topics: %w", err)
	}
	t0, err := r.uvarint()
	if err != nil {
		return nil, fmt.Errorf("first lower bound: %w", err)
	}
	lower := ID{Time: int64(t0)}
	for r.left() >= 2 {
		if len(p.Ranges) >= maxRanges {
			return nil, fmt.Errorf("storesync: more than %d ranges", maxRanges)
		}
		rg, err := r.rangeRecord(lower)
		if err != nil {
			return nil, fmt.Errorf("range %d: %w", len(p.Ranges), err)
		}
		p.Ranges = append(p.Ranges, rg)
		lower = rg.Upper
	}
	return p, nil
}

func (r *reader) rangeRecord(lower ID) (Range, error) {
	rg := Range{Lower: lower}
	dt, err := r.uvarint()
	if err != nil {
		return rg, err
	}
	rg.Upper.Time = int64(uint64(lower.Time) + dt)
	if dt == 0 {
		n, err := r.byte()
		if err != nil {
			return rg, err
		}
		// The upper hash is the prefix followed by zeros; nwaku ignores an oversized prefix.
		if n <= 32 {
			pre, err := r.bytes(int(n))
			if err != nil {
				return rg, err
			}
			copy(rg.Upper.Hash[:], pre)
		}
	}
	t, err := r.byte()
	if err != nil {
		return rg, err
	}
	rg.Type = RangeType(t)
	switch rg.Type {
	case Skip:
	case Fingerprint:
		fp, err := r.bytes(32)
		if err != nil {
			return rg, err
		}
		copy(rg.Fingerprint[:], fp)
	case ItemSet:
		rg.Items, rg.Reconciled, err = r.items()
		if err != nil {
			return rg, err
		}
	default:
		return rg, fmt.Errorf("storesync: unknown range type %d", t)
	}
	return rg, nil
}

func (r *reader) items() ([]ID, bool, error) {
	k, err := r.uvarint()
	if err != nil {
		return nil, false, err
	}
	// Every element takes at least 33 bytes, so k is bounded by what is left to read.
	if k > uint64(r.left()/33) {
		return nil, false, errTruncated
	}
	items := make([]ID, 0, k)
	var prev int64
	for range k {
		dt, err := r.uvarint()
		if err != nil {
			return nil, false, err
		}
		h, err := r.bytes(32)
		if err != nil {
			return nil, false, err
		}
		it := ID{Time: int64(uint64(prev) + dt)}
		copy(it.Hash[:], h)
		items = append(items, it)
		prev = it.Time
	}
	c, err := r.byte()
	if err != nil {
		return nil, false, err
	}
	if c > 1 {
		return nil, false, fmt.Errorf("storesync: reconciled byte %#x", c)
	}
	return items, c == 1, nil
}
