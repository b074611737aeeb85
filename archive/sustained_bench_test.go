package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// BenchmarkSustained fills a fresh store with WAKU_BENCH_FILL messages (default 100,000;
// 1,000,000 for the record) shaped like relay traffic (decoded from bytes, 200-byte payloads,
// 100 content topics, timestamps = now) and reports per driver:
//
//   - lossless: the producer waits for queue room (as store resume does), so the rate is
//     what the writer sustains with nothing dropped;
//   - paced at WAKU_BENCH_RATE msg/s (default 20,000) through Insert, as relay delivers,
//     with the spill on (the node's default): lost counts what was dropped (spill full),
//     spill-peak-MB how much waited on disk, stored-msg/s includes draining it;
//   - paced-nospill: the same without the spill, so lost shows what the writer alone cannot
//     take (queue_full).
//
// stored is the row count at the end; lost + stored = the fill. peak-RSS-MB is the process
// high-water mark during the run (reset before each run).
//
//	WAKU_BENCH_FILL=1000000 WAKU_BENCH_RATE=21500 go test -run '^$' -bench Sustained -benchtime 1x -timeout 60m ./archive/
func BenchmarkSustained(b *testing.B) {
	fill := envInt("WAKU_BENCH_FILL", 100_000)
	rate := envInt("WAKU_BENCH_RATE", 20_000)
	for _, drv := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"lossless", "paced", "paced-nospill"} {
			b.Run(drv+"/"+mode, func(b *testing.B) {
				cfg := Config{URL: benchURL(b, drv, "sustained"), Migrate: true, MaxConns: 4}
				if mode == "paced" { // lossless waits for room rather than spilling
					cfg.SpillDir = b.TempDir()
				}
				a, err := Open(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				defer a.Close()
				resetPeakRSS()
				gen := newRelayGen()
				b.ResetTimer()
				start := time.Now()
				var (
					offered   int
					spillPeak int64
				)
				for offered < fill {
					if mode != "lossless" {
						due := min(fill, int(time.Since(start).Seconds()*float64(rate)))
						if offered >= due {
							time.Sleep(time.Millisecond)
							continue
						}
						for ; offered < due; offered++ {
							if err := a.Insert(gen.next()); err != nil && !errors.Is(err, ErrQueueFull) {
								b.Fatal(err)
							}
						}
						_, sb := a.Spilled()
						spillPeak = max(spillPeak, sb)
						continue
					}
					if err := a.InsertHistorical(context.Background(), gen.next()); err != nil {
						b.Fatal(err)
					}
					offered++
				}
				produced := time.Since(start)
				if err := a.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
				el := time.Since(start)
				b.StopTimer()
				stored, _ := a.Count(context.Background())
				b.ReportMetric(float64(fill)/produced.Seconds(), "offered-msg/s")
				b.ReportMetric(float64(stored)/el.Seconds(), "stored-msg/s")
				b.ReportMetric(float64(stored), "stored")
				b.ReportMetric(float64(a.Dropped()), "lost")
				b.ReportMetric(float64(spillPeak)/(1<<20), "spill-peak-MB")
				b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
				if stored+a.Dropped() != int64(fill) {
					b.Fatalf("stored %d + dropped %d != %d offered", stored, a.Dropped(), fill)
				}
			})
		}
	}
}

// relayGen makes distinct relay-shaped envelopes cheaply.
type relayGen struct {
	i       int
	payload []byte
}

func newRelayGen() *relayGen { return &relayGen{payload: make([]byte, 200)} }

func (g *relayGen) next() *message.Envelope {
	g.i++
	copy(g.payload, strconv.Itoa(g.i))
	ts := time.Now().UnixNano()
	m := &pb.WakuMessage{Payload: g.payload, ContentTopic: fmt.Sprintf("/bench/1/t%d/proto", g.i%benchTopics), Timestamp: &ts}
	e, err := message.NewEnvelope("/waku/2/rs/1/0", m, ts)
	if err != nil {
		panic(err)
	}
	d, err := message.Decode(e.PubsubTopic, e.Raw, ts)
	if err != nil {
		panic(err)
	}
	return d
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// resetPeakRSS resets VmHWM (Linux: clear_refs 5); peakRSS reads it in bytes.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func peakRSS() int64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
