package filter

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
)

func newClient(t testing.TB, cfg ClientConfig) (*Client, func() network.Network) {
	t.Helper()
	h := testhost.New(t)
	c := NewClient(h, cfg)
	t.Cleanup(c.Close)
	return c, h.Network
}

func TestClientManySubscribers(t *testing.T) {
	s, sh := startService(t, Config{})
	const clients, perTopic = 12, 4
	cts := topics("app", perTopic)
	type sub struct {
		s    *Subscription
		want map[message.Hash]bool
	}
	var subs []sub
	for i := 0; i < clients; i++ {
		c := NewClient(testhost.New(t), ClientConfig{})
		t.Cleanup(c.Close)
		testhost.Connect(t, c.h, sh)
		// client i wants topic i%perTopic plus the shared last one
		mine := []string{cts[i%perTopic], "/app/1/all/proto"}
		ss, err := c.Subscribe(context.Background(), sh.ID(), testTopic, mine...)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub{s: ss, want: map[message.Hash]bool{}})
	}
	all := append(cts, "/app/1/all/proto", "/app/1/nobody/proto")
	for n := 0; n < 60; n++ {
		e := envelope(t, testTopic, all[n%len(all)], n)
		for _, sb := range subs {
			for _, ct := range sb.s.ContentTopics {
				if ct == e.Message.ContentTopic {
					sb.want[e.Hash] = true
				}
			}
		}
		s.Push(e)
	}
	for i, sb := range subs {
		for _, e := range recv(t, sb.s.C, len(sb.want)) {
			if !sb.want[e.Hash] {
				t.Fatalf("client %d got unexpected %s on %s", i, e.Hash, e.Message.ContentTopic)
			}
			if e.PubsubTopic != testTopic {
				t.Fatalf("pubsub topic %q", e.PubsubTopic)
			}
			delete(sb.want, e.Hash)
		}
	}
}

