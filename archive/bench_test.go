package archive

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// Benchmarks (see the report / archive/README.md for numbers):
//
//	WAKU_TEST_POSTGRES_URL=... go test -run '^$' -bench . -benchtime 1x ./archive/
//	WAKU_BENCH_MESSAGES=1000000 ... for the 1 M store.

const benchTopics = 100 // content topics in the benchmark store

func benchMessage(i int, ts int64) *message.Envelope {
	payload := make([]byte, 200)
	for j := range payload {
		payload[j] = byte(i >> (j % 4 * 8))
	}
	m := &pb.WakuMessage{Payload: payload, ContentTopic: fmt.Sprintf("/bench/1/t%d/proto", i%benchTopics), Timestamp: &ts}
	e, _ := message.NewEnvelope("/waku/2/rs/1/0", m, ts)
	return e
}

// benchURL returns a database URL per driver, or "" to skip.
func benchURL(b *testing.B, driver, tag string) string {
	switch driver {
	case "sqlite":
		return "sqlite://" + filepath.Join(b.TempDir(), tag+".sqlite3")
	default:
		if os.Getenv("WAKU_TEST_POSTGRES_URL") == "" {
			b.Skip("WAKU_TEST_POSTGRES_URL not set")
		}
		return postgresURL(b)
	}
}

func ingest(b testing.TB, a *Archive, es []*message.Envelope, flush bool) {
	for _, e := range es {
		for {
			err := a.Insert(e)
			if !errors.Is(err, ErrQueueFull) {
				if err != nil {
					b.Fatal(err)
				}
				break
			}
			time.Sleep(time.Millisecond) // back-pressure only in the benchmark
		}
	}
	if !flush {
		return
	}
	if err := a.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkIngest(b *testing.B) {
	for _, drv := range []string{"sqlite", "postgres"} {
		b.Run(drv, func(b *testing.B) {
			url := benchURL(b, drv, "ingest")
			now := time.Now()
			a, err := Open(context.Background(), Config{URL: url, Migrate: true, MaxConns: 4})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			n := max(b.N, 100_000)
			es := make([]*message.Envelope, n)
			for i := range es {
				es[i] = benchMessage(i, now.UnixNano()+int64(i))
			}
			b.ResetTimer()
			start := time.Now()
			ingest(b, a, es, true)
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(n)/el.Seconds(), "msg/s")
			size, _ := a.Size(context.Background())
			b.ReportMetric(float64(size)/float64(n), "bytes/msg")
		})
	}
}

var (
	benchStoresMu sync.Mutex
	benchStores   = map[string]*Archive{}
	benchBase     = map[string]int64{}
)

