// Package backoff is the project's one retry schedule: exponential (doubling from Min up to
// Max) with full jitter, so peers that failed together do not retry together. It is go-libp2p's
// p2p/discovery/backoff with our parameters; nothing here reimplements it.
package backoff

import (
	"math/rand"
	"time"

	lpbackoff "github.com/libp2p/go-libp2p/p2p/discovery/backoff"
)

// Strategy yields successive waits (Delay) and starts over on Reset.
type Strategy = lpbackoff.BackoffStrategy

// Factory makes one Strategy per retried thing (a peer, a loop); they share one locked RNG.
type Factory = lpbackoff.BackoffFactory

// NewFactory returns schedules whose n-th wait is uniform in [lo, min(lo·2ⁿ, hi)]; the first
// wait is lo.
func NewFactory(lo, hi time.Duration) Factory {
	if lo <= 0 {
		lo = time.Millisecond
	}
	hi = max(lo, hi)
	return lpbackoff.NewExponentialBackoff(lo, hi, lpbackoff.FullJitter, lo, 2, 0,
		rand.NewSource(time.Now().UnixNano()))
}

// New returns one schedule (NewFactory(lo, hi)()).
func New(lo, hi time.Duration) Strategy { return NewFactory(lo, hi)() }
