package sim

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/relay"
)

func TestTraffic(t *testing.T) {
	var tr Traffic
	tr.RPCBytes("/waku/2/rs/1/0", relay.DirIn, 100)
	tr.RPCBytes("/waku/2/rs/1/0", relay.DirIn, 100) // a duplicate copy counts
	tr.RPCBytes("/waku/2/rs/1/1", relay.DirOut, 50)
	tr.RPCBytes("", relay.DirIn, 7)
	tr.RPCBytes("", relay.DirOut, 3)
	tr.MessageDropped("x", relay.DropOutboundQueue)
	for name, c := range map[string]struct{ got, want int64 }{
		"in copies":  {tr.DataInCopies.Load(), 2},
		"in bytes":   {tr.DataInBytes.Load(), 200},
		"out copies": {tr.DataOutCopies.Load(), 1},
		"out bytes":  {tr.DataOutBytes.Load(), 50},
		"ctrl in":    {tr.CtrlInBytes.Load(), 7},
		"ctrl out":   {tr.CtrlOutBytes.Load(), 3},
		"BytesIn":    {tr.BytesIn(), 207},
		"BytesOut":   {tr.BytesOut(), 53},
		"dropped":    {tr.Dropped.Load(), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", name, c.got, c.want)
		}
	}
}

func TestReceiver(t *testing.T) {
	t0 := time.Unix(1000, 0)
	clock := NewClock(4)
	clock.Published(0, t0)
	clock.Published(1, t0.Add(time.Second))
	now := t0.Add(2 * time.Second)
	r := NewReceiver(clock, func() time.Time { return now })
	env := func(i int) *message.Envelope {
		return &message.Envelope{Message: &pb.WakuMessage{Payload: Payload(i, 32)}}
	}
	r.MarkOwn(1)
	r.Deliver(env(0))
	r.Deliver(env(0)) // a fresh relay after a restart may deliver it again
	r.Deliver(env(1)) // own: delivered, no latency
	r.Deliver(env(2)) // unknown publish time: delivered, no latency
	r.Deliver(&message.Envelope{Message: &pb.WakuMessage{Payload: []byte{1}}})
	if r.Unique() != 3 || !r.Has(0) || !r.Has(2) || r.Has(3) {
		t.Fatalf("unique %d, has 0/2/3 = %v/%v/%v", r.Unique(), r.Has(0), r.Has(2), r.Has(3))
	}
	if l := r.Latencies(); len(l) != 1 || l[0] != 2*time.Second {
		t.Fatalf("latencies %v, want [2s]", l)
	}
}

func TestPayloadIndex(t *testing.T) {
	for _, i := range []int{0, 1, 255, 1 << 20} {
		p := Payload(i, 10)
		if len(p) != 10 {
			t.Fatalf("len %d", len(p))
		}
		if got, ok := PayloadIndex(p); !ok || got != i {
			t.Fatalf("index %d: got %d %v", i, got, ok)
		}
	}
	if _, ok := PayloadIndex([]byte{1, 2}); ok {
		t.Fatal("short payload accepted")
	}
	if _, ok := PayloadIndex(bytes.Repeat([]byte{0xff}, 8)); ok {
		t.Fatal("huge index accepted")
	}
}

