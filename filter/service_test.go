package filter

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/filter/pb"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/ratelimit"
)

type reqType = pb.FilterSubscribeRequest_FilterSubscribeType

const (
	ping     = pb.FilterSubscribeRequest_SUBSCRIBER_PING
	sub      = pb.FilterSubscribeRequest_SUBSCRIBE
	unsub    = pb.FilterSubscribeRequest_UNSUBSCRIBE
	unsubAll = pb.FilterSubscribeRequest_UNSUBSCRIBE_ALL
)

func rawRequest(t testing.TB, from host.Host, to peer.ID, typ reqType, pubsub *string, cts ...string) *pb.FilterSubscribeResponse {
	t.Helper()
	req := &pb.FilterSubscribeRequest{RequestId: "req-" + typ.String(), FilterSubscribeType: typ, PubsubTopic: pubsub, ContentTopics: cts}
	resp := &pb.FilterSubscribeResponse{}
	if err := rpc.Request(context.Background(), from, to, req, resp, MaxResponseSize, SubscribeProtocol); err != nil {
		t.Fatal(err)
	}
	if resp.GetRequestId() != req.RequestId {
		t.Fatalf("request id %q not echoed: %q", req.RequestId, resp.GetRequestId())
	}
	return resp
}

func startService(t testing.TB, cfg Config) (*Service, host.Host) {
	t.Helper()
	h := testhost.New(t)
	s := NewService(h, cfg)
	s.Start()
	t.Cleanup(s.Stop)
	return s, h
}

func topics(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("/%s/1/t%d/proto", prefix, i)
	}
	return out
}

func TestServiceStatusCodes(t *testing.T) {
	_, sh := startService(t, Config{MaxPeers: 2, MaxCriteria: 150})
	a, b, c := testhost.New(t), testhost.New(t), testhost.New(t)
	for _, h := range []host.Host{a, b, c} {
		testhost.Connect(t, h, sh)
	}
	pt := proto.String(testTopic)
	empty := proto.String("")
	steps := []struct {
		name   string
		from   host.Host
		typ    reqType
		pubsub *string
		cts    []string
		code   uint32
		desc   string
	}{
		{"ping without subscription", a, ping, nil, nil, 404, descNoSubscriptions},
		{"unsubscribe-all without subscription", a, unsubAll, nil, nil, 404, descNoSubscriptions},
		{"unsubscribe without subscription", a, unsub, pt, []string{"/a/1/x/proto"}, 404, descNoSubscriptions},
		{"subscribe without pubsub topic", a, sub, nil, []string{"/a/1/x/proto"}, 400, descMissingCriteria},
		{"subscribe with empty pubsub topic", a, sub, empty, []string{"/a/1/x/proto"}, 400, descMissingCriteria},
		{"subscribe without content topics", a, sub, pt, nil, 400, descMissingCriteria},
		{"subscribe with an empty content topic", a, sub, pt, []string{""}, 400, descMissingCriteria},
		{"subscribe with 101 content topics", a, sub, pt, topics("a", 101), 400, descTooManyTopics},
		{"unsubscribe without pubsub topic", a, unsub, nil, []string{"/a/1/x/proto"}, 400, descMissingCriteria},
		{"subscribe 100 content topics", a, sub, pt, topics("a", 100), 200, descOK},
		{"ping with subscription", a, ping, nil, nil, 200, descOK},
		{"ping ignores criteria", a, ping, pt, []string{"/zzz/1/x/proto"}, 200, descOK},
		{"refresh same criteria", a, sub, pt, topics("a", 100), 200, descOK},
		{"exceed max criteria", a, sub, pt, topics("b", 51), 503, descMaxCriteria},
		{"reach max criteria exactly", a, sub, pt, topics("b", 50), 200, descOK},
		{"unsubscribe criteria not held", a, unsub, pt, []string{"/zzz/1/x/proto"}, 404, descNotSubscribed},
		{"unsubscribe part", a, unsub, pt, topics("b", 50), 200, descOK},
		{"second peer", b, sub, pt, []string{"/b/1/x/proto"}, 200, descOK},
		{"max peers reached", c, sub, pt, []string{"/c/1/x/proto"}, 503, descMaxPeers},
		{"unsubscribe last criterion", b, unsub, pt, []string{"/b/1/x/proto"}, 200, descOK},
		{"unsubscribed peer has nothing", b, ping, nil, nil, 404, descNoSubscriptions},
		{"slot freed for third peer", c, sub, pt, []string{"/c/1/x/proto"}, 200, descOK},
		{"unsubscribe-all", a, unsubAll, nil, nil, 200, descOK},
		{"after unsubscribe-all", a, ping, nil, nil, 404, descNoSubscriptions},
		{"unknown request type", a, reqType(9), nil, nil, 400, "unknown filter subscribe type 9"},
	}
	for _, st := range steps {
		resp := rawRequest(t, st.from, sh.ID(), st.typ, st.pubsub, st.cts...)
		if resp.GetStatusCode() != st.code || resp.GetStatusDesc() != st.desc {
			t.Errorf("%s: got %d %q, want %d %q", st.name, resp.GetStatusCode(), resp.GetStatusDesc(), st.code, st.desc)
		}
	}
}

