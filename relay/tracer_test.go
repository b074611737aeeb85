package relay

import (
	"strings"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
)

// A peer can name any topic in the messages of an RPC; pubsub drops those we do not serve
// only after the tracer saw them. Their bytes count as overhead, never as a new label.
func TestTracerLabelsOnlyServedTopics(t *testing.T) {
	const served = "/waku/2/rs/1/3"
	m := newCountMetrics()
	tr := newTracer(m)
	tr.serves = func(topic string) bool { return topic == served }
	msg := func(topic string, n int) *pubsubpb.Message {
		return &pubsubpb.Message{Data: make([]byte, n), Topic: &topic}
	}
	in := []*pubsubpb.Message{msg(served, 100), msg(served, 50), msg("/random/1", 70),
		msg("/random/1", 10), msg("/random/2", 20), msg(served, 30)}
	rpc := &pubsub.RPC{RPC: pubsubpb.RPC{Publish: in,
		Control: &pubsubpb.ControlMessage{Ihave: []*pubsubpb.ControlIHave{{TopicID: in[0].Topic}}}}}
	servedBytes := in[0].Size() + in[1].Size() + in[5].Size()

	tr.RecvRPC(rpc)
	if got := m.get("rpc/in/" + served); got != servedBytes {
		t.Fatalf("served topic: %d bytes, want %d", got, servedBytes)
	}
	if got := m.get("rpc/in/"); got != rpc.Size()-servedBytes {
		t.Fatalf("overhead: %d bytes, want %d", got, rpc.Size()-servedBytes)
	}
	if n := m.sumPrefix("rpc/in/"); n != rpc.Size() {
		t.Fatalf("in total %d, want the frame's %d", n, rpc.Size())
	}
	m.mu.Lock()
	for k := range m.n {
		if strings.Contains(k, "random") {
			t.Errorf("label for an unserved topic: %s", k)
		}
	}
	m.mu.Unlock()

	// What we send is ours: every topic keeps its label.
	tr.SendRPC(rpc, "")
	if got, want := m.get("rpc/out//random/1"), in[2].Size()+in[3].Size(); got != want {
		t.Fatalf("out /random/1: %d bytes, want %d", got, want)
	}
	if n := m.sumPrefix("rpc/out/"); n != rpc.Size() {
		t.Fatalf("out total %d, want the frame's %d", n, rpc.Size())
	}
}
