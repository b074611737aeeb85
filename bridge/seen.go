package bridge

import (
	"sync"
	"time"
)

type key [32]byte

// seenSet remembers keys for a fixed time, bounded in entries (the oldest go first). It
// replaces nwaku's 20-entry FIFO, which forgets a message after 20 others have passed.
type seenSet struct {
	ttl time.Duration
	max int

	mu    sync.Mutex
	m     map[key]seenMark
	queue []seenItem // insertion order = expiry order (one ttl for all)
	head  int
}

type seenMark uint8

const (
	markSeen          seenMark = iota + 1
	markOwn                    // a v2 message this bridge published: its local echo is ignored quietly
	markHeldForV1              // v2 data waiting out Config.V1Hold before it is sealed for v1
	markArrivedOverV1          // held data whose original envelope came over v1 meanwhile
)

type seenItem struct {
	k  key
	at int64
}

func newSeenSet(ttl time.Duration, max int) *seenSet {
	return &seenSet{ttl: ttl, max: max, m: make(map[key]seenMark)}
}

// add records k with mark unless present; it returns the mark already there (0 if none).
func (s *seenSet) add(k key, mark seenMark, now time.Time) seenMark {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evict(now)
	if prev, ok := s.m[k]; ok {
		return prev
	}
	for len(s.m) >= s.max {
		s.pop()
	}
	s.m[k] = mark
	s.queue = append(s.queue, seenItem{k: k, at: now.UnixNano()})
	return 0
}

// replace changes k's mark from old to new; false if k is absent or has another mark.
func (s *seenSet) replace(k key, old, new seenMark) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[k] != old || old == 0 {
		return false
	}
	s.m[k] = new
	return true
}

func (s *seenSet) evict(now time.Time) {
	cutoff := now.Add(-s.ttl).UnixNano()
	for s.head < len(s.queue) && s.queue[s.head].at < cutoff {
		s.pop()
	}
	if s.head > len(s.queue)/2 && s.head > 1024 { // compact the consumed front
		s.queue = append(s.queue[:0:0], s.queue[s.head:]...)
		s.head = 0
	}
}

func (s *seenSet) pop() {
	delete(s.m, s.queue[s.head].k)
	s.queue[s.head] = seenItem{}
	s.head++
}

func (s *seenSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
