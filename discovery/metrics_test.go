package discovery

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/discovery/dnsdisc"
	"github.com/wakunode/wakunode/peerexchange"
)

type countingMetrics struct {
	mu               sync.Mutex
	failed, received int
	discovered       []int
	round            chan struct{}
}

func (m *countingMetrics) Failed() { m.mu.Lock(); m.failed++; m.mu.Unlock() }
func (m *countingMetrics) Discovered(n int) {
	m.mu.Lock()
	m.discovered = append(m.discovered, n)
	m.mu.Unlock()
}
func (m *countingMetrics) Received(got []peerexchange.Peer) {
	m.mu.Lock()
	m.received += len(got)
	m.mu.Unlock()
	m.round <- struct{}{}
}

// Each failed sync attempt and the successful one are reported.
func TestSyncDNSMetrics(t *testing.T) {
	m := &countingMetrics{}
	tree := &fakeTree{fails: 2, nodes: []dnsdisc.Node{{Info: record(t, 2000)}, {Info: record(t, 3000)}}}
	SyncDNS(context.Background(), DNSConfig{Syncer: tree, URL: "enrtree://x@example.org", Backoff: time.Millisecond,
		Logger: quiet, Metrics: m}, NewStream(0))
	if m.failed != 2 || len(m.discovered) != 1 || m.discovered[0] != 2 {
		t.Fatalf("failed %d, discovered %v; want 2 and [2]", m.failed, m.discovered)
	}
}

// A failed request and the peers of each answer are reported.
func TestPollPeerExchangeMetrics(t *testing.T) {
	px := &fakeExchange{reply: []peerexchange.Peer{{Info: record(t, 4000)}, {Info: record(t, 4001)}}, round: make(chan struct{}, 16)}
	m := &countingMetrics{round: make(chan struct{})}
	targets := []peer.ID{"", newID(t)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		PollPeerExchange(ctx, PeerExchangeConfig{Client: px, Targets: targets, Interval: time.Hour,
			Known: func() int { return 100 }, Logger: quiet, Metrics: m}, NewStream(0))
		close(done)
	}()
	<-m.round // the answer of the second target, after the first failed
	cancel()
	<-done
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failed != 1 || m.received != 2 {
		t.Fatalf("failed %d, received %d; want 1 and 2", m.failed, m.received)
	}
}
