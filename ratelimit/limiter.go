package ratelimit

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Limiter is nwaku's per-peer bucket: Volume requests per Period, and the whole Volume is
// restored once a Period has passed since the bucket was last filled (not trickled back in
// continuously): 30/1m lets 30 requests through at once and the 31st waits for the minute.
// Memory is bounded by the peers seen in the last Period: a peer whose period is over has a
// full bucket again, so forgetting it changes nothing. The zero of Setting (unlimited) and a
// nil *Limiter allow everything.
type Limiter struct {
	setting Setting
	now     func() time.Time

	mu        sync.Mutex
	peers     map[peer.ID]*bucket
	lastSweep time.Time
}

type bucket struct {
	left   int       // requests left in this period
	filled time.Time // start of this period
}

// NewLimiter returns a per-peer limiter for s. now is the clock; nil means time.Now.
func NewLimiter(s Setting, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{setting: s, now: now, peers: map[peer.ID]*bucket{}}
}

// Setting returns the limiter's setting.
func (l *Limiter) Setting() Setting {
	if l == nil {
		return Unlimited
	}
	return l.setting
}

// Allow consumes one request of p's bucket and reports whether one was left.
func (l *Limiter) Allow(p peer.ID) bool {
	if l == nil || l.setting.IsUnlimited() {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.setting.Period {
		l.sweep(now)
	}
	b := l.peers[p]
	if b == nil || now.Sub(b.filled) >= l.setting.Period {
		b = &bucket{left: l.setting.Volume, filled: now}
		l.peers[p] = b
	}
	if b.left == 0 {
		return false
	}
	b.left--
	return true
}

// sweep forgets peers whose period is over; amortized, it runs once a period.
func (l *Limiter) sweep(now time.Time) {
	for p, b := range l.peers {
		if now.Sub(b.filled) >= l.setting.Period {
			delete(l.peers, p)
		}
	}
	l.lastSweep = now
}

// Len is the number of peers currently remembered.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.peers)
}