func TestServiceUndecodableRequest(t *testing.T) {
	s, sh := startService(t, Config{})
	a := testhost.New(t)
	testhost.Connect(t, a, sh)
	st, err := a.NewStream(context.Background(), sh.ID(), SubscribeProtocol)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := msgio.NewVarintWriter(st)
	if err := w.WriteMsg([]byte{0x0a, 0xff}); err != nil { // field 1 with a truncated length
		t.Fatal(err)
	}
	_ = st.CloseWrite()
	resp := &pb.FilterSubscribeResponse{}
	if err := rpc.Read(st, MaxResponseSize, resp); err != nil {
		t.Fatal(err)
	}
	if resp.GetStatusCode() != StatusBadRequest {
		t.Fatalf("got %d, want 400", resp.GetStatusCode())
	}
	if len(s.Subscriptions()) != 0 {
		t.Fatal("bad request created a subscription")
	}
}

func TestServiceRateLimit(t *testing.T) {
	lim := ratelimit.NewLimiter(ratelimit.Setting{Volume: 2, Period: time.Hour}, nil)
	_, sh := startService(t, Config{RateLimiter: lim})
	a, b := testhost.New(t), testhost.New(t)
	testhost.Connect(t, a, sh)
	testhost.Connect(t, b, sh)
	pt := proto.String(testTopic)
	for i, want := range []uint32{200, 200, 429, 429} {
		resp := rawRequest(t, a, sh.ID(), sub, pt, "/a/1/x/proto")
		if resp.GetStatusCode() != want {
			t.Fatalf("request %d: got %d, want %d", i, resp.GetStatusCode(), want)
		}
		if want == 429 && resp.GetStatusDesc() != descRateLimited {
			t.Fatalf("429 desc %q", resp.GetStatusDesc())
		}
	}
	if resp := rawRequest(t, b, sh.ID(), ping, nil); resp.GetStatusCode() != 404 {
		t.Fatalf("other peer limited: %d", resp.GetStatusCode())
	}
}

func TestServiceExpiry(t *testing.T) {
	now := time.Unix(10_000, 0)
	clock := func() time.Time { return now }
	s, sh := startService(t, Config{Now: clock, SubscriptionTimeout: 5 * time.Minute})
	a, b := testhost.New(t), testhost.New(t)
	testhost.Connect(t, a, sh)
	testhost.Connect(t, b, sh)
	pt := proto.String(testTopic)
	rawRequest(t, a, sh.ID(), sub, pt, "/a/1/x/proto")
	rawRequest(t, b, sh.ID(), sub, pt, "/a/1/x/proto")

	now = now.Add(4 * time.Minute)
	if resp := rawRequest(t, a, sh.ID(), ping, nil); resp.GetStatusCode() != 200 {
		t.Fatalf("ping: %d", resp.GetStatusCode())
	}
	now = now.Add(4 * time.Minute) // b idle 8 min, a idle 4 min since its ping
	if n := s.expire(now); n != 1 {
		t.Fatalf("expired %d subscribers, want 1", n)
	}
	if resp := rawRequest(t, b, sh.ID(), ping, nil); resp.GetStatusCode() != 404 {
		t.Fatalf("expired peer ping: %d", resp.GetStatusCode())
	}
	if resp := rawRequest(t, a, sh.ID(), ping, nil); resp.GetStatusCode() != 200 {
		t.Fatalf("refreshed peer ping: %d", resp.GetStatusCode())
	}
	// An expired peer's criteria leave the push index too.
	s.mu.RLock()
	n := len(s.index[Criterion{testTopic, "/a/1/x/proto"}])
	s.mu.RUnlock()
	if n != 1 {
		t.Fatalf("index holds %d peers, want 1", n)
	}
}

