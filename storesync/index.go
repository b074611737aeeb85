package storesync

import (
	"slices"
	"sort"

	"github.com/wakunode/wakunode/message"
)

// Chunk sizes of the index: a chunk splits when it reaches 2×chunkTarget elements.
const chunkTarget = 256

// Index is the sorted set of IDs a node reconciles, with each element's pubsub and content
// topic. It is kept incrementally (Insert per message, Prune by time): a million elements are
// never rebuilt per round. Elements live in sorted chunks, each caching the XOR of its hashes,
// so a fingerprint over n elements costs about n/256 + 512 XORs. Not safe for concurrent use.
type Index struct {
	chunks []*chunk
	starts []int // starts[i]: global position of chunks[i]'s first element; valid unless dirty
	dirty  bool
	n      int

	pubsub, content interner
}

type elem struct {
	id              ID
	pubsub, content uint32
}

type chunk struct {
	elems []elem
	xor   message.Hash
}

func (c *chunk) last() ID { return c.elems[len(c.elems)-1].id }

func (c *chunk) rehash() {
	c.xor = message.Hash{}
	for i := range c.elems {
		xorInto(&c.xor, &c.elems[i].id.Hash)
	}
}

func xorInto(dst, src *message.Hash) {
	for i := range dst {
		dst[i] ^= src[i]
	}
}

// Len is the number of elements.
func (ix *Index) Len() int { return ix.n }

// Insert adds id with its topics; it reports false for an ID already present.
func (ix *Index) Insert(id ID, pubsubTopic, contentTopic string) bool {
	if len(ix.chunks) == 0 {
		ix.chunks = []*chunk{{}}
	}
	ci := sort.Search(len(ix.chunks), func(i int) bool {
		c := ix.chunks[i]
		return len(c.elems) > 0 && c.last().Compare(id) >= 0
	})
	if ci == len(ix.chunks) {
		ci--
	}
	c := ix.chunks[ci]
	pos, found := slices.BinarySearchFunc(c.elems, id, func(e elem, t ID) int { return e.id.Compare(t) })
	if found {
		return false
	}
	c.elems = slices.Insert(c.elems, pos, elem{id: id, pubsub: ix.pubsub.acquire(pubsubTopic), content: ix.content.acquire(contentTopic)})
	xorInto(&c.xor, &id.Hash)
	if len(c.elems) >= 2*chunkTarget {
		right := &chunk{elems: slices.Clone(c.elems[chunkTarget:])}
		c.elems = slices.Clip(c.elems[:chunkTarget])
		c.rehash()
		right.rehash()
		ix.chunks = slices.Insert(ix.chunks, ci+1, right)
	}
	ix.n++
	ix.dirty = true
	return true
}

// Prune removes every element ordered before `before` and returns how many it removed.
func (ix *Index) Prune(before ID) int {
	removed := 0
	drop := 0
	for drop < len(ix.chunks) && len(ix.chunks[drop].elems) > 0 && ix.chunks[drop].last().Compare(before) < 0 {
		for _, e := range ix.chunks[drop].elems {
			ix.release(e)
		}
		removed += len(ix.chunks[drop].elems)
		drop++
	}
	ix.chunks = slices.Delete(ix.chunks, 0, drop)
	if len(ix.chunks) > 0 {
		c := ix.chunks[0]
		k := sort.Search(len(c.elems), func(i int) bool { return c.elems[i].id.Compare(before) >= 0 })
		if k > 0 {
			for _, e := range c.elems[:k] {
				ix.release(e)
			}
			c.elems = slices.Delete(c.elems, 0, k)
			c.rehash()
			removed += k
		}
	}
	ix.n -= removed
	ix.dirty = ix.dirty || removed > 0
	return removed
}

func (ix *Index) release(e elem) {
	ix.pubsub.release(e.pubsub)
	ix.content.release(e.content)
}

func (ix *Index) index() {
	if !ix.dirty {
		return
	}
	ix.starts = ix.starts[:0]
	pos := 0
	for _, c := range ix.chunks {
		ix.starts = append(ix.starts, pos)
		pos += len(c.elems)
	}
	ix.dirty = false
}

// lowerBound is the position of the first element >= id.
func (ix *Index) lowerBound(id ID) int {
	return ix.bound(id, func(e ID) bool { return e.Compare(id) >= 0 })
}

// upperBound is the position of the first element > id.
func (ix *Index) upperBound(id ID) int {
	return ix.bound(id, func(e ID) bool { return e.Compare(id) > 0 })
}

