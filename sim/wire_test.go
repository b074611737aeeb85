package sim

import (
	"context"
	"encoding/binary"
	"math"
	"testing"
	"time"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"

	"github.com/wakunode/wakunode/relay"
)

func framed(t *testing.T, rpc *pubsubpb.RPC) []byte {
	t.Helper()
	body, err := rpc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.AppendUvarint(nil, uint64(len(body))), body...)
}

// Every byte of a frame lands in exactly one category, and each category holds its entries.
func TestFrameBytesSplitsEveryByte(t *testing.T) {
	topic, sub := "/waku/2/rs/1/0", true
	msg := func(n int) *pubsubpb.Message { return &pubsubpb.Message{Data: make([]byte, n), Topic: &topic} }
	only := func(rpc *pubsubpb.RPC) int64 { return int64(len(framed(t, rpc))) } // one entry plus framing
	rpc := &pubsubpb.RPC{
		Publish:       []*pubsubpb.Message{msg(1000), msg(200)},
		Subscriptions: []*pubsubpb.RPC_SubOpts{{Subscribe: &sub, Topicid: &topic}},
		Control: &pubsubpb.ControlMessage{
			Ihave:     []*pubsubpb.ControlIHave{{TopicID: &topic, MessageIDs: []string{"a", "b"}}},
			Iwant:     []*pubsubpb.ControlIWant{{MessageIDs: []string{"c"}}},
			Graft:     []*pubsubpb.ControlGraft{{TopicID: &topic}},
			Prune:     []*pubsubpb.ControlPrune{{TopicID: &topic}},
			Idontwant: []*pubsubpb.ControlIDontWant{{MessageIDs: []string{"d", "e", "f"}}},
		},
	}
	b := framed(t, rpc)
	c := frameBytes(b)
	var sum int64
	for i, v := range c {
		if v <= 0 {
			t.Errorf("%s: %d bytes, want > 0", WireKinds[i], v)
		}
		sum += v
	}
	if sum != int64(len(b)) {
		t.Fatalf("categories sum to %d, frame is %d bytes", sum, len(b))
	}
	// A frame holding one publish entry: publish + its 2-byte framing (length prefix and nothing else).
	one := &pubsubpb.RPC{Publish: []*pubsubpb.Message{msg(1000)}}
	if got, want := frameBytes(framed(t, one))[wireIndex(WirePublish)], only(one)-2; got != want {
		t.Fatalf("one 1000-byte message: publish %d bytes, want %d", got, want)
	}
	if got := c[wireIndex(WirePublish)]; got < 1200 {
		t.Fatalf("two messages of 1000 and 200 bytes: publish %d bytes", got)
	}
	// Not a single frame: all framing, nothing lost.
	bad := frameBytes(b[:len(b)-1])
	if bad[wireIndex(WireFraming)] != int64(len(b)-1) || bad[wireIndex(WirePublish)] != 0 {
		t.Fatalf("truncated frame: %v", bad)
	}
}

// TestWireBytesPerMessage runs the node's and nwaku's parameters on the same graph and checks
// the byte accounting's invariants, and that nwaku's larger mesh sends more payload copies.
func TestWireBytesPerMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("network run")
	}
	base := Config{Nodes: 16, Degree: 10, Messages: 10, Size: 1000, Rate: 20, Warmup: 2 * time.Second, Drain: 30 * time.Second, Seed: 3}
	res := map[string]*Result{}
	for name, p := range map[string]relay.Params{"node": relay.DefaultParams(), "nwaku": relay.NwakuParams()} {
		cfg := base
		cfg.Params, cfg.ParamsName = p, name
		r, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Delivered != r.Expected || r.Published != cfg.Messages {
			t.Fatalf("%s: published %d, delivered %d of %d", name, r.Published, r.Delivered, r.Expected)
		}
		// Every write is one node's out and another's in: the means over nodes are equal.
		if math.Abs(r.WireInPerMsg-r.WireOutPerMsg) > 1e-6*r.WireOutPerMsg {
			t.Errorf("%s: in %.1f, out %.1f bytes per message", name, r.WireInPerMsg, r.WireOutPerMsg)
		}
		var kinds float64
		for _, k := range WireKinds {
			kinds += r.WireByKind[k]
		}
		if math.Abs(kinds-r.WireOutPerMsg) > 1e-6*r.WireOutPerMsg {
			t.Errorf("%s: kinds sum to %.1f, total out %.1f", name, kinds, r.WireOutPerMsg)
		}
		// Each delivery needs at least one copy of the encoded message on the wire.
		minPub := float64(r.MsgBytes) * float64(r.Delivered) / float64(r.Nodes*r.Published)
		if r.WireByKind[WirePublish] < minPub {
			t.Errorf("%s: %.1f publish bytes per node per message, below one copy per delivery (%.1f)", name, r.WireByKind[WirePublish], minPub)
		}
		if r.WireControlShare <= 0 || r.WireControlShare >= 1 || r.WireOutMaxPerMsg < r.WireOutPerMsg {
			t.Errorf("%s: control share %.3f, max out %.1f, mean out %.1f", name, r.WireControlShare, r.WireOutMaxPerMsg, r.WireOutPerMsg)
		}
		// Frames were counted; the TCP estimate adds exactly the overhead per frame.
		if r.WireFramesOutPerMsg <= 0 ||
			math.Abs(r.WireTCPOutPerMsg-r.WireOutPerMsg-TransportOverhead*r.WireFramesOutPerMsg) > 1e-6 {
			t.Errorf("%s: %.2f frames per message for %.0f publish bytes; TCP estimate %.1f", name, r.WireFramesOutPerMsg, r.WireByKind[WirePublish], r.WireTCPOutPerMsg)
		}
		t.Logf("%s: %.0f B in, %.0f B out per node per message, %.1f %% control, %.2f copies", name,
			r.WireInPerMsg, r.WireOutPerMsg, 100*r.WireControlShare, r.CopiesPerMessage)
		res[name] = r
	}
	if res["nwaku"].WireByKind[WirePublish] <= res["node"].WireByKind[WirePublish] {
		t.Fatalf("publish bytes per message: nwaku %.0f, node %.0f: nwaku's mesh (Dhi 8) should send more than the node's (Dhi 5)",
			res["nwaku"].WireByKind[WirePublish], res["node"].WireByKind[WirePublish])
	}
}
