package discovery

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/discovery/dnsdisc"
	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/peerexchange"
	"github.com/wakunode/wakunode/peers"
)

var quiet = slog.New(slog.DiscardHandler)

func newID(t *testing.T) peer.ID {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// record is an ENR's decoded form with one address of its own and one of another peer.
func record(t *testing.T, port int) enr.Info {
	t.Helper()
	id, other := newID(t), newID(t)
	own := multiaddr.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", port, id))
	foreign := multiaddr.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", port+1, other))
	return enr.Info{PeerID: id, Addrs: []multiaddr.Multiaddr{own, foreign}}
}

// collect runs the stream into a channel until the test ends.
func collect(t *testing.T, s *Stream) <-chan Candidate {
	t.Helper()
	got := make(chan Candidate, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.Run(ctx, func(c Candidate) {
			select {
			case got <- c:
			case <-ctx.Done():
			}
		})
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return got
}

func next(t *testing.T, ch <-chan Candidate) Candidate {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no candidate")
		return Candidate{}
	}
}

func TestStreamDeliversInOrderAndCloses(t *testing.T) {
	s := NewStream(1)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []string
	ran := make(chan struct{})
	consumed := make(chan struct{}, 3)
	go func() {
		s.Run(ctx, func(c Candidate) {
			mu.Lock()
			got = append(got, c.Origin)
			mu.Unlock()
			consumed <- struct{}{}
		})
		close(ran)
	}()
	for _, o := range []string{"a", "b", "c"} { // capacity 1: Emit waits for the consumer
		if !s.Emit(Candidate{Origin: o}) {
			t.Fatalf("emit %s refused", o)
		}
	}
	for range 3 {
		<-consumed
	}
	mu.Lock()
	if fmt.Sprint(got) != "[a b c]" {
		t.Errorf("consumed %v, want [a b c]", got)
	}
	mu.Unlock()
	cancel()
	<-ran
	if s.Emit(Candidate{Origin: "late"}) {
		t.Fatal("emit after Run ended was accepted")
	}
}

func TestEmitRecordKeepsOnlyTheRecordsOwnPeer(t *testing.T) {
	s := NewStream(0)
	got := collect(t, s)
	info := record(t, 1000)
	s.EmitRecord(info, peers.OriginDiscv5)
	s.Emit(Candidate{Origin: "marker"})
	c := next(t, got)
	if c.Peer.ID != info.PeerID || c.Origin != peers.OriginDiscv5 || c.Record == nil || c.Record.PeerID != info.PeerID {
		t.Fatalf("candidate %+v, want the record's own peer from discv5", c)
	}
	if m := next(t, got); m.Origin != "marker" {
		t.Fatalf("the foreign address became a candidate: %+v", m)
	}
}

type fakeTree struct {
	mu    sync.Mutex
	fails int
	calls int
	nodes []dnsdisc.Node
}

func (f *fakeTree) Sync(ctx context.Context, url string) ([]dnsdisc.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.fails {
		return nil, errors.New("SERVFAIL")
	}
	return f.nodes, nil
}

// A failing tree is retried; once it syncs, every node becomes a DNS candidate and those with
// udp seed discv5.
func TestSyncDNSRetriesThenEmits(t *testing.T) {
	withUDP, plain := record(t, 2000), record(t, 3000)
	rec := &enode.Node{}
	tree := &fakeTree{fails: 2, nodes: []dnsdisc.Node{{Info: withUDP, Record: rec, HasUDP: true}, {Info: plain}}}
	var seeded []*enode.Node
	s := NewStream(0)
	got := collect(t, s)
	n := SyncDNS(context.Background(), DNSConfig{Syncer: tree, URL: "enrtree://x@example.org", Backoff: time.Millisecond,
		SeedUDP: func(r *enode.Node) { seeded = append(seeded, r) }, Logger: quiet}, s)
	if n != 2 || tree.calls != 3 {
		t.Fatalf("synced %d nodes in %d calls, want 2 in 3", n, tree.calls)
	}
	for _, want := range []peer.ID{withUDP.PeerID, plain.PeerID} {
		if c := next(t, got); c.Peer.ID != want || c.Origin != peers.OriginDNS {
			t.Fatalf("candidate %s from %s, want %s from DNS", c.Peer.ID, c.Origin, want)
		}
	}
	if len(seeded) != 1 || seeded[0] != rec {
		t.Fatalf("seeded discv5 with %d records, want the one with udp", len(seeded))
	}
}

func TestSyncDNSStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n := SyncDNS(ctx, DNSConfig{Syncer: &fakeTree{fails: 1 << 30}, Logger: quiet}, NewStream(0)); n != 0 {
		t.Fatalf("synced %d with a dead context", n)
	}
}

