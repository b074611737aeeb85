package peers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/enr"
)

func newHost(t *testing.T, listen string, protos ...protocol.ID) host.Host {
	t.Helper()
	if listen == "" {
		listen = "/ip4/127.0.0.1/tcp/0"
	}
	h, err := libp2p.New(libp2p.ListenAddrStrings(listen), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range protos {
		h.SetStreamHandler(p, func(s network.Stream) { s.Close() })
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func info(h host.Host) peer.AddrInfo { return peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()} }

func startManager(t *testing.T, h host.Host, cfg Config) *Manager {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = 50 * time.Millisecond
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 50 * time.Millisecond
	}
	m := New(h, cfg)
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// eventually polls cond until it holds or 15 s pass (a liveness bound, not a speed check).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func connected(h host.Host, p peer.ID) bool { return h.Network().Connectedness(p) == network.Connected }

func TestAddCandidate(t *testing.T) {
	h := newHost(t, "")
	other := newHost(t, "")
	m := New(h, Config{Policy: Policy{Cluster: 16, PeerStoreCapacity: 2}})
	addr := multiaddr.StringCast("/ip4/127.0.0.1/tcp/1")
	id := func(i int) peer.ID {
		k, _, _ := crypto.GenerateSecp256k1Key(nil)
		p, _ := peer.IDFromPrivateKey(k)
		_ = i
		return p
	}
	own := &enr.Info{Caps: enr.Relay, Shards: &enr.RelayShards{Cluster: 16, Shards: []uint16{3}}}
	foreign := &enr.Info{Caps: enr.Relay, Shards: &enr.RelayShards{Cluster: 1, Shards: []uint16{0}}}
	cases := []struct {
		name string
		ai   peer.AddrInfo
		info *enr.Info
		want bool
	}{
		{"self", peer.AddrInfo{ID: h.ID(), Addrs: []multiaddr.Multiaddr{addr}}, own, false},
		{"no address", peer.AddrInfo{ID: id(0)}, own, false},
		{"other cluster", peer.AddrInfo{ID: id(1), Addrs: []multiaddr.Multiaddr{addr}}, foreign, false},
		{"own cluster", info(other), own, true},
		{"no enr", peer.AddrInfo{ID: id(2), Addrs: []multiaddr.Multiaddr{addr}}, nil, true},
		{"evicts when full", peer.AddrInfo{ID: id(3), Addrs: []multiaddr.Multiaddr{addr}}, nil, true},
	}
	for _, tc := range cases {
		if got := m.AddCandidate(tc.ai, OriginDiscv5, tc.info); got != tc.want {
			t.Errorf("%s: AddCandidate = %v, want %v", tc.name, got, tc.want)
		}
	}
	if m.Len() != 2 {
		t.Fatalf("capacity 2 holds %d peers", m.Len())
	}
	if o := m.Origin(other.ID()); o != OriginDiscv5 && m.Len() == 2 {
		// other may have been evicted (oldest); then its origin is unknown.
		if o != OriginUnknown {
			t.Fatalf("origin %q", o)
		}
	}
	m.SetOrigin(id(9), OriginDNS)
	if s, ok := m.Shards(other.ID()); ok && !s.Contains(3) {
		t.Fatalf("shards %v", s)
	}
}

type fakeRelay struct {
	h     host.Host
	topic string
	mu    sync.Mutex
}

func (f *fakeRelay) Topics() []string { return []string{f.topic} }

// TopicPeers counts every connected relay peer as on the topic.
func (f *fakeRelay) TopicPeers(string) []peer.ID {
	var out []peer.ID
	for _, p := range f.h.Network().Peers() {
		if ok, _ := f.h.Peerstore().SupportsProtocols(p, RelayProtocol); len(ok) > 0 {
			out = append(out, p)
		}
	}
	return out
}
func (f *fakeRelay) MeshPeers(t string) []peer.ID { return nil }

func (f *fakeRelay) Graylisted() map[peer.ID]float64  { return nil }
func (f *fakeRelay) GraylistChanged() <-chan struct{} { return nil }

func TestFeedTopicPrefersShard(t *testing.T) {
	h := newHost(t, "")
	fr := &fakeRelay{h: h, topic: "/waku/2/rs/16/3"}
	m := startManager(t, h, Config{Policy: Policy{Cluster: 16, Dlo: 2}})
	var onShard, offShard []host.Host
	for i := 0; i < 3; i++ {
		a := newHost(t, "", RelayProtocol)
		onShard = append(onShard, a)
		m.AddCandidate(info(a), OriginDiscv5, &enr.Info{Caps: enr.Relay, Shards: &enr.RelayShards{Cluster: 16, Shards: []uint16{3}}})
		b := newHost(t, "", RelayProtocol)
		offShard = append(offShard, b)
		m.AddCandidate(info(b), OriginDiscv5, &enr.Info{Caps: enr.Relay, Shards: &enr.RelayShards{Cluster: 16, Shards: []uint16{5}}})
	}
	store := newHost(t, "", "/vac/waku/store-query/3.0.0")
	m.AddCandidate(info(store), OriginDiscv5, &enr.Info{Caps: enr.Store, Shards: &enr.RelayShards{Cluster: 16, Shards: []uint16{3}}})
	m.SetRelay(fr, 0)
	eventually(t, "Dlo relay peers", func() bool { return len(fr.TopicPeers("")) >= 2 })
	for _, b := range offShard {
		if connected(h, b.ID()) {
			t.Fatalf("dialed a peer of another shard")
		}
	}
	if connected(h, store.ID()) {
		t.Fatal("dialed a non-relay peer to feed a mesh")
	}
	// Once at Dlo the manager stops dialing.
	time.Sleep(300 * time.Millisecond)
	n := 0
	for _, a := range onShard {
		if connected(h, a.ID()) {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d peers on the shard connected, want exactly Dlo=2", n)
	}
}

// A topic that loses a peer is refilled at once, not at the next pass (an hour away here),
// even when the first candidate tried is the peer that just went away.
func TestTopicRefilledOnDisconnect(t *testing.T) {
	h := newHost(t, "")
	fr := &fakeRelay{h: h, topic: "/waku/2/rs/16/3"}
	m := startManager(t, h, Config{Policy: Policy{Cluster: 16, Dlo: 1}, Interval: time.Hour})
	hosts := map[peer.ID]host.Host{}
	for range 2 {
		a := newHost(t, "", RelayProtocol)
		hosts[a.ID()] = a
		m.AddCandidate(info(a), OriginDiscv5, &enr.Info{Caps: enr.Relay, Shards: &enr.RelayShards{Cluster: 16, Shards: []uint16{3}}})
	}
	m.SetRelay(fr, 0)
	eventually(t, "a relay peer", func() bool { return len(fr.TopicPeers("")) == 1 })
	gone := fr.TopicPeers("")[0]
	hosts[gone].Close()
	eventually(t, "the other relay peer", func() bool {
		ps := fr.TopicPeers("")
		return len(ps) == 1 && ps[0] != gone
	})
}

func TestSelectPeer(t *testing.T) {
	h := newHost(t, "")
	m := startManager(t, h, Config{Policy: Policy{Cluster: 16}})
	const storeProto = "/vac/waku/store-query/3.0.0"
	shard3 := newHost(t, "", storeProto)
	shard5 := newHost(t, "", storeProto)
	enrOnly := newHost(t, "", "/vac/waku/lightpush/3.0.0")
	m.AddCandidate(info(shard5), OriginDiscv5, &enr.Info{Caps: enr.Store, Shards: &enr.RelayShards{Cluster: 16, Shards: []uint16{5}}})
	m.AddCandidate(info(shard3), OriginDiscv5, &enr.Info{Caps: enr.Store, Shards: &enr.RelayShards{Cluster: 16, Shards: []uint16{3}}})
	m.AddCandidate(info(enrOnly), OriginPeerExchange, &enr.Info{Caps: enr.Lightpush})

	for i := 0; i < 20; i++ {
		p, err := m.SelectPeer(storeProto, "/waku/2/rs/16/3")
		if err != nil || p != shard3.ID() {
			t.Fatalf("store on shard 3: %s %v", p, err)
		}
	}
	if p, err := m.SelectPeer("/vac/waku/lightpush/3.0.0", ""); err != nil || p != enrOnly.ID() {
		t.Fatalf("lightpush by ENR caps: %s %v", p, err)
	}
	if _, err := m.SelectPeer("/vac/waku/filter-subscribe/2.0.0-beta1", ""); err == nil {
		t.Fatal("found a filter peer where none exists")
	}
	if _, err := m.SelectPeer(storeProto, "/waku/2/rs/16/9"); err == nil {
		t.Fatal("found a store peer on a shard nobody serves")
	}
	// Identify (after a connection) is enough without an ENR.
	plain := newHost(t, "", "/vac/waku/filter-subscribe/2.0.0-beta1")
	if err := h.Connect(context.Background(), info(plain)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "identify", func() bool {
		p, err := m.SelectPeer("/vac/waku/filter-subscribe/2.0.0-beta1", "")
		return err == nil && p == plain.ID()
	})
}

// TestIPColocationLimit: peers racing in from one IP are refused before their handshake
// once the IP holds the limit, so exactly the limit get through.
func TestIPColocationLimit(t *testing.T) {
	g := NewGater(2)
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(), libp2p.ConnectionGater(g))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	startManager(t, h, Config{Policy: Policy{Cluster: 16, IPColocationLimit: 2}, Gater: g})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 20; i++ {
		o := newHost(t, "")
		wg.Add(1)
		go func() { // inbound, all from 127.0.0.1, all at once
			defer wg.Done()
			if o.Connect(context.Background(), info(h)) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 2 || len(h.Network().Peers()) != 2 {
		t.Fatalf("%d connects succeeded, %d peers connected; limit 2", ok, len(h.Network().Peers()))
	}
	// A slot frees when its connection closes.
	_ = h.Network().ClosePeer(h.Network().Peers()[0])
	late := newHost(t, "")
	eventually(t, "freed slot reused", func() bool { return late.Connect(context.Background(), info(h)) == nil })
}

func TestRelayShareLimit(t *testing.T) {
	h := newHost(t, "")
	startManager(t, h, Config{Policy: Policy{Cluster: 16, MaxRelayPeers: 2, MaxConnections: 10}})
	for i := 0; i < 5; i++ {
		o := newHost(t, "", RelayProtocol)
		if err := o.Connect(context.Background(), info(h)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "relay pruning", func() bool { return len(h.Network().Peers()) == 2 })
}

func TestStaticPeerReconnected(t *testing.T) {
	k, _, _ := crypto.GenerateSecp256k1Key(nil)
	port := freePort(t)
	listen := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)
	start := func() host.Host {
		s, err := libp2p.New(libp2p.Identity(k), libp2p.ListenAddrStrings(listen), libp2p.DisableRelay())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start()
	h := newHost(t, "")
	// Passes an hour apart: the disconnect and each redial's backoff must wake the loop.
	startManager(t, h, Config{Static: []peer.AddrInfo{info(s)}, MaxBackoff: 200 * time.Millisecond, Interval: time.Hour})
	eventually(t, "static peer connected", func() bool { return connected(h, s.ID()) })
	s.Close()
	eventually(t, "static peer gone", func() bool { return !connected(h, s.ID()) })
	time.Sleep(500 * time.Millisecond) // a few failed redials
	s = start()
	defer s.Close()
	eventually(t, "static peer reconnected", func() bool { return connected(h, s.ID()) })
}

func TestFailingCandidateForgotten(t *testing.T) {
	h := newHost(t, "")
	fr := &fakeRelay{h: h, topic: "/waku/2/rs/16/3"}
	m := startManager(t, h, Config{Policy: Policy{Cluster: 16}, Relay: fr, MaxFailures: 2, MaxBackoff: 100 * time.Millisecond})
	k, _, _ := crypto.GenerateSecp256k1Key(nil)
	id, _ := peer.IDFromPrivateKey(k)
	dead := peer.AddrInfo{ID: id, Addrs: []multiaddr.Multiaddr{multiaddr.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", freePort(t)))}}
	m.AddCandidate(dead, OriginDiscv5, nil)
	eventually(t, "dead candidate forgotten", func() bool { return m.Len() == 0 })
}
