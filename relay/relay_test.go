package relay

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/libp2p/go-libp2p"
	mplex "github.com/libp2p/go-libp2p-mplex"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// pair starts two relays on connected hosts, both subscribed to testTopic, and waits for the mesh.
func pair(t *testing.T, opts ...libp2p.Option) (a, b *Relay, ca, cb *collector, ha, hb host.Host) {
	t.Helper()
	ha, hb = testhost.New(t, opts...), testhost.New(t, opts...)
	ca, cb = newCollector(), newCollector()
	a, b = newRelay(t, ha, testConfig(nil), ca), newRelay(t, hb, testConfig(nil), cb)
	for _, r := range []*Relay{a, b} {
		if err := r.Subscribe(testTopic); err != nil {
			t.Fatal(err)
		}
	}
	testhost.Connect(t, ha, hb)
	waitFor(t, "mesh a<->b", func() bool {
		return slices.Contains(a.MeshPeers(testTopic), hb.ID()) && slices.Contains(b.MeshPeers(testTopic), ha.ID())
	})
	return
}

func TestTransportsRelayBothWays(t *testing.T) {
	tcp := "/ip4/127.0.0.1/tcp/0"
	for _, tc := range []struct {
		name  string
		opts  []libp2p.Option
		check func(t *testing.T, h host.Host, other peer.ID)
	}{
		{name: "tcp-default", opts: []libp2p.Option{libp2p.ListenAddrStrings(tcp)}},
		{name: "yamux-only", opts: []libp2p.Option{libp2p.ListenAddrStrings(tcp), libp2p.Muxer(yamux.ID, yamux.DefaultTransport)},
			check: muxerIs(yamux.ID)},
		{name: "mplex-only", opts: []libp2p.Option{libp2p.ListenAddrStrings(tcp), libp2p.Muxer(mplex.ID, mplex.DefaultTransport)},
			check: muxerIs(mplex.ID)},
		{name: "websocket", opts: []libp2p.Option{libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0/ws")},
			check: func(t *testing.T, h host.Host, other peer.ID) {
				for _, c := range h.Network().ConnsToPeer(other) {
					if !strings.Contains(c.RemoteMultiaddr().String(), "/ws") {
						t.Fatalf("connection is not websocket: %s", c.RemoteMultiaddr())
					}
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, ca, cb, ha, hb := pair(t, tc.opts...)
			if tc.check != nil {
				tc.check(t, ha, hb.ID())
			}
			ctx := context.Background()
			envA, err := a.Publish(ctx, testTopic, wakuMsg("from-a"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Publish(ctx, testTopic, wakuMsg("from-b")); err != nil {
				t.Fatal(err)
			}
			for _, c := range []*collector{ca, cb} {
				waitFor(t, "both messages", func() bool { return c.payloadCount("from-a") == 1 && c.payloadCount("from-b") == 1 })
			}
			// The remote side decoded the same bytes and computed the same deterministic hash.
			cb.mu.Lock()
			got := cb.counts[envA.Hash]
			cb.mu.Unlock()
			if got != 1 {
				t.Fatalf("b got hash %s %d times, want 1", envA.Hash, got)
			}
		})
	}
}

func muxerIs(id string) func(t *testing.T, h host.Host, other peer.ID) {
	return func(t *testing.T, h host.Host, other peer.ID) {
		for _, c := range h.Network().ConnsToPeer(other) {
			if got := string(c.ConnState().StreamMultiplexer); got != id {
				t.Fatalf("muxer %q, want %q", got, id)
			}
		}
	}
}

func TestRingEveryoneReceivesExactlyOnce(t *testing.T) {
	const n = 5
	hosts := make([]host.Host, n)
	relays := make([]*Relay, n)
	sinks := make([]*collector, n)
	for i := range n {
		hosts[i], sinks[i] = testhost.New(t), newCollector()
		relays[i] = newRelay(t, hosts[i], testConfig(nil), sinks[i])
		if err := relays[i].Subscribe(testTopic); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		testhost.Connect(t, hosts[i], hosts[(i+1)%n])
	}
	for i := range n {
		waitFor(t, "ring mesh", func() bool { return len(relays[i].MeshPeers(testTopic)) == 2 })
	}
	ctx := context.Background()
	for i, r := range relays {
		if _, err := r.Publish(ctx, testTopic, wakuMsg(payloadOf(i))); err != nil {
			t.Fatal(err)
		}
	}
	// Fence: a second round; once every node has it, any duplicate of round one has had the
	// time of a full extra round trip to show up.
	for i, r := range relays {
		if _, err := r.Publish(ctx, testTopic, wakuMsg(payloadOf(n+i))); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range sinks {
		waitFor(t, "all messages at node", func() bool { return c.total() >= 2*n })
		for j := range 2 * n {
			if got := c.payloadCount(payloadOf(j)); got != 1 {
				t.Errorf("node %d got %s %d times, want 1", i, payloadOf(j), got)
			}
		}
		if c.total() != 2*n {
			t.Errorf("node %d got %d deliveries, want %d", i, c.total(), 2*n)
		}
	}
}

func TestLonePublish(t *testing.T) {
	m := newCountMetrics()
	c := newCollector()
	r := newRelay(t, testhost.New(t), testConfig(m), c)
	if err := r.Subscribe(testTopic); err != nil {
		t.Fatal(err)
	}
	env, err := r.Publish(context.Background(), testTopic, wakuMsg("alone"))
	if err != nil {
		t.Fatalf("lone publish: %v", err)
	}
	waitFor(t, "local delivery", func() bool { return c.total() == 1 })
	if got := c.order[0]; got != env {
		t.Fatalf("delivered a different envelope than published: the validator decoded again")
	}
	if m.get("accepted/"+testTopic) != 1 || m.get("acceptedBytes/"+testTopic) != len(env.Raw) {
		t.Fatalf("accepted metrics: %v", m.n)
	}
	// Publishing on a topic we are not subscribed to works too (fanout) and delivers nothing.
	n, err := r.PublishEnvelope(context.Background(), mustEnvelope(t, "/waku/2/rs/1/5", wakuMsg("other")))
	if err != nil || n != 0 {
		t.Fatalf("publish unsubscribed topic: peers %d err %v", n, err)
	}
}

func mustEnvelope(t *testing.T, topic string, m *pb.WakuMessage) *message.Envelope {
	t.Helper()
	e, err := message.NewEnvelope(topic, m, time.Now().UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPublishReturnsValidationError(t *testing.T) {
	m := newCountMetrics()
	c := newCollector()
	r := newRelay(t, testhost.New(t), testConfig(m), c)
	if err := r.Subscribe(testTopic); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*pb.WakuMessage)
		want   error
		reason string
	}{
		{"oversize", func(m *pb.WakuMessage) { m.Payload = make([]byte, message.DefaultMaxMessageSize) }, message.ErrTooLarge, ReasonTooLarge},
		{"meta-65", func(m *pb.WakuMessage) { m.Meta = make([]byte, 65) }, message.ErrMetaTooLarge, ReasonMetaTooLarge},
		{"empty-payload", func(m *pb.WakuMessage) { m.Payload = nil }, message.ErrEmptyPayload, ReasonEmptyPayload},
		{"empty-content-topic", func(m *pb.WakuMessage) { m.ContentTopic = "" }, message.ErrEmptyContent, ReasonEmptyContentTopic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := wakuMsg(tc.name)
			tc.mutate(msg)
			_, err := r.Publish(context.Background(), testTopic, msg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if got := m.get("rejected/" + testTopic + "/" + tc.reason); got != 1 {
				t.Fatalf("rejected/%s = %d, want 1", tc.reason, got)
			}
		})
	}
	if _, err := r.Publish(context.Background(), testTopic, wakuMsg("fence")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "fence", func() bool { return c.payloadCount("fence") == 1 })
	if c.total() != 1 {
		t.Fatalf("invalid messages were delivered: %d deliveries", c.total())
	}
}

func TestUnsubscribeStopsDelivery(t *testing.T) {
	const other = "/waku/2/rs/1/1"
	a, b, _, cb, _, hb := pair(t)
	for _, r := range []*Relay{a, b} {
		if err := r.Subscribe(other); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Subscribe(testTopic); err != nil { // idempotent
		t.Fatal(err)
	}
	if got := b.Topics(); !slices.Equal(got, []string{testTopic, other}) {
		t.Fatalf("topics %v", got)
	}
	waitFor(t, "b in other", func() bool { return slices.Contains(a.TopicPeers(other), hb.ID()) })
	if err := b.Unsubscribe(testTopic); err != nil {
		t.Fatal(err)
	}
	if got := b.Topics(); !slices.Equal(got, []string{other}) {
		t.Fatalf("topics after unsubscribe %v", got)
	}
	waitFor(t, "a sees b leave", func() bool { return !slices.Contains(a.TopicPeers(testTopic), hb.ID()) })
	if len(b.MeshPeers(testTopic)) != 0 {
		t.Fatalf("b still has a mesh for %s", testTopic)
	}
	ctx := context.Background()
	if _, err := a.Publish(ctx, testTopic, wakuMsg("after-unsubscribe")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Publish(ctx, other, wakuMsg("fence")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "fence", func() bool { return cb.payloadCount("fence") == 1 })
	if cb.payloadCount("after-unsubscribe") != 0 {
		t.Fatal("delivered after unsubscribe")
	}
}

func TestMeshScoreAndPeerMetrics(t *testing.T) {
	ha, hb := testhost.New(t), testhost.New(t)
	m := newCountMetrics()
	cfg := testConfig(m)
	cfg.ScoreInterval = 50 * time.Millisecond
	a := newRelay(t, ha, cfg, nil)
	b := newRelay(t, hb, testConfig(nil), nil)
	for _, r := range []*Relay{a, b} {
		if err := r.Subscribe(testTopic); err != nil {
			t.Fatal(err)
		}
	}
	testhost.Connect(t, ha, hb)
	waitFor(t, "mesh", func() bool { return slices.Equal(a.MeshPeers(testTopic), []peer.ID{hb.ID()}) })
	if got := a.TopicPeers(testTopic); !slices.Equal(got, []peer.ID{hb.ID()}) {
		t.Fatalf("topic peers %v", got)
	}
	waitFor(t, "score", func() bool { _, ok := a.PeerScore(hb.ID()); return ok })
	if s, _ := a.PeerScore(hb.ID()); s < 0 {
		t.Fatalf("fresh well-behaved peer has negative score %v", s)
	}
	waitFor(t, "peer metrics", func() bool { return m.get("peers/"+testTopic) == 1 && m.get("mesh/"+testTopic) == 1 })
	ctx := context.Background()
	if _, err := a.Publish(ctx, testTopic, wakuMsg("out")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, testTopic, wakuMsg("in")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rpc bytes and accepted", func() bool {
		return m.get("rpc/in/"+testTopic) > 0 && m.get("rpc/out/"+testTopic) > 0 && m.get("accepted/"+testTopic) == 2
	})
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	a, b, _, _, _, _ := pair(t)
	if _, err := a.Publish(context.Background(), testTopic, wakuMsg("x")); err != nil {
		t.Fatal(err)
	}
	if len(relayGoroutines()) == 0 {
		t.Fatal("goroutine matcher finds nothing while relays run")
	}
	for _, r := range []*Relay{a, b} {
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The hosts stay up; everything relay and gossipsub started must wind down.
	deadline := time.Now().Add(10 * time.Second)
	for len(relayGoroutines()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := relayGoroutines(); len(g) > 0 {
		t.Fatalf("%d goroutines left after Close:\n%s", len(g), strings.Join(g, "\n\n"))
	}
	if err := a.Subscribe(testTopic); !errors.Is(err, ErrClosed) {
		t.Fatalf("subscribe after close: %v", err)
	}
	if _, err := a.Publish(context.Background(), testTopic, wakuMsg("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// TestPublishDuplicate: a message relay already carried within gossipsub's seen window, whether
// published here or received from a peer, is answered with message.ErrDuplicate (gossipsub
// would drop it unsent and report success); another message still goes out.
func TestPublishDuplicate(t *testing.T) {
	a, b, _, cb, _, _ := pair(t)
	once := wakuMsg("once")
	again := func() *message.Envelope { return mustEnvelope(t, testTopic, proto.Clone(once).(*pb.WakuMessage)) }
	if _, err := a.PublishEnvelope(context.Background(), again()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PublishEnvelope(context.Background(), again()); !errors.Is(err, message.ErrDuplicate) {
		t.Fatalf("second publish here: %v, want ErrDuplicate", err)
	}
	waitFor(t, "delivery at b", func() bool { return cb.payloadCount("once") == 1 })
	if _, err := b.PublishEnvelope(context.Background(), again()); !errors.Is(err, message.ErrDuplicate) {
		t.Fatalf("publish of a received message: %v, want ErrDuplicate", err)
	}
	if _, err := a.PublishEnvelope(context.Background(), mustEnvelope(t, testTopic, wakuMsg("twice"))); err != nil {
		t.Fatalf("a new message: %v", err)
	}
}

// A score snapshot with a peer below the graylist threshold signals GraylistChanged, so the
// peer manager disconnects it without waiting for its next pass; one without does not.
func TestScoreSnapshotSignalsGraylist(t *testing.T) {
	cfg := testConfig(nil)
	cfg.ScoreInterval = time.Hour // only this test's snapshots
	r := newRelay(t, testhost.New(t), cfg, nil)
	bad := peer.ID("bad")
	r.setScores(map[peer.ID]float64{bad: -5})
	select {
	case <-r.GraylistChanged():
		t.Fatal("signalled for a peer above the threshold")
	default:
	}
	r.setScores(map[peer.ID]float64{bad: GraylistThreshold - 1})
	select {
	case <-r.GraylistChanged():
	default:
		t.Fatal("no signal for a peer below the threshold")
	}
	if _, ok := r.Graylisted()[bad]; !ok {
		t.Fatal("peer below the threshold not graylisted")
	}
	// The same peer still below it (its score is retained after the ban): no new signal.
	r.setScores(map[peer.ID]float64{bad: GraylistThreshold - 2})
	select {
	case <-r.GraylistChanged():
		t.Fatal("signalled again for a peer already below the threshold")
	default:
	}
	worse := peer.ID("worse")
	r.setScores(map[peer.ID]float64{bad: GraylistThreshold - 2, worse: GraylistThreshold - 1})
	select {
	case <-r.GraylistChanged():
	default:
		t.Fatal("no signal for a second peer below the threshold")
	}
}
