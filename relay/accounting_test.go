package relay

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/internal/testacct"
	"github.com/wakunode/wakunode/internal/testhost"
)

func TestByteAccountingMutual(t *testing.T) {
	ha, hb := testhost.New(t), testhost.New(t)
	fa, fb := testacct.New(0), testacct.New(0)
	ca, cb := newCollector(), newCollector()
	cfgA, cfgB := testConfig(nil), testConfig(nil)
	cfgA.ByteAccounting, cfgB.ByteAccounting = fa, fb
	a, b := newRelay(t, ha, cfgA, ca), newRelay(t, hb, cfgB, cb)
	for _, r := range []*Relay{a, b} {
		if err := r.Subscribe(testTopic); err != nil {
			t.Fatal(err)
		}
	}
	testhost.Connect(t, ha, hb)
	waitFor(t, "mesh", func() bool { return len(a.MeshPeers(testTopic)) == 1 && len(b.MeshPeers(testTopic)) == 1 })
	sum := map[*Relay]int{}
	for i := range 30 {
		from := a
		if i%3 == 0 {
			from = b
		}
		env, err := from.Publish(context.Background(), testTopic, wakuMsg(payloadOf(i)))
		if err != nil {
			t.Fatal(err)
		}
		sum[from] += len(env.Raw)
	}
	waitFor(t, "delivery", func() bool { return ca.total() == 30 && cb.total() == 30 })
	// Each side books the other's messages as received and its own as sent to the other; a
	// local publish is nobody's received bytes.
	waitFor(t, "both ledgers", func() bool {
		return fa.SentTo(hb.ID()) == sum[a] && fb.ReceivedFrom(ha.ID()) == sum[a] &&
			fb.SentTo(ha.ID()) == sum[b] && fa.ReceivedFrom(hb.ID()) == sum[b]
	})
	if fa.ReceivedFrom(ha.ID())+fb.ReceivedFrom(hb.ID()) != 0 {
		t.Fatal("a local publish was booked as received")
	}
}

func TestByteAccountingNilInstallsNothing(t *testing.T) {
	if opts := byteTracerOptions("self", nil); opts != nil {
		t.Fatalf("%d options for a nil ByteAccounting", len(opts))
	}
	if opts := byteTracerOptions("self", testacct.New(0)); len(opts) != 1 {
		t.Fatalf("%d options, want the tracer", len(opts))
	}
}

// BenchmarkForwardAccounting publishes b.N 1 KB messages through publisher → relay → receiver
// (in windows small enough that nothing is dropped) with the byte tracer off and on (on: every
// node books into a real accounting.Ledger). It prints wall and process CPU time per message
// (all three nodes share the process). Run with -benchtime=5000x.
func BenchmarkForwardAccounting(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("accounting=%v", on), func(b *testing.B) {
			hosts := []host.Host{testhost.New(b), testhost.New(b), testhost.New(b)}
			relays := make([]*Relay, 3)
			sink := newCollector()
			for i, h := range hosts {
				cfg := testConfig(nil)
				if on {
					cfg.ByteAccounting = testacct.NewLedger(b, accounting.Relay)
				}
				var s Sink
				if i == 2 {
					s = sink
				}
				relays[i] = newRelay(b, h, cfg, s)
				if err := relays[i].Subscribe(testTopic); err != nil {
					b.Fatal(err)
				}
			}
			testhost.Connect(b, hosts[0], hosts[1])
			testhost.Connect(b, hosts[2], hosts[1])
			waitFor(b, "mesh", func() bool { return len(relays[1].MeshPeers(testTopic)) == 2 })
			payload := make([]byte, 1024-48)
			const window = 500
			b.ResetTimer()
			cpu0, start := testacct.CPUTime(), time.Now()
			for i := 0; i < b.N; i++ {
				m := wakuMsg(fmt.Sprintf("%08d", i))
				m.Payload = append(m.Payload, payload...)
				if _, err := relays[0].Publish(context.Background(), testTopic, m); err != nil {
					b.Fatal(err)
				}
				if (i+1)%window == 0 || i == b.N-1 {
					waitFor(b, "window", func() bool { return sink.total() == i+1 })
				}
			}
			wall, cpu := time.Since(start), testacct.CPUTime()-cpu0
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
			b.ReportMetric(float64(b.N)/wall.Seconds(), "msg/s")
		})
	}
}