func TestPercentileMeanCDF(t *testing.T) {
	var xs []time.Duration
	for i := 1; i <= 100; i++ {
		xs = append(xs, time.Duration(101-i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := Percentile(xs, c.q); got != c.want {
			t.Errorf("p%v = %v, want %v", c.q, got, c.want)
		}
	}
	if xs[0] != 100*time.Millisecond {
		t.Error("Percentile sorted its input")
	}
	if Percentile(nil, 0.5) != 0 || Mean(nil) != 0 || MaxOf(nil) != 0 || CDF(nil, 10) != nil {
		t.Error("empty inputs")
	}
	if m := Mean([]float64{1, 2, 6}); m != 3 {
		t.Errorf("mean %v", m)
	}
	cdf := CDF(xs, 10)
	if len(cdf) != 10 || cdf[0].X != 10 || cdf[0].P != 0.1 || cdf[9].X != 100 || cdf[9].P != 1 {
		t.Fatalf("cdf %v", cdf)
	}
	for i := 1; i < len(cdf); i++ {
		if cdf[i].X < cdf[i-1].X || cdf[i].P <= cdf[i-1].P {
			t.Fatalf("cdf not monotone: %v", cdf)
		}
	}
	if c := CDF(xs[:7], 3); c[len(c)-1].P != 1 {
		t.Fatalf("cdf does not end at 1: %v", c)
	}
}

func TestRandomGraph(t *testing.T) {
	for _, c := range []struct{ n, degree int }{{2, 5}, {3, 2}, {30, 8}, {100, 16}, {25, 24}} {
		rng := rand.New(rand.NewPCG(1, 2))
		members := make([]int, c.n)
		for i := range members {
			members[i] = i
		}
		g := RandomGraph(rng, c.n, members, c.degree)
		if !g.Connected(members) {
			t.Fatalf("%+v: not connected", c)
		}
		want := min(c.degree, c.n-1)
		total := 0
		for v, ns := range g {
			seen := map[int]bool{}
			for _, w := range ns {
				if w == v || seen[w] {
					t.Fatalf("%+v: self loop or duplicate at %d", c, v)
				}
				seen[w] = true
			}
			if len(ns) > want+2 { // the ring may add up to two over
				t.Fatalf("%+v: node %d has %d neighbours", c, v, len(ns))
			}
			total += len(ns)
		}
		if avg := float64(total) / float64(c.n); avg < float64(want)-1 {
			t.Fatalf("%+v: mean degree %.2f", c, avg)
		}
		if len(g.Edges())*2 != total {
			t.Fatalf("%+v: edges %d, degree sum %d", c, len(g.Edges()), total)
		}
	}
}

func frame(rpc *pubsubpb.RPC) []byte {
	body, _ := rpc.Marshal()
	return append(binary.AppendUvarint(nil, uint64(len(body))), body...)
}

func TestDropPublished(t *testing.T) {
	topic := "/waku/2/rs/1/0"
	msgs := func() []*pubsubpb.Message {
		return []*pubsubpb.Message{{Data: []byte("a"), Topic: &topic}, {Data: []byte("b"), Topic: &topic}}
	}
	always := func() bool { return true }
	never := func() bool { return false }
	first := func() func() bool { n := 0; return func() bool { n++; return n == 1 } }

	if _, ok := dropPublished(frame(&pubsubpb.RPC{Publish: msgs()}), never); ok {
		t.Error("nothing dropped but ok")
	}
	if out, ok := dropPublished(frame(&pubsubpb.RPC{Publish: msgs()}), always); !ok || out != nil {
		t.Errorf("all dropped: out %x ok %v", out, ok)
	}
	ctrl := &pubsubpb.ControlMessage{Ihave: []*pubsubpb.ControlIHave{{TopicID: &topic}}}
	out, ok := dropPublished(frame(&pubsubpb.RPC{Publish: msgs(), Control: ctrl}), always)
	if !ok || out == nil {
		t.Fatal("control must survive")
	}
	out, ok = dropPublished(frame(&pubsubpb.RPC{Publish: msgs()}), first())
	if !ok {
		t.Fatal("one dropped but not ok")
	}
	size, n := binary.Uvarint(out)
	var rpc pubsubpb.RPC
	if int(size) != len(out)-n || rpc.Unmarshal(out[n:]) != nil || len(rpc.Publish) != 1 || string(rpc.Publish[0].Data) != "b" {
		t.Fatalf("re-framed rpc wrong: %x", out)
	}
	if _, ok := dropPublished([]byte{5, 1}, always); ok {
		t.Error("truncated frame accepted")
	}
}

func FuzzDropPublished(f *testing.F) {
	topic := "t"
	f.Add(frame(&pubsubpb.RPC{Publish: []*pubsubpb.Message{{Data: []byte("x"), Topic: &topic}}}))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ok := dropPublished(b, func() bool { return true })
		if ok && out != nil {
			size, n := binary.Uvarint(out)
			var rpc pubsubpb.RPC
			if n <= 0 || int(size) != len(out)-n || rpc.Unmarshal(out[n:]) != nil || len(rpc.Publish) != 0 {
				t.Fatalf("bad output frame %x", out)
			}
		}
	})
}

func TestWithDegrees(t *testing.T) {
	for _, c := range [][4]int{{6, 4, 8, 6}, {2, 2, 2, 0}, {3, 2, 4, 3}, {4, 3, 5, 4}, {8, 6, 12, 8}, {5, 5, 5, 5}} {
		p := WithDegrees(relay.DefaultParams(), c[0], c[1], c[2], c[3])
		if err := CheckParams(p); err != nil {
			t.Errorf("%v: %v", c, err)
		}
	}
	if CheckParams(relay.DefaultParams()) != nil || CheckParams(LibraryParams()) != nil {
		t.Error("profiles invalid")
	}
}
