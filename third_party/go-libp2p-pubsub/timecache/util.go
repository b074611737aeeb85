package timecache

import (
	"context"
	"sync"
	"time"
)

const backgroundSweepInterval = time.Minute

// sweepInterval is wakunode's patch (third_party/README.md): sweep every TTL when that is
// under a minute (but at most once a second), so that an ID lives its TTL, not up to a
// minute more.
func sweepInterval(ttl time.Duration) time.Duration {
	return min(max(ttl, time.Second), backgroundSweepInterval)
}

func background(ctx context.Context, lk sync.Locker, m map[string]time.Time, tickerDur time.Duration) {
	ticker := time.NewTicker(tickerDur)
	defer ticker.Stop()

	for {
		select {
		case now := <-ticker.C:
			sweep(lk, m, now)

		case <-ctx.Done():
			return
		}
	}
}

func sweep(lk sync.Locker, m map[string]time.Time, now time.Time) {
	lk.Lock()
	defer lk.Unlock()

	for k, expiry := range m {
		if expiry.Before(now) {
			delete(m, k)
		}
	}
}
