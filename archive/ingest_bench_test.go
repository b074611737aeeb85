package archive

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
)

// BenchmarkSQLiteInsert is the pure-insert microbenchmark: WAKU_BENCH_FILL (default 200,000)
// relay-shaped messages, generated beforehand, written to a fresh SQLite store as fast as the
// writer takes them (producer waits for queue room), timed until the last batch is committed.
// cpu-µs/msg is the process CPU time per message (writer, producer and GC).
//
//	WAKU_BENCH_FILL=200000 go test -run '^$' -bench SQLiteInsert -benchtime 1x ./archive/
func BenchmarkSQLiteInsert(b *testing.B) {
	fill := envInt("WAKU_BENCH_FILL", 200_000)
	gen := newRelayGen()
	es := make([]*message.Envelope, fill)
	for i := range es {
		es[i] = gen.next()
	}
	// The writer grows a batch up to maxBatchScale times the configured size when a backlog
	// waits, as it does here: "fixed-5k" is the batch size before that (5,000 rows, 8 MiB).
	b.Run("fixed-5k", func(b *testing.B) {
		benchInsert(b, es, Config{BatchSize: 5_000 / maxBatchScale, BatchBytes: 8 << 20 / maxBatchScale})
	})
	b.Run("default", func(b *testing.B) { benchInsert(b, es, Config{}) })
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
	start, cpu0 := time.Now(), cpuTime()
	for _, e := range es {
		if err := a.InsertHistorical(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(len(es))/el.Seconds(), "msg/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(es)), "cpu-µs/msg")
}

// cpuTime is the process's user+system CPU time: on a shared machine it varies less than
// wall time between runs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSQLiteSmallBatches is the writer at user rates: commits of a few messages (about 10
// at 10 msg/s, one per MaxCommitDelay), straight to the driver. faults/msg is the process's
// minor page faults per message: memory mapped afresh (modernc's allocator unmaps a page when
// its last block is freed).
//
//	go test -run '^$' -bench SQLiteSmallBatches ./archive/
func BenchmarkSQLiteSmallBatches(b *testing.B) {
	for _, size := range []int{400, 1 << 10, 10 << 10} {
		for _, rows := range []int{1, 10} {
			b.Run(fmt.Sprintf("%dB-x%d", size, rows), func(b *testing.B) {
				warm := 12 << 20 / (size * rows) // past the writer's page cache (2 MiB at these batches) first
				s, batches := smallBatches(b, size, rows, warm+b.N)
				ctx := context.Background()
				for _, batch := range batches[:warm] {
					if _, err := s.insertBatch(ctx, batch, 1); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				cpu0, faults0 := cpuTime(), minorFaults(b, syscall.RUSAGE_SELF)
				for _, batch := range batches[warm:] {
					if _, err := s.insertBatch(ctx, batch, 1); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				n := float64(b.N * rows)
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/n, "cpu-µs/msg")
				b.ReportMetric(float64(minorFaults(b, syscall.RUSAGE_SELF)-faults0)/n, "faults/msg")
			})
		}
	}
}

// smallBatches opens a fresh SQLite archive and makes n batches of rows messages of size bytes.
func smallBatches(tb testing.TB, size, rows, n int) (*sqliteDB, [][]*message.Envelope) {
	a := open(tb, "sqlite://"+filepath.Join(tb.TempDir(), "small.sqlite3"))
	gen := &relayGen{payload: make([]byte, size)}
	batches := make([][]*message.Envelope, n)
	for i := range batches {
		for range rows {
			batches[i] = append(batches[i], gen.next())
		}
	}
	return a.db.(*sqliteDB), batches
}

// rusageThread is Linux's RUSAGE_THREAD: the calling OS thread alone.
const rusageThread = 1

// minorFaults is the minor page faults of who (syscall.RUSAGE_SELF or rusageThread).
func minorFaults(tb testing.TB, who int) int64 {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Minflt
}

// BenchmarkSQLiteFullBatches is the writer under a backlog of 10 KB messages (at 10 KB x
// 7,500 msg/s batches fill their 8 MiB at about 800 rows): 96,000 messages in batches of 100,
// 200 and 800 rows, straight to the driver, with the writer's light 2 MiB page cache and with a
// 16 MiB one that holds a whole batch (docs/benchmarks-history.md, session 15: a smaller cache
// spills dirty pages to the WAL mid-transaction). Each size's two caches run back to back, so
// a machine whose speed drifts affects both alike.
//
//	go test -run '^$' -bench SQLiteFullBatches -benchtime 1x -count 3 ./archive/
func BenchmarkSQLiteFullBatches(b *testing.B) {
	for _, rows := range []int{100, 200, 800} {
		for _, cacheKiB := range []int{lightWriterCacheKiB, 16 << 10} {
			b.Run(fmt.Sprintf("x%d-cache%dMiB", rows, cacheKiB>>10), func(b *testing.B) {
				s, batches := smallBatches(b, 10<<10, rows, 96_000/rows)
				ctx := context.Background()
				if err := s.openWriter(ctx); err != nil {
					b.Fatal(err)
				}
				if _, err := s.wconn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", -cacheKiB)); err != nil {
					b.Fatal(err)
				}
				s.cacheKiB = lightWriterCacheKiB // what sizeCache wants for these batches: it leaves the cache as set
				b.ResetTimer()
				cpu0 := cpuTime()
				for _, batch := range batches {
					if _, err := s.insertBatch(ctx, batch, 1); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/96_000, "cpu-µs/msg")
			})
		}
	}
}