// pushSink is a light client without the Client: it records every MessagePush it gets.
type pushSink struct {
	c       chan *message.Envelope
	streams atomic.Int32 // push streams the service opened to us
	mu      sync.Mutex
	last    network.Stream
}

func newPushSink(h host.Host) *pushSink {
	s := &pushSink{c: make(chan *message.Envelope, 10_000)}
	h.SetStreamHandler(PushProtocol, func(st network.Stream) {
		s.streams.Add(1)
		s.mu.Lock()
		s.last = st
		s.mu.Unlock()
		defer st.Close()
		r := msgio.NewVarintReaderSize(st, MaxRPCSize)
		for {
			b, err := r.ReadMsg()
			if err != nil {
				return
			}
			topic, _, raw, err := decodePush(b)
			if err != nil {
				panic(err)
			}
			e, err := message.Decode(topic, raw, 0)
			if err != nil {
				panic(err)
			}
			s.c <- e
		}
	})
	return s
}

func TestServicePushAndUnsubscribe(t *testing.T) {
	m := newCountMetrics()
	s, sh := startService(t, Config{Metrics: m})
	a := testhost.New(t)
	testhost.Connect(t, a, sh)
	sink := newPushSink(a)
	pt := proto.String(testTopic)
	rawRequest(t, a, sh.ID(), sub, pt, "/a/1/keep/proto", "/a/1/drop/proto")

	keep := envelope(t, testTopic, "/a/1/keep/proto", 1)
	s.Push(envelope(t, "/waku/2/rs/1/1", "/a/1/keep/proto", 2)) // other shard: no match
	s.Push(envelope(t, testTopic, "/a/1/other/proto", 3))       // other content topic
	s.Push(keep)
	got := recv(t, sink.c, 1)[0]
	if got.Hash != keep.Hash || got.PubsubTopic != testTopic {
		t.Fatalf("got %v on %q, want %v", got.Hash, got.PubsubTopic, keep.Hash)
	}

	rawRequest(t, a, sh.ID(), unsub, pt, "/a/1/drop/proto")
	s.Push(envelope(t, testTopic, "/a/1/drop/proto", 4))
	last := envelope(t, testTopic, "/a/1/keep/proto", 5)
	s.Push(last)
	if got := recv(t, sink.c, 1)[0]; got.Hash != last.Hash {
		t.Fatalf("after unsubscribe got %v, want %v", got.Hash, last.Hash)
	}
	s.Stop() // waits for the worker: every push it made is counted
	if n := m.pushed.Load(); n != 2 {
		t.Fatalf("service pushed %d messages, want 2", n)
	}
}

// Like nwaku, the service carries every push to a subscriber on one stream: js-waku never
// closes its end and refuses more than 100 open push streams. A stream the subscriber resets
// is replaced on the next push.
func TestServicePushesOnOneStream(t *testing.T) {
	s, sh := startService(t, Config{})
	a := testhost.New(t)
	testhost.Connect(t, a, sh)
	sink := newPushSink(a)
	rawRequest(t, a, sh.ID(), sub, proto.String(testTopic), "/a/1/x/proto")
	for i := range 150 {
		s.Push(envelope(t, testTopic, "/a/1/x/proto", i))
	}
	recv(t, sink.c, 150)
	if n := sink.streams.Load(); n != 1 {
		t.Fatalf("service opened %d push streams for 150 pushes, want 1", n)
	}
	sink.mu.Lock()
	_ = sink.last.Reset()
	sink.mu.Unlock()
	// The reset is noticed by the service's drain; pushes resume on a new stream. A push racing
	// the reset may be lost (best effort), so push until one arrives.
	deadline := time.Now().Add(10 * time.Second)
	for i := 150; ; i++ {
		s.Push(envelope(t, testTopic, "/a/1/x/proto", i))
		select {
		case <-sink.c:
			if n := sink.streams.Load(); n != 2 {
				t.Fatalf("%d push streams after a reset, want 2", n)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no push after the subscriber reset its stream")
		}
	}
}
