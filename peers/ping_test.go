package peers

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
)

// TestKeepAlivePingsConcurrentAndOffTheLoop: peers that never answer a ping hold a ping slot
// each, not the maintenance loop: all of them are pinged at once, the loop keeps pruning
// meanwhile, and Close stops the pings in flight.
func TestKeepAlivePingsConcurrentAndOffTheLoop(t *testing.T) {
	h := newHost(t, "")
	var mu sync.Mutex
	hung := map[string]bool{}
	var silent []host.Host
	for range 3 {
		o := newHost(t, "")
		o.SetStreamHandler(ping.ID, func(s network.Stream) { // read, never answer
			mu.Lock()
			hung[o.ID().String()] = true
			mu.Unlock()
			buf := make([]byte, 32)
			for { // until the pinger gives up and resets the stream
				if _, err := s.Read(buf); err != nil {
					return
				}
			}
		})
		silent = append(silent, o)
	}
	for _, o := range silent {
		if err := o.Connect(context.Background(), info(h)); err != nil {
			t.Fatal(err)
		}
	}
	// Connected before the first round: a round does not start before the last one ended.
	m := New(h, Config{Interval: 50 * time.Millisecond, KeepAlive: 50 * time.Millisecond, Policy: Policy{Cluster: 16, MaxConnections: 10}})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every silent peer pinged at once", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(hung) == len(silent)
	})
	// The maintenance loop still runs while the pings hang: a lower limit prunes at once.
	m.SetPolicy(Policy{Cluster: 16, MaxConnections: 1, RelayRatio: 1, ServiceRatio: 1})
	eventually(t, "pruning while pings hang", func() bool { return len(h.Network().Peers()) <= 1 })
	done := make(chan struct{})
	go func() { _ = m.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(pingTimeout / 2):
		t.Fatal("Close waited for the hung pings")
	}
}