func (ix *Index) bound(id ID, ok func(ID) bool) int {
	ix.index()
	ci := sort.Search(len(ix.chunks), func(i int) bool {
		c := ix.chunks[i]
		return len(c.elems) > 0 && ok(c.last())
	})
	if ci == len(ix.chunks) {
		return ix.n
	}
	c := ix.chunks[ci]
	return ix.starts[ci] + sort.Search(len(c.elems), func(i int) bool { return ok(c.elems[i].id) })
}

// walk calls fn for the chunk pieces covering positions [lo, hi); whole is true when the
// piece is an entire chunk.
func (ix *Index) walk(lo, hi int, fn func(c *chunk, from, to int, whole bool)) {
	ix.index()
	if lo >= hi {
		return
	}
	ci := sort.Search(len(ix.starts), func(i int) bool { return ix.starts[i] > lo }) - 1
	for ; ci < len(ix.chunks) && ix.starts[ci] < hi; ci++ {
		c, s := ix.chunks[ci], ix.starts[ci]
		from, to := max(lo-s, 0), min(hi-s, len(c.elems))
		if from < to {
			fn(c, from, to, from == 0 && to == len(c.elems))
		}
	}
}

// fingerprint XORs the hashes of the elements at [lo, hi) that f admits.
func (ix *Index) fingerprint(lo, hi int, f *filter) message.Hash {
	var fp message.Hash
	ix.walk(lo, hi, func(c *chunk, from, to int, whole bool) {
		if whole && f.all {
			xorInto(&fp, &c.xor)
			return
		}
		for i := from; i < to; i++ {
			if f.admits(c.elems[i]) {
				xorInto(&fp, &c.elems[i].id.Hash)
			}
		}
	})
	return fp
}

// ids returns the IDs at [lo, hi) that f admits, ascending.
func (ix *Index) ids(lo, hi int, f *filter) []ID {
	out := make([]ID, 0, hi-lo)
	ix.walk(lo, hi, func(c *chunk, from, to int, _ bool) {
		for i := from; i < to; i++ {
			if f.admits(c.elems[i]) {
				out = append(out, c.elems[i].id)
			}
		}
	})
	return out
}

// has reports whether id is present.
func (ix *Index) has(id ID) bool {
	lo := ix.lowerBound(id)
	return lo < ix.upperBound(id)
}

// filter selects elements by topic. A nil set admits every topic; all short-cuts the check
// when the sets admit every topic the index currently holds.
type filter struct {
	pubsub, content map[uint32]bool
	all             bool
}

func (f *filter) admits(e elem) bool {
	if f.all {
		return true
	}
	return (f.pubsub == nil || f.pubsub[e.pubsub]) && (f.content == nil || f.content[e.content])
}

// newFilter resolves topic strings to the index's slots. Topics the index does not hold match
// nothing; an empty list admits everything.
func (ix *Index) newFilter(pubsubTopics, contentTopics []string) *filter {
	f := &filter{}
	var allP, allC bool
	f.pubsub, allP = ix.pubsub.set(pubsubTopics)
	f.content, allC = ix.content.set(contentTopics)
	f.all = allP && allC
	return f
}

// interner maps topic strings to small reusable slots with reference counts, so an element
// costs 8 bytes of topics and slots freed by pruning are reused.
type interner struct {
	ids   map[string]uint32
	names []string
	refs  []int
	free  []uint32
}

func (in *interner) acquire(s string) uint32 {
	if in.ids == nil {
		in.ids = map[string]uint32{}
	}
	if id, ok := in.ids[s]; ok {
		in.refs[id]++
		return id
	}
	var id uint32
	if n := len(in.free); n > 0 {
		id, in.free = in.free[n-1], in.free[:n-1]
		in.names[id], in.refs[id] = s, 1
	} else {
		id = uint32(len(in.names))
		in.names, in.refs = append(in.names, s), append(in.refs, 1)
	}
	in.ids[s] = id
	return id
}

func (in *interner) release(id uint32) {
	in.refs[id]--
	if in.refs[id] == 0 {
		delete(in.ids, in.names[id])
		in.names[id] = ""
		in.free = append(in.free, id)
	}
}

// set returns the slots of topics (nil for an empty list) and whether it covers every live slot.
func (in *interner) set(topics []string) (map[uint32]bool, bool) {
	if len(topics) == 0 {
		return nil, true
	}
	m := make(map[uint32]bool, len(topics))
	for _, t := range topics {
		if id, ok := in.ids[t]; ok {
			m[id] = true
		}
	}
	return m, len(m) == len(in.ids)
}
