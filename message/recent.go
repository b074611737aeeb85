package message

import (
	"encoding/binary"
	"sync"
	"time"
)

// RecentHashes remembers the last max message hashes, each for ttl (0: until pushed out by
// newer ones), so that a duplicate can be recognised without keeping the messages. Bounded
// in entries; safe for concurrent use.
type RecentHashes struct {
	mu  sync.Mutex
	max int
	ttl time.Duration
	// at holds Unix nanoseconds, not time.Time: a map without pointers is not scanned by the
	// garbage collector, and this one holds up to 65,536 entries in relay (issue 14). It is
	// keyed by the hash's first 8 bytes (key), which takes a third of the memory of full
	// hashes: for SHA-256 output two messages share a key with probability 2^-64, and making a
	// message that matches another's key takes about 2^64 tries.
	at    map[uint64]int64
	order []uint64 // ring, oldest at next when full
	next  int
}

// NewRecentHashes holds at most bound hashes (at least 1).
func NewRecentHashes(bound int, ttl time.Duration) *RecentHashes {
	bound = max(bound, 1)
	return &RecentHashes{max: bound, ttl: ttl, at: make(map[uint64]int64), order: make([]uint64, 0, min(bound, 1024))}
}

// Add records hash as seen at now and reports whether it was new: not seen within ttl.
func (r *RecentHashes) Add(hash Hash, now time.Time) bool {
	h := key(hash)
	r.mu.Lock()
	defer r.mu.Unlock()
	ns := now.UnixNano()
	if t, ok := r.at[h]; ok {
		r.at[h] = ns
		return !r.within(t, ns)
	}
	if len(r.order) < r.max {
		r.order = append(r.order, h)
	} else {
		delete(r.at, r.order[r.next])
		r.order[r.next] = h
		r.next = (r.next + 1) % len(r.order)
	}
	r.at[h] = ns
	return true
}

// Has reports whether hash was added within ttl of now, without recording it.
func (r *RecentHashes) Has(hash Hash, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.at[key(hash)]
	return ok && r.within(t, now.UnixNano())
}

// within reports whether a hash recorded at t (Unix ns) is still seen at now: ttl 0 never forgets.
func (r *RecentHashes) within(t, now int64) bool {
	return r.ttl <= 0 || time.Duration(now-t) <= r.ttl
}

func key(h Hash) uint64 { return binary.LittleEndian.Uint64(h[:8]) }

// Len is the number of hashes held.
func (r *RecentHashes) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.at)
}
