package relay

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

var (
	benchRates = flag.String("relay.rates", "1000,5000,10000", "BenchmarkForward: publish rates (msg/s), comma-separated")
	benchSizes = flag.String("relay.sizes", "1024,10240", "BenchmarkForward: message sizes (bytes), comma-separated")
	benchDur   = flag.Duration("relay.dur", time.Second, "BenchmarkForward: publishing time per rate")
	benchOutQ  = flag.Int("relay.outq", 0, "BenchmarkForward: PeerOutboundQueueSize (0 = default)")
)

func intList(b *testing.B, s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			b.Fatalf("bad list %q: %v", s, err)
		}
		out = append(out, n)
	}
	return out
}

// latencySink records the one-way latency of each delivery from the message timestamp.
type latencySink struct {
	mu  sync.Mutex
	lat []time.Duration
}

func (s *latencySink) Deliver(e *message.Envelope) {
	d := time.Since(time.Unix(0, e.Message.GetTimestamp()))
	s.mu.Lock()
	s.lat = append(s.lat, d)
	s.mu.Unlock()
}

func (s *latencySink) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.lat
	s.lat = nil
	return out
}

func (s *latencySink) n() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lat)
}

type forwardNet struct {
	pub, mid, recv *Relay
	sink           *latencySink
	metrics        []*countMetrics // pub, mid, recv
}

// newForwardNet builds publisher → node under test → receiver; the ends only know the middle.
func newForwardNet(b *testing.B) *forwardNet {
	hosts := []host.Host{testhost.New(b), testhost.New(b), testhost.New(b)}
	n := &forwardNet{sink: &latencySink{}}
	relays := make([]*Relay, 3)
	for i, h := range hosts {
		m := newCountMetrics()
		n.metrics = append(n.metrics, m)
		var sink Sink
		if i == 2 {
			sink = n.sink
		}
		cfg := testConfig(m)
		cfg.PeerOutboundQueueSize = *benchOutQ
		relays[i] = newRelay(b, h, cfg, sink)
		if err := relays[i].Subscribe(testTopic); err != nil {
			b.Fatal(err)
		}
	}
	n.pub, n.mid, n.recv = relays[0], relays[1], relays[2]
	testhost.Connect(b, hosts[0], hosts[1])
	testhost.Connect(b, hosts[2], hosts[1])
	waitFor(b, "mesh", func() bool {
		return len(n.mid.MeshPeers(testTopic)) == 2 && len(n.pub.MeshPeers(testTopic)) == 1 && len(n.recv.MeshPeers(testTopic)) == 1
	})
	return n
}

func (n *forwardNet) drops() int {
	s := 0
	for _, m := range n.metrics {
		s += m.sumPrefix("dropped/") + m.sumPrefix("rejected/")
	}
	return s
}

// dropDetail names the non-zero drop counters per node, for the table.
func (n *forwardNet) dropDetail() map[string]int {
	out := map[string]int{}
	for i, m := range n.metrics {
		m.mu.Lock()
		for k, v := range m.n {
			if strings.HasPrefix(k, "dropped/") || strings.HasPrefix(k, "rejected/") {
				out[[]string{"pub", "mid", "recv"}[i]+":"+k[strings.LastIndex(k, "/")+1:]] += v
			}
		}
		m.mu.Unlock()
	}
	return out
}

type forwardResult struct {
	size, rate, sent, delivered, drops int
	sendRate                           float64
	p50, p99                           time.Duration
}

func (n *forwardNet) run(b *testing.B, size, rate int, dur time.Duration, seq *uint64) forwardResult {
	ctx := context.Background()
	drops0 := n.drops()
	total := int(float64(rate) * dur.Seconds())
	interval := time.Second / time.Duration(rate)
	payload := make([]byte, size-48) // WakuMessage framing, content topic and timestamp take ~48 B
	start := time.Now()
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		*seq++
		binary.BigEndian.PutUint64(payload, *seq)
		m := &pb.WakuMessage{Payload: slices.Clone(payload), ContentTopic: testContentTopic, Timestamp: proto.Int64(time.Now().UnixNano())}
		if _, err := n.pub.Publish(ctx, testTopic, m); err != nil {
			b.Fatalf("publish: %v", err)
		}
	}
	sendRate := float64(total) / time.Since(start).Seconds()
	// Drain: until everything arrived, or nothing moved for a second (the rest is lost).
	last, lastChange := -1, time.Now()
	for {
		got := n.sink.n()
		if got >= total || time.Since(lastChange) > time.Second {
			break
		}
		if got != last {
			last, lastChange = got, time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	lat := n.sink.take()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	if testing.Verbose() && n.drops() > drops0 {
		fmt.Printf("cumulative drops by node and reason: %v\n", n.dropDetail())
	}
	return forwardResult{size: size, rate: rate, sent: total, delivered: len(lat), drops: n.drops() - drops0,
		sendRate: sendRate, p50: pct(0.50), p99: pct(0.99)}
}

// BenchmarkForward measures a relay forwarding from one peer to another at fixed publish rates.
// Each rate runs once for -relay.dur; run with -benchtime=1x. Use -v for a Markdown table.
func BenchmarkForward(b *testing.B) {
	var rows []forwardResult
	for _, size := range intList(b, *benchSizes) {
		b.Run(fmt.Sprintf("size=%dB", size), func(b *testing.B) {
			n := newForwardNet(b)
			var seq uint64
			for _, rate := range intList(b, *benchRates) {
				b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
					r := n.run(b, size, rate, *benchDur, &seq)
					rows = append(rows, r)
					b.ReportMetric(float64(r.delivered)/float64(r.sent), "delivered/sent")
					b.ReportMetric(float64(r.drops), "drops")
					b.ReportMetric(r.sendRate, "sent/s")
					b.ReportMetric(float64(r.p50.Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(r.p99.Microseconds())/1000, "p99-ms")
				})
			}
		})
	}
	if testing.Verbose() && len(rows) > 0 {
		fmt.Println("\n| size | target msg/s | sent msg/s | delivered/sent | drops | p50 | p99 |")
		fmt.Println("|---:|---:|---:|---:|---:|---:|---:|")
		for _, r := range rows {
			fmt.Printf("| %d B | %d | %.0f | %d/%d | %d | %s | %s |\n", r.size, r.rate, r.sendRate, r.delivered, r.sent, r.drops,
				r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond))
		}
	}
}