func TestClientStatusErrors(t *testing.T) {
	_, sh := startService(t, Config{})
	c, _ := newClient(t, ClientConfig{})
	testhost.Connect(t, c.h, sh)
	ctx := context.Background()
	if err := c.Ping(ctx, sh.ID()); !IsStatus(err, StatusNotFound) {
		t.Fatalf("ping: %v", err)
	}
	if err := c.UnsubscribeAll(ctx, sh.ID()); !IsStatus(err, StatusNotFound) {
		t.Fatalf("unsubscribe-all: %v", err)
	}
	// More than 100 topics are split into several requests, so they succeed.
	s, err := c.Subscribe(ctx, sh.ID(), testTopic, topics("x", 250)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx, sh.ID()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := c.Unsubscribe(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-s.C; ok {
		t.Fatal("channel open after unsubscribe")
	}
	if err := c.Ping(ctx, sh.ID()); !IsStatus(err, StatusNotFound) {
		t.Fatalf("ping after unsubscribe of all topics: %v", err)
	}
	// 1001 criteria exceed the default MaxCriteria of 1000: 503 on the last chunk.
	if _, err := c.Subscribe(ctx, sh.ID(), testTopic, topics("y", 1001)...); !IsStatus(err, StatusServiceUnavailable) {
		t.Fatalf("subscribe over max criteria: %v", err)
	}
}

func TestClientUnsubscribeKeepsSharedTopics(t *testing.T) {
	s, sh := startService(t, Config{})
	c, _ := newClient(t, ClientConfig{})
	testhost.Connect(t, c.h, sh)
	ctx := context.Background()
	s1, err := c.Subscribe(ctx, sh.ID(), testTopic, "/a/1/x/proto", "/a/1/y/proto")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c.Subscribe(ctx, sh.ID(), testTopic, "/a/1/y/proto")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Unsubscribe(ctx, s1); err != nil {
		t.Fatal(err)
	}
	got := s.Subscriptions()
	if len(got) != 1 || len(got[0].Criteria) != 1 || got[0].Criteria[0].ContentTopic != "/a/1/y/proto" {
		t.Fatalf("service holds %+v, want only /a/1/y/proto", got)
	}
	e := envelope(t, testTopic, "/a/1/y/proto", 1)
	s.Push(e)
	if g := recv(t, s2.C, 1)[0]; g.Hash != e.Hash {
		t.Fatal("wrong message")
	}
}

// A subscriber that stops reading, and one that disconnects, must not cost the others a
// single message; the disconnected one is dropped after MaxPushFailures. (Queues hold the
// whole burst here: a healthy subscriber only loses messages when its queue overflows.)
func TestSlowAndDeadSubscribers(t *testing.T) {
	m := newCountMetrics()
	s, sh := startService(t, Config{QueueSize: 256, MaxPushFailures: 3, Metrics: m})
	pt := proto.String(testTopic)
	const ct = "/a/1/x/proto"

	stuck := testhost.New(t)
	testhost.Connect(t, stuck, sh)
	block := make(chan struct{})
	defer close(block)
	stuck.SetStreamHandler(PushProtocol, func(st network.Stream) { <-block; st.Reset() })
	rawRequest(t, stuck, sh.ID(), sub, pt, ct)

	dead := testhost.New(t)
	testhost.Connect(t, dead, sh)
	rawRequest(t, dead, sh.ID(), sub, pt, ct)
	deadID := dead.ID()
	_ = dead.Close()

	var good []*Subscription
	for i := 0; i < 5; i++ {
		c, _ := newClient(t, ClientConfig{BufferSize: 1000})
		testhost.Connect(t, c.h, sh)
		ss, err := c.Subscribe(context.Background(), sh.ID(), testTopic, ct)
		if err != nil {
			t.Fatal(err)
		}
		good = append(good, ss)
	}
	const n = 200
	for i := 0; i < n; i++ {
		s.Push(envelope(t, testTopic, ct, i))
	}
	for i, ss := range good {
		seen := map[message.Hash]bool{}
		for _, e := range recv(t, ss.C, n) {
			seen[e.Hash] = true
		}
		if len(seen) != n {
			t.Fatalf("client %d got %d distinct messages, want %d", i, len(seen), n)
		}
	}
	eventually(t, "dead subscriber dropped", func() bool {
		for _, p := range s.Subscriptions() {
			if p.Peer == deadID {
				return false
			}
		}
		return true
	})
	if m.get(m.subDrop, "push_failures") < 1 { // the stuck one may be dropped as well
		t.Fatalf("subscriber drops: %v", m.subDrop)
	}
}

func TestClientResubscribes(t *testing.T) {
	h := testhost.New(t)
	s1 := NewService(h, Config{})
	s1.Start()
	c, _ := newClient(t, ClientConfig{PingInterval: 50_000_000}) // 50 ms
	testhost.Connect(t, c.h, h)
	ss, err := c.Subscribe(context.Background(), h.ID(), testTopic, "/a/1/x/proto")
	if err != nil {
		t.Fatal(err)
	}
	// The service restarts and forgets its subscribers: the ping fails, the client re-subscribes.
	s1.Stop()
	s2 := NewService(h, Config{})
	s2.Start()
	t.Cleanup(s2.Stop)
	eventually(t, "re-subscription after failed ping", func() bool { return len(s2.Subscriptions()) == 1 })

	// The connection drops: the client dials back and re-subscribes at once.
	s2.Stop()
	s3 := NewService(h, Config{})
	s3.Start()
	t.Cleanup(s3.Stop)
	_ = c.h.Network().ClosePeer(h.ID())
	eventually(t, "re-subscription after disconnect", func() bool { return len(s3.Subscriptions()) == 1 })
	e := envelope(t, testTopic, "/a/1/x/proto", 1)
	s3.Push(e)
	if g := recv(t, ss.C, 1)[0]; g.Hash != e.Hash {
		t.Fatal("wrong message")
	}
}

func TestClientRejectsStrangerPush(t *testing.T) {
	s, sh := startService(t, Config{})
	c, _ := newClient(t, ClientConfig{})
	testhost.Connect(t, c.h, sh)
	ss, err := c.Subscribe(context.Background(), sh.ID(), testTopic, "/a/1/x/proto")
	if err != nil {
		t.Fatal(err)
	}
	stranger := testhost.New(t)
	testhost.Connect(t, stranger, c.h)
	st, err := stranger.NewStream(context.Background(), c.h.ID(), PushProtocol)
	if err != nil {
		t.Fatal(err)
	}
	bad := envelope(t, testTopic, "/a/1/x/proto", 99)
	_ = msgio.NewVarintWriter(st).WriteMsg(encodePush(bad))
	_ = st.CloseWrite()
	if _, err := io.ReadAll(st); err == nil {
		t.Fatal("client accepted a push stream from a peer it did not subscribe to")
	}
	good := envelope(t, testTopic, "/a/1/x/proto", 1)
	s.Push(good)
	if g := recv(t, ss.C, 1)[0]; g.Hash != good.Hash {
		t.Fatalf("got %s", g.Hash)
	}
}

func TestPushCodecRoundTrip(t *testing.T) {
	e := envelope(t, testTopic, "/a/1/x/proto", 7)
	topic, has, raw, err := decodePush(encodePush(e))
	if err != nil || !has || topic != testTopic || string(raw) != string(e.Raw) {
		t.Fatalf("round trip: %q %v %v", topic, has, err)
	}
	for i, b := range [][]byte{{}, {0x12, 0x01, 'x'}, {0x0a, 0x05, 1}} {
		if _, _, _, err := decodePush(b); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
	// A push without pubsub_topic decodes, but the client must drop it (js-waku does too).
	if _, has, _, err := decodePush(encodePush(e)[:len(e.Raw)+2]); err != nil || has {
		t.Fatalf("without topic: has=%v err=%v", has, err)
	}
	_ = fmt.Sprint()
}

// Push must never block, whatever the subscriber's state: overflow is dropped and counted.
func TestPushNeverBlocks(t *testing.T) {
	m := newCountMetrics()
	s := NewService(testhost.New(t), Config{QueueSize: 2, Metrics: m})
	c := Criterion{testTopic, "/a/1/x/proto"}
	// A subscriber with no worker: nothing drains its queue.
	sb := &subscriber{id: "p", criteria: map[Criterion]struct{}{c: {}}, queue: make(chan []byte, 2), done: make(chan struct{})}
	s.subs["p"] = sb
	s.index[c] = map[peer.ID]*subscriber{"p": sb}
	for i := 0; i < 5; i++ {
		s.Push(envelope(t, testTopic, c.ContentTopic, i))
	}
	if got := m.get(m.dropped, "queue_full"); got != 3 {
		t.Fatalf("dropped %d, want 3", got)
	}
	s.Push(nil) // tolerated
	s.Stop()
}
