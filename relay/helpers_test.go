package relay

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

const (
	testTopic        = "/waku/2/rs/1/0"
	testContentTopic = "/test/1/relay/proto"
)

func testRules() message.Rules { return message.Rules{} }

func testConfig(m Metrics) Config {
	p := DefaultParams()
	p.HeartbeatInterval = 100 * time.Millisecond // mesh forms quickly in tests
	return Config{Rules: testRules(), Params: p, Metrics: m, PeerStatsInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)}
}

func newRelay(tb testing.TB, h host.Host, cfg Config, sink Sink) *Relay {
	tb.Helper()
	r, err := New(h, cfg, sink)
	if err != nil {
		tb.Fatalf("new relay: %v", err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	return r
}

// waitFor polls cond until it holds; the deadline only bounds a hung test.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wakuMsg(payload string) *pb.WakuMessage {
	return &pb.WakuMessage{
		Payload:      []byte(payload),
		ContentTopic: testContentTopic,
		Timestamp:    proto.Int64(time.Now().UnixNano()),
	}
}

func encode(tb testing.TB, m *pb.WakuMessage) []byte {
	tb.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// collector is a Sink that counts deliveries per message hash.
type collector struct {
	mu     sync.Mutex
	counts map[message.Hash]int
	byPay  map[string]int
	order  []*message.Envelope
}

func newCollector() *collector {
	return &collector{counts: map[message.Hash]int{}, byPay: map[string]int{}}
}

func (c *collector) Deliver(e *message.Envelope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[e.Hash]++
	c.byPay[string(e.Message.Payload)]++
	c.order = append(c.order, e)
}

func (c *collector) payloadCount(p string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byPay[p]
}

func (c *collector) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.order)
}

// countMetrics is a concurrency-safe Metrics that counts events by kind/topic/reason.
type countMetrics struct {
	mu sync.Mutex
	n  map[string]int
}

func newCountMetrics() *countMetrics { return &countMetrics{n: map[string]int{}} }

func (m *countMetrics) add(k string, v int) {
	m.mu.Lock()
	m.n[k] += v
	m.mu.Unlock()
}

func (m *countMetrics) get(k string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[k]
}

// sumPrefix adds every counter whose key starts with p.
func (m *countMetrics) sumPrefix(p string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := 0
	for k, v := range m.n {
		if strings.HasPrefix(k, p) {
			s += v
		}
	}
	return s
}

func (m *countMetrics) MessageAccepted(topic string, n int) {
	m.add("accepted/"+topic, 1)
	m.add("acceptedBytes/"+topic, n)
}
func (m *countMetrics) MessageRejected(topic, reason string) { m.add("rejected/"+topic+"/"+reason, 1) }
func (m *countMetrics) MessageDropped(topic, reason string)  { m.add("dropped/"+topic+"/"+reason, 1) }
func (m *countMetrics) RPCBytes(topic, dir string, n int)    { m.add("rpc/"+dir+"/"+topic, n) }
func (m *countMetrics) TopicPeers(topic string, subscribed, mesh int) {
	m.mu.Lock()
	m.n["peers/"+topic] = subscribed
	m.n["mesh/"+topic] = mesh
	m.mu.Unlock()
}

// rawPeer speaks the relay wire protocol by hand: it sees the exact bytes the relay sends and
// can send RPCs the pubsub library would never build.
type rawPeer struct {
	h    host.Host
	mu   sync.Mutex
	in   [][]byte // raw RPC frames received
	out  network.Stream
	seen chan struct{}
}

func newRawPeer(tb testing.TB, target host.Host) *rawPeer {
	tb.Helper()
	rp := &rawPeer{h: testhost.New(tb), seen: make(chan struct{}, 1024)}
	rp.h.SetStreamHandler(ProtocolID, func(s network.Stream) {
		r := bufio.NewReader(s)
		for {
			n, err := binary.ReadUvarint(r)
			if err != nil {
				_ = s.Reset()
				return
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(r, buf); err != nil {
				_ = s.Reset()
				return
			}
			rp.mu.Lock()
			rp.in = append(rp.in, buf)
			rp.mu.Unlock()
			select {
			case rp.seen <- struct{}{}:
			default:
			}
		}
	})
	testhost.Connect(tb, rp.h, target)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := rp.h.NewStream(ctx, target.ID(), ProtocolID)
	if err != nil {
		tb.Fatalf("raw stream: %v", err)
	}
	rp.out = s
	tb.Cleanup(func() { _ = s.Reset() })
	// The relay's hello frame means it registered us (scoring included) before reading our RPCs.
	select {
	case <-rp.seen:
	case <-ctx.Done():
		tb.Fatal("no hello from relay")
	}
	return rp
}

// relayAndPeer starts a relay on h subscribed to testTopic and a raw peer subscribed to it too.
func relayAndPeer(tb testing.TB, h host.Host, cfg Config, sink Sink) (*Relay, *rawPeer) {
	tb.Helper()
	r := newRelay(tb, h, cfg, sink)
	if err := r.Subscribe(testTopic); err != nil {
		tb.Fatal(err)
	}
	rp := newRawPeer(tb, h)
	rp.subscribe(tb, testTopic)
	return r, rp
}

func (rp *rawPeer) send(tb testing.TB, rpc *pubsubpb.RPC) {
	tb.Helper()
	b, err := rpc.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	frame := binary.AppendUvarint(nil, uint64(len(b)))
	if _, err := rp.out.Write(append(frame, b...)); err != nil {
		tb.Fatalf("raw send: %v", err)
	}
}

func (rp *rawPeer) subscribe(tb testing.TB, topic string) {
	sub := true
	rp.send(tb, &pubsubpb.RPC{Subscriptions: []*pubsubpb.RPC_SubOpts{{Subscribe: &sub, Topicid: &topic}}})
}

func (rp *rawPeer) publish(tb testing.TB, msgs ...*pubsubpb.Message) {
	rp.send(tb, &pubsubpb.RPC{Publish: msgs})
}

// decodeFrames parses the RPC frames a raw peer received.
func decodeFrames(tb testing.TB, frames [][]byte) []*pubsubpb.RPC {
	tb.Helper()
	out := make([]*pubsubpb.RPC, len(frames))
	for i, f := range frames {
		out[i] = new(pubsubpb.RPC)
		if err := out[i].Unmarshal(f); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func (rp *rawPeer) frames() [][]byte {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return append([][]byte(nil), rp.in...)
}

// relayGoroutines lists live goroutines that belong to a relay or to its gossipsub.
func relayGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "go-libp2p-pubsub") || strings.Contains(g, "wakunode/relay.(*") {
			out = append(out, g)
		}
	}
	return out
}

func payloadOf(i int) string { return fmt.Sprintf("msg-%d", i) }
