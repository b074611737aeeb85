package peers

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wakunode/wakunode/internal/testlog"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/enr"
)

// scoredRelay reports one peer as graylisted.
type scoredRelay struct {
	fakeRelay
	mu      sync.Mutex
	bad     map[peer.ID]float64
	reads   int
	changed chan struct{}
}

func (s *scoredRelay) Graylisted() map[peer.ID]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return s.bad
}

func (s *scoredRelay) GraylistChanged() <-chan struct{} { return s.changed }

func (s *scoredRelay) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// A peer graylisted between passes is disconnected when the relay signals it, not at the
// next pass (an hour away here).
func TestGraylistSignalDisconnectsAtOnce(t *testing.T) {
	h := newHost(t, "")
	bad := newHost(t, "")
	rl := &scoredRelay{fakeRelay: fakeRelay{h: h, topic: "/waku/2/rs/16/3"}, changed: make(chan struct{}, 1)}
	m := startManager(t, h, Config{Policy: Policy{Cluster: 16}, Interval: time.Hour})
	if err := bad.Connect(context.Background(), info(h)); err != nil {
		t.Fatal(err)
	}
	m.SetRelay(rl, 0)
	eventually(t, "the pass SetRelay asks for", func() bool { return rl.readCount() > 0 })
	rl.mu.Lock()
	rl.bad = map[peer.ID]float64{bad.ID(): -12100}
	rl.mu.Unlock()
	rl.changed <- struct{}{}
	eventually(t, "graylisted peer disconnected", func() bool { return !connected(h, bad.ID()) })
}

// rejections counts PeerRejected by reason.
type rejections struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *rejections) PeerRejected(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[reason]++
}

func (r *rejections) DialResult(bool) {}

func (r *rejections) get(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[reason]
}

func gatedHost(t *testing.T, g *Gater) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(), libp2p.ConnectionGater(g))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// TestGraylistedPeerDisconnectedAndBanned: a peer gossipsub scores below the graylist
// threshold is disconnected, cannot reconnect (either way) during its ban, and can after it.
func TestGraylistedPeerDisconnectedAndBanned(t *testing.T) {
	g := NewGater(0)
	h := gatedHost(t, g)
	bad, good := newHost(t, ""), newHost(t, "")
	rl := &scoredRelay{fakeRelay: fakeRelay{h: h, topic: "/waku/2/rs/16/3"}, bad: map[peer.ID]float64{bad.ID(): -12100}}
	const ban = 2 * time.Second
	rej := &rejections{}
	m := startManager(t, h, Config{Policy: Policy{Cluster: 16}, Gater: g, GraylistBackoff: ban, Metrics: rej})
	for _, o := range []host.Host{bad, good} {
		if err := o.Connect(context.Background(), info(h)); err != nil {
			t.Fatal(err)
		}
	}
	m.SetRelay(rl, 0)
	eventually(t, "graylisted peer disconnected", func() bool { return !connected(h, bad.ID()) && !connected(bad, h.ID()) })
	bannedAt := time.Now()
	if !connected(h, good.ID()) {
		t.Fatal("honest peer was disconnected")
	}
	rl.mu.Lock()
	rl.bad = nil // the score no longer matters: the ban does
	rl.mu.Unlock()
	if rej.get("graylisted") != 1 {
		t.Fatalf("graylist disconnects counted: %d", rej.get("graylisted"))
	}
	// Inbound: refused once the handshake names the peer (the dialer may already believe it
	// is connected: early muxer negotiation), so wait for the refusal and for its side to drop.
	_ = bad.Connect(context.Background(), info(h))
	eventually(t, "inbound refusal", func() bool { return rej.get("banned") >= 1 && !connected(bad, h.ID()) })
	if connected(h, bad.ID()) {
		t.Fatal("banned peer reconnected")
	}
	if err := h.Connect(context.Background(), info(bad)); err == nil {
		t.Fatal("node dialled a banned peer")
	}
	if time.Since(bannedAt) >= ban {
		t.Skip("machine too slow to observe the ban")
	}
	eventually(t, "reconnect after the ban", func() bool {
		_ = bad.Connect(context.Background(), info(h))
		return connected(h, bad.ID())
	})
	if time.Since(bannedAt) < ban-100*time.Millisecond {
		t.Fatalf("reconnected %v after the ban began, ban %v", time.Since(bannedAt), ban)
	}
}

// TestKnownPeersBounded: records made on rejection, shard updates and origins respect
// PeerStoreCapacity.
func TestKnownPeersBounded(t *testing.T) {
	h := newHost(t, "")
	m := New(h, Config{Policy: Policy{Cluster: 16, PeerStoreCapacity: 50}})
	for i := range 1000 {
		k, _, _ := crypto.GenerateEd25519Key(nil)
		id, _ := peer.IDFromPrivateKey(k)
		switch i % 3 {
		case 0:
			m.reject(id)
		case 1:
			m.SetShards(id, enr.RelayShards{Cluster: 16, Shards: []uint16{1}})
		default:
			m.SetOrigin(id, OriginDiscv5)
		}
	}
	if n := m.Len(); n > 50 {
		t.Fatalf("%d known peers, capacity 50", n)
	}
}

// TestUnreachableStaticPeerWarnsOnce: an unreachable static peer is reported at WARN with the
// reason once per failure streak, and retried.
func TestUnreachableStaticPeerWarnsOnce(t *testing.T) {
	h := newHost(t, "")
	k, _, _ := crypto.GenerateEd25519Key(nil)
	id, _ := peer.IDFromPrivateKey(k)
	dead := peer.AddrInfo{ID: id, Addrs: []multiaddr.Multiaddr{multiaddr.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", freePort(t)))}}
	var logs testlog.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	m := startManager(t, h, Config{Static: []peer.AddrInfo{dead}, MaxBackoff: 100 * time.Millisecond, Logger: log})
	eventually(t, "three failed dials", func() bool {
		for _, st := range m.Known() {
			if st.ID == id && st.Fails >= 3 {
				return true
			}
		}
		return false
	})
	if n := logs.Count("static peer unreachable"); n != 1 {
		t.Fatalf("%d unreachable warnings for one failure streak, want 1:\n%s", n, logs.String())
	}
	if logs.Count("level=WARN") != 1 || logs.Count("connection refused") != 1 {
		t.Fatalf("warning lacks level or reason:\n%s", logs.String())
	}
}