// benchStore opens (once per driver) a store of WAKU_BENCH_MESSAGES (default 100,000)
// messages spread over benchTopics content topics, 1 ms apart.
func benchStore(b *testing.B, drv string) (*Archive, int, int64) {
	n := 100_000
	if s := os.Getenv("WAKU_BENCH_MESSAGES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	base := time.Now().Add(-time.Duration(n) * time.Millisecond).UnixNano()
	benchStoresMu.Lock()
	defer benchStoresMu.Unlock()
	if a, ok := benchStores[drv]; ok {
		return a, n, benchBase[drv]
	}
	url := "sqlite://" + filepath.Join(benchDir, "store.sqlite3")
	if drv != "sqlite" {
		url = benchPostgres(b)
	}
	// The clock follows the messages so the ±20 s window admits their old timestamps.
	var clock atomic.Int64
	a, err := Open(context.Background(), Config{URL: url, Migrate: true, MaxConns: 4, Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		ts := base + int64(i)*int64(time.Millisecond)
		clock.Store(ts)
		ingest(b, a, []*message.Envelope{benchMessage(i, ts)}, i%10_000 == 9_999 || i == n-1)
	}
	if drv != "sqlite" { // what autovacuum does within a minute of the load
		if _, err := a.db.exec(context.Background(), "ANALYZE messages"); err != nil {
			b.Fatal(err)
		}
	}
	benchStores[drv], benchBase[drv] = a, base
	return a, n, base
}

// BenchmarkPage: a 20-message page by content topic and time range, at a random point.
func BenchmarkPage(b *testing.B) {
	for _, drv := range []string{"sqlite", "postgres"} {
		b.Run(drv, func(b *testing.B) {
			a, n, base := benchStore(b, drv)
			rng := rand.New(rand.NewPCG(1, 2))
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				from := base + rng.Int64N(int64(n))*int64(time.Millisecond)
				to := from + int64(time.Hour)
				q := Query{PubsubTopic: "/waku/2/rs/1/0", ContentTopics: []string{fmt.Sprintf("/bench/1/t%d/proto", rng.IntN(benchTopics))},
					TimeStart: &from, TimeEnd: &to, Forward: rng.IntN(2) == 0, Limit: 20, IncludeData: true}
				start := time.Now()
				if _, err := a.Query(context.Background(), q); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(n), "stored")
		})
	}
}

// BenchmarkWalk walks one content topic and the whole store forward, 100 per page; the
// reported time is per page, which stays flat when every page seeks by index.
func BenchmarkWalk(b *testing.B) {
	for _, drv := range []string{"sqlite", "postgres"} {
		for _, scope := range []string{"topic", "store"} {
			b.Run(drv+"/"+scope, func(b *testing.B) {
				a, _, _ := benchStore(b, drv)
				q := Query{Forward: true, Limit: 100, IncludeData: true}
				if scope == "topic" {
					q.PubsubTopic, q.ContentTopics = "/waku/2/rs/1/0", []string{"/bench/1/t7/proto"}
				}
				pages := 0
				b.ResetTimer()
				start := time.Now()
				for b.Loop() {
					p, err := a.Query(context.Background(), q)
					if err != nil {
						b.Fatal(err)
					}
					pages++
					q.Cursor = p.Cursor
				}
				b.ReportMetric(float64(time.Since(start).Microseconds())/float64(pages), "µs/page")
			})
		}
	}
}

var benchDir string

// benchPostgres recreates the schema bench_store for the shared benchmark store.
func benchPostgres(b *testing.B) string {
	base := os.Getenv("WAKU_TEST_POSTGRES_URL")
	if base == "" {
		b.Skip("WAKU_TEST_POSTGRES_URL not set")
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		b.Skipf("postgres unreachable: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS bench_store CASCADE; CREATE SCHEMA bench_store"); err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", "bench_store")
	u.RawQuery = q.Encode()
	return u.String()
}

func TestMain(m *testing.M) {
	var err error
	if benchDir, err = os.MkdirTemp("", "archive-bench"); err != nil {
		panic(err)
	}
	code := m.Run()
	for _, a := range benchStores {
		a.Close()
	}
	os.RemoveAll(benchDir)
	if base := os.Getenv("WAKU_TEST_POSTGRES_URL"); base != "" && benchStores["postgres"] != nil {
		if c, err := pgx.Connect(context.Background(), base); err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA IF EXISTS bench_store CASCADE")
			c.Close(context.Background())
		}
	}
	os.Exit(code)
}

// BenchStore exposes the shared benchmark store to the external benchmarks (legacy store).
func BenchStore(b *testing.B, drv string) (*Archive, int, int64) { return benchStore(b, drv) }

// BenchTopic is the content topic the walk benchmarks follow (1 in benchTopics messages).
const BenchTopic = "/bench/1/t7/proto"

// BenchmarkShapes: a 20-message page of each store v3 query shape nwaku answers, from a
// random point of the store; every shape should cost what (pubsub topic, content topic) costs.
func BenchmarkShapes(b *testing.B) {
	for _, drv := range []string{"sqlite", "postgres"} {
		for _, shape := range []string{"pubsub+content", "pubsub", "content", "hashes+pubsub", "time-only"} {
			b.Run(drv+"/"+shape, func(b *testing.B) {
				a, n, base := benchStore(b, drv)
				rng := rand.New(rand.NewPCG(3, 4))
				var lat []time.Duration
				b.ResetTimer()
				for b.Loop() {
					i := rng.IntN(n)
					from := base + int64(i)*int64(time.Millisecond)
					to := from + int64(time.Hour)
					q := Query{TimeStart: &from, TimeEnd: &to, Forward: rng.IntN(2) == 0, Limit: 20, IncludeData: true}
					switch shape {
					case "pubsub+content":
						q.PubsubTopic, q.ContentTopics = "/waku/2/rs/1/0", []string{BenchTopic}
					case "pubsub":
						q.PubsubTopic = "/waku/2/rs/1/0"
					case "content":
						q.ContentTopics = []string{BenchTopic}
					case "hashes+pubsub":
						q = Query{PubsubTopic: "/waku/2/rs/1/0", Limit: 20, IncludeData: true, Forward: true}
						for k := range 20 {
							ts := base + int64((i+k)%n)*int64(time.Millisecond)
							q.Hashes = append(q.Hashes, benchMessage((i+k)%n, ts).Hash)
						}
					}
					start := time.Now()
					p, err := a.Query(context.Background(), q)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
					if shape == "hashes+pubsub" && len(p.Entries) == 0 {
						b.Fatal("hash lookup found nothing")
					}
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(float64(n), "stored")
			})
		}
	}
}
