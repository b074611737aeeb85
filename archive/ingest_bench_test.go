package archive

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
)

// BenchmarkSQLiteInsert is the pure-insert microbenchmark: WAKU_BENCH_FILL (default 200,000)
// relay-shaped messages, generated beforehand, written to a fresh SQLite store as fast as the
// writer takes them (producer waits for queue room), timed until the last batch is committed.
//
//	WAKU_BENCH_FILL=200000 go test -run '^$' -bench SQLiteInsert -benchtime 1x ./archive/
func BenchmarkSQLiteInsert(b *testing.B) {
	fill := envInt("WAKU_BENCH_FILL", 200_000)
	gen := newRelayGen()
	es := make([]*message.Envelope, fill)
	for i := range es {
		es[i] = gen.next()
	}
	b.Run("default", func(b *testing.B) { benchInsert(b, es, Config{}) })
	b.Run("batch20k", func(b *testing.B) { benchInsert(b, es, Config{BatchSize: 20_000, BatchBytes: 32 << 20}) })
}

func benchInsert(b *testing.B, es []*message.Envelope, cfg Config) {
	cfg.URL = "sqlite://" + filepath.Join(b.TempDir(), "insert.sqlite3")
	cfg.Migrate = true
	// The messages were made before the run: the clock must still admit them.
	cfg.Now = func() time.Time { return time.Unix(0, es[len(es)-1].Message.GetTimestamp()) }
	a, err := Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	b.ResetTimer()
	start := time.Now()
	for _, e := range es {
		if err := a.InsertHistorical(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(len(es))/el.Seconds(), "msg/s")
}