type fakeExchange struct {
	mu    sync.Mutex
	asked []peer.ID
	reply []peerexchange.Peer
	round chan struct{}
}

func (f *fakeExchange) Request(_ context.Context, p peer.ID, n uint64) ([]peerexchange.Peer, error) {
	f.mu.Lock()
	f.asked = append(f.asked, p)
	f.mu.Unlock()
	select {
	case f.round <- struct{}{}:
	default:
	}
	if p == "" {
		return nil, errors.New("unreachable")
	}
	return f.reply, nil
}

// Every responder is asked each round, rounds come fast while few peers are known, and what
// they return becomes peer exchange candidates.
func TestPollPeerExchange(t *testing.T) {
	found := record(t, 4000)
	px := &fakeExchange{reply: []peerexchange.Peer{{Info: found}}, round: make(chan struct{}, 16)}
	a, b := newID(t), newID(t)
	s := NewStream(0)
	got := collect(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		PollPeerExchange(ctx, PeerExchangeConfig{Client: px, Targets: []peer.ID{a, "", b}, Interval: time.Hour,
			FastInterval: 10 * time.Millisecond, Known: func() int { return 0 }, Logger: quiet}, s)
		close(done)
	}()
	for range 6 { // two rounds of three: the fast interval applies, not the hour
		<-px.round
	}
	for range 4 {
		if c := next(t, got); c.Peer.ID != found.PeerID || c.Origin != peers.OriginPeerExchange {
			t.Fatalf("candidate %+v, want the exchanged peer", c)
		}
	}
	cancel()
	<-done
	px.mu.Lock()
	defer px.mu.Unlock()
	if px.asked[0] != a || px.asked[1] != "" || px.asked[2] != b {
		t.Fatalf("asked %v, want every target in order", px.asked[:3])
	}
}

func TestNextFastWait(t *testing.T) {
	const fast, interval = 5 * time.Second, time.Minute
	tests := []struct {
		prev time.Duration
		grew bool
		want time.Duration
	}{
		{fast, true, fast},
		{40 * time.Second, true, fast}, // new peers: back to fast
		{fast, false, 10 * time.Second},
		{20 * time.Second, false, 40 * time.Second},
		{40 * time.Second, false, interval}, // capped
		{interval, false, interval},
	}
	for _, tt := range tests {
		if got := nextFastWait(tt.prev, fast, interval, tt.grew); got != tt.want {
			t.Errorf("nextFastWait(%s, grew=%v) = %s, want %s", tt.prev, tt.grew, got, tt.want)
		}
	}
}

// A responder whose answers never add a peer is asked less and less often: the pause doubles
// each round (10, 20, 40, 80 ms), so the fifth round comes at least 80 ms after the fourth.
func TestPollPeerExchangeBacksOffWhenNothingNew(t *testing.T) {
	px := &fakeExchange{round: make(chan struct{}, 16)}
	s := NewStream(0)
	_ = collect(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		PollPeerExchange(ctx, PeerExchangeConfig{Client: px, Targets: []peer.ID{newID(t)}, Interval: time.Hour,
			FastInterval: 10 * time.Millisecond, Known: func() int { return 0 }, Logger: quiet}, s)
		close(done)
	}()
	var at []time.Time
	for range 5 {
		<-px.round
		at = append(at, time.Now())
	}
	cancel()
	<-done
	if gap := at[4].Sub(at[3]); gap < 80*time.Millisecond {
		t.Fatalf("fifth round %s after the fourth, want at least 80 ms (doubling pauses)", gap)
	}
}
