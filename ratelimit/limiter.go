package ratelimit

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// Limiter is a token bucket per peer: Volume requests at once, refilled over Period.
// Memory is bounded by the peers seen in the last Period: a peer idle for a whole period has a
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
	lim  *rate.Limiter
	last time.Time
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

// Allow consumes one token of p's bucket and reports whether one was available.
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
	if b == nil {
		every := l.setting.Period / time.Duration(l.setting.Volume)
		if every <= 0 {
			every = time.Nanosecond
		}
		b = &bucket{lim: rate.NewLimiter(rate.Every(every), l.setting.Volume)}
		l.peers[p] = b
	}
	b.last = now
	return b.lim.AllowN(now, 1)
}

// sweep forgets peers idle for at least a period; amortized, it runs once a period.
func (l *Limiter) sweep(now time.Time) {
	for p, b := range l.peers {
		if now.Sub(b.last) >= l.setting.Period {
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
