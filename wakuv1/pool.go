package wakuv1

import (
	"errors"
	"sort"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/p2p/enode"
)

// Pool errors.
var (
	ErrDuplicate = errors.New("envelope already in the pool")
	ErrPoolFull  = errors.New("envelope pool is full")
)

// entry is one live envelope. Everything but knownBy is immutable once added.
type entry struct {
	env   *Envelope
	raw   []byte // the encoding forwarded unchanged, so peers compute the same hash
	seq   uint64
	bloom Bloom
	// knownBy lists the peers that sent it to us: they are never sent it back. Guarded by pool.mu.
	knownBy []enode.ID
}

func (e *entry) cost() int { return len(e.raw) + entryOverhead }

// entryOverhead is an estimate of the bookkeeping per entry (map slot, struct, envelope).
const entryOverhead = 256

// pool holds the envelopes that have not expired: it is the node's seen set (an envelope
// seen again before its expiry is a duplicate; after it, it is rejected as expired) and the
// forwarding queue. It is bounded in entries and bytes; a full pool refuses new envelopes.
type pool struct {
	maxEntries, maxBytes int

	mu     sync.Mutex
	byHash map[common.Hash]*entry
	order  []*entry // ascending seq; expired entries are removed in expire
	seq    uint64
	bytes  int
}

func newPool(maxEntries, maxBytes int) *pool {
	return &pool{maxEntries: maxEntries, maxBytes: maxBytes, byHash: map[common.Hash]*entry{}}
}

// add inserts a validated envelope (hash and PoW computed). from is the zero ID for local
// envelopes. A duplicate records that from knows it.
func (p *pool) add(env *Envelope, raw []byte, from enode.ID) error {
	h := env.Hash()
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.byHash[h]; ok {
		if from != (enode.ID{}) && !e.known(from) && len(e.knownBy) < maxKnownBy {
			e.knownBy = append(e.knownBy, from)
		}
		return ErrDuplicate
	}
	e := &entry{env: env, raw: raw, bloom: env.Bloom()}
	if len(p.byHash) >= p.maxEntries || p.bytes+e.cost() > p.maxBytes {
		return ErrPoolFull
	}
	if from != (enode.ID{}) {
		e.knownBy = []enode.ID{from}
	}
	p.seq++
	e.seq = p.seq
	p.byHash[h] = e
	p.order = append(p.order, e)
	p.bytes += e.cost()
	return nil
}

// maxKnownBy bounds the per-envelope list of peers that sent it (the rest get it back once).
const maxKnownBy = 16

func (e *entry) known(id enode.ID) bool {
	for _, k := range e.knownBy {
		if k == id {
			return true
		}
	}
	return false
}

func (p *pool) has(h common.Hash) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.byHash[h]
	return ok
}

// since returns up to limit entries after cursor that id did not send us, and the seq of the
// last entry examined (the caller's next cursor if it sends them all).
func (p *pool) since(cursor uint64, id enode.ID, limit int) (out []*entry, last uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := sort.Search(len(p.order), func(i int) bool { return p.order[i].seq > cursor })
	last = cursor
	for ; i < len(p.order) && len(out) < limit; i++ {
		e := p.order[i]
		last = e.seq
		if !e.known(id) {
			out = append(out, e)
		}
	}
	return out, last
}

// expire drops envelopes whose expiry is before now (Unix seconds) and returns how many.
func (p *pool) expire(now int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.order[:0]
	n := 0
	for _, e := range p.order {
		if int64(e.env.Expiry) < now {
			delete(p.byHash, e.env.Hash())
			p.bytes -= e.cost()
			n++
			continue
		}
		kept = append(kept, e)
	}
	clear(p.order[len(kept):]) // let the dropped entries be collected
	p.order = kept
	return n
}

func (p *pool) size() (entries, bytes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byHash), p.bytes
}
