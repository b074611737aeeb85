package peers

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// prefer ranks one peer first and records the candidates it was shown.
type prefer struct {
	best peer.ID

	mu   sync.Mutex
	seen [][]peer.ID
}

func (r *prefer) Rank(c []peer.ID) []peer.ID {
	r.mu.Lock()
	r.seen = append(r.seen, slices.Clone(c))
	r.mu.Unlock()
	out := make([]peer.ID, 0, len(c))
	for _, p := range c {
		if p == r.best {
			out = append(out, p)
		}
	}
	for _, p := range c {
		if p != r.best {
			out = append(out, p)
		}
	}
	return out
}

// TestSelectPeerAsksRanker: within the best tier (connected peers) the ranker's first choice
// wins every time; a known but disconnected peer is never shown to it; without a ranker the
// choice is random again.
func TestSelectPeerAsksRanker(t *testing.T) {
	const storeProto = "/vac/waku/store-query/3.0.0"
	h := newHost(t, "")
	m := startManager(t, h, Config{Policy: Policy{Cluster: 16}})
	a, b, c := newHost(t, "", storeProto), newHost(t, "", storeProto), newHost(t, "", storeProto)
	for _, o := range []peer.AddrInfo{info(a), info(b)} {
		if err := h.Connect(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	h.Peerstore().AddAddrs(c.ID(), c.Addrs(), permanentTTL) // dialable, not connected: a worse tier
	_ = h.Peerstore().AddProtocols(c.ID(), storeProto)
	// Random choice reaches both connected peers (identify tells us their protocols).
	picked := map[peer.ID]bool{}
	eventually(t, "both connected store peers chosen at random", func() bool {
		p, err := m.SelectPeer(storeProto, "")
		picked[p] = err == nil
		return picked[a.ID()] && picked[b.ID()]
	})

	r := &prefer{best: b.ID()}
	m.SetRanker(r)
	for i := 0; i < 20; i++ {
		if p, err := m.SelectPeer(storeProto, ""); err != nil || p != b.ID() {
			t.Fatalf("selection %d: %s %v, want the ranker's choice %s", i, p, err, b.ID())
		}
	}
	r.mu.Lock()
	for _, seen := range r.seen {
		slices.Sort(seen)
		want := []peer.ID{a.ID(), b.ID()}
		slices.Sort(want)
		if !slices.Equal(seen, want) {
			t.Fatalf("ranker shown %v, want the connected tier %v", seen, want)
		}
	}
	r.mu.Unlock()

	m.SetRanker(nil)
	clear(picked)
	eventually(t, "random choice without a ranker", func() bool {
		p, _ := m.SelectPeer(storeProto, "")
		picked[p] = true
		return picked[a.ID()] && picked[b.ID()]
	})
}
