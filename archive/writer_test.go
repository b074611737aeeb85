package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wakunode/wakunode/internal/testlog"

	"github.com/jackc/pgx/v5"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// countMetrics records archive metric events.
type countMetrics struct {
	mu      sync.Mutex
	dropped map[string]int
	writeEr int
}

func newCountMetrics() *countMetrics { return &countMetrics{dropped: map[string]int{}} }

func (m *countMetrics) Inserted(int, int, time.Duration) {}
func (m *countMetrics) Stored(int64)                     {}
func (m *countMetrics) Dropped(r string) {
	m.mu.Lock()
	m.dropped[r]++
	m.mu.Unlock()
}
func (m *countMetrics) WriteError() {
	m.mu.Lock()
	m.writeEr++
	m.mu.Unlock()
}
func (m *countMetrics) Query(time.Duration, error) {}
func (m *countMetrics) Pruned(int64)               {}
func (m *countMetrics) drops(r string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped[r]
}

// bigEnvelope is a relay-shaped message (decoded from bytes, payload aliased) of about size bytes.
func bigEnvelope(t testing.TB, i, size int) *message.Envelope {
	ts := testNow.UnixNano() - int64(i)
	payload := make([]byte, size)
	copy(payload, fmt.Sprintf("big-%d", i))
	m := &pb.WakuMessage{Payload: payload, ContentTopic: "/app/1/big/proto", Timestamp: &ts}
	e, err := message.NewEnvelope("/waku/2/rs/1/0", m, ts)
	if err != nil {
		t.Fatal(err)
	}
	d, err := message.Decode(e.PubsubTopic, e.Raw, ts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// stall blocks the archive's writes from another connection until the returned func is called:
// SQLite holds the write lock (BEGIN IMMEDIATE), PostgreSQL an ACCESS EXCLUSIVE table lock.
func stall(t *testing.T, dbURL string) (release func()) {
	t.Helper()
	ctx := context.Background()
	if path, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		return func() { conn.ExecContext(ctx, "ROLLBACK"); conn.Close(); db.Close() }
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE messages IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return func() { tx.Rollback(ctx); conn.Close(ctx) }
}

// A stalled database with 140 KB messages arriving: the queue holds QueueBytes and no more,
// every refused message is counted, everything accepted is written once the database moves,
// and the memory is given back afterwards.
func TestQueueBoundedInBytesDuringStall(t *testing.T) {
	const (
		queueBytes = 8 << 20
		msgSize    = 140 << 10
		offered    = 300 // 42 MB offered
		// The ceiling above the baseline: the queue bound plus the batch and driver buffers.
		slack = 16 << 20
	)
	forEach(t, func(t *testing.T, dbURL string) {
		m := newCountMetrics()
		a := open(t, dbURL, func(c *Config) {
			c.QueueBytes, c.Metrics = queueBytes, m
			c.WriteTimeout, c.RetryMin, c.RetryMax = 3*time.Second, 20*time.Millisecond, 200*time.Millisecond
			c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		})
		release := stall(t, dbURL)
		base := heapAfterGC()
		accepted := 0
		for i := range offered {
			switch err := a.Insert(bigEnvelope(t, i, msgSize)); {
			case err == nil:
				accepted++
			case !errors.Is(err, ErrQueueFull):
				t.Fatal(err)
			}
		}
		peak := heapAfterGC()
		release()
		perEntry := msgSize + 512
		if accepted == 0 || accepted > queueBytes/perEntry+1 {
			t.Fatalf("accepted %d of %d; the byte bound allows about %d", accepted, offered, queueBytes/perEntry)
		}
		if got := a.Dropped(); got != int64(offered-accepted) {
			t.Fatalf("Dropped() = %d, want %d", got, offered-accepted)
		}
		if got := m.drops(DropQueueFull) + m.drops(DropDBUnavailable); got != offered-accepted {
			t.Fatalf("drop metrics %v, want %d in total", m.dropped, offered-accepted)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Flush(ctx); err != nil {
			t.Fatalf("flush after the stall: %v", err)
		}
		if n, err := a.Count(ctx); err != nil || n != int64(accepted) {
			t.Fatalf("stored %d (%v), want every accepted message (%d)", n, err, accepted)
		}
		after := heapAfterGC()
		t.Logf("heap: base %d MiB, stalled with full queue %d MiB, after flush %d MiB (accepted %d of %d)",
			base>>20, peak>>20, after>>20, accepted, offered)
		if peak > base+queueBytes+slack {
			t.Fatalf("heap grew %d MiB while stalled; ceiling is %d MiB", (peak-base)>>20, (queueBytes+slack)>>20)
		}
		if after > base+slack/2 {
			t.Fatalf("heap %d MiB above baseline after the flush: the burst is still held", (after-base)>>20)
		}
	})
}

// waitHealth polls Health until ok matches (the writer's state change is the event).
func waitHealth(t *testing.T, a *Archive, ok bool) Health {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h := a.Health()
		if h.OK == ok {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("health stayed %+v, want ok=%v", h, ok)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// outageCase runs a short outage: messages inserted while the database is unreachable are all
// stored once it is back, health goes degraded then ok, and the outage logs one line each way.
func outageCase(t *testing.T, a *Archive, logs *testlog.Buffer, m *countMetrics, cut, restore func()) {
	t.Helper()
	ctx := context.Background()
	before := corpus(t, 20)
	insertAll(t, a, before...)
	if h := a.Health(); !h.OK {
		t.Fatalf("healthy database reported %+v", h)
	}
	cut()
	during := make([]*message.Envelope, 500)
	for i := range during {
		during[i] = env(t, "/waku/2/rs/1/0", "/app/1/outage/proto", testNow.UnixNano()-int64(i), fmt.Sprintf("during-%d", i))
	}
	for _, e := range during[:250] {
		if err := a.Insert(e); err != nil {
			t.Fatal(err)
		}
	}
	h := waitHealth(t, a, false)
	if h.Reason == "" || h.Since.IsZero() {
		t.Fatalf("degraded health without reason or time: %+v", h)
	}
	for _, e := range during[250:] { // still accepted while degraded: the queue has room
		if err := a.Insert(e); err != nil {
			t.Fatal(err)
		}
	}
	// Let several retries fail before the database returns.
	for deadline := time.Now().Add(10 * time.Second); m.writeErrors() < 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	restore()
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.Flush(fctx); err != nil {
		t.Fatalf("flush after the outage: %v", err)
	}
	waitHealth(t, a, true)
	if n, err := a.Count(ctx); err != nil || n != int64(len(before)+len(during)) {
		t.Fatalf("stored %d (%v), want %d: messages lost across the outage", n, err, len(before)+len(during))
	}
	if a.Dropped() != 0 {
		t.Fatalf("%d messages dropped", a.Dropped())
	}
	if down, up := logs.Count("archive database unavailable"), logs.Count("archive database available again"); down != 1 || up != 1 {
		t.Fatalf("outage logged %d times, recovery %d times; want one line each (%d failed attempts)", down, up, m.writeErrors())
	}
}

func (m *countMetrics) writeErrors() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writeEr
}

func outageArchive(t *testing.T, dbURL string, wrap func(driver) driver) (*Archive, *testlog.Buffer, *countMetrics) {
	logs, m := &testlog.Buffer{}, newCountMetrics()
	cfg := Config{URL: dbURL, Migrate: true, Now: func() time.Time { return testNow }, MaxConns: 4, Metrics: m,
		Logger: slog.New(slog.NewTextHandler(logs, nil)), RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		WriteTimeout: 2 * time.Second}
	a, err := openWith(context.Background(), cfg, wrap)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, logs, m
}

// PostgreSQL reached through a proxy that the test cuts: every connection drops and new ones
// are refused, as in a restart or a network partition.
func TestPostgresOutageLosesNothing(t *testing.T) {
	dbURL := postgresURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	a, logs, m := outageArchive(t, u.String(), nil)
	outageCase(t, a, logs, m, p.cut, p.restore)
}

// faultyDriver fails writes while failing is set (transient, like a full disk), and refuses
// any batch holding the poison hash (permanent, like a row the database cannot hold).
type faultyDriver struct {
	driver
	failing atomic.Bool
	hanging atomic.Bool // writes block until their context ends, as on a stalled server
	poison  message.Hash
}

var (
	errInjected = errors.New("injected: database or disk is full")
	errPoison   = errors.New("injected: row refused")
)

func (f *faultyDriver) insertBatch(ctx context.Context, batch []*message.Envelope, storedAt int64) (int64, error) {
	if f.failing.Load() {
		return 0, errInjected
	}
	if f.hanging.Load() {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	for _, e := range batch {
		if e.Hash == f.poison {
			return 0, errPoison
		}
	}
	return f.driver.insertBatch(ctx, batch, storedAt)
}

func (f *faultyDriver) permanent(err error) bool {
	return errors.Is(err, errPoison) || f.driver.permanent(err)
}

func TestSQLiteOutageLosesNothing(t *testing.T) {
	var fd *faultyDriver
	dbURL := backends()[0].url(t)
	a, logs, m := outageArchive(t, dbURL, func(d driver) driver { fd = &faultyDriver{driver: d}; return fd })
	outageCase(t, a, logs, m, func() { fd.failing.Store(true) }, func() { fd.failing.Store(false) })
}

// One row the database refuses must not hold back or lose the rest of its batch.
func TestRejectedRowDropsAlone(t *testing.T) {
	var fd *faultyDriver
	ms := corpus(t, 50)
	a, _, m := outageArchive(t, backends()[0].url(t), func(d driver) driver {
		fd = &faultyDriver{driver: d, poison: ms[17].Hash}
		return fd
	})
	for _, e := range ms {
		if err := a.Insert(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(context.Background()); err == nil {
		t.Fatal("flush reported success although a row was refused")
	}
	if n, _ := a.Count(context.Background()); n != 49 {
		t.Fatalf("stored %d, want 49", n)
	}
	if m.drops(DropRejected) != 1 || a.Dropped() != 1 || !a.Health().OK {
		t.Fatalf("rejected %d, Dropped %d, health %+v", m.drops(DropRejected), a.Dropped(), a.Health())
	}
}

// Close during an outage gives up after CloseTimeout and counts what it could not write.
func TestCloseDuringOutageCountsLoss(t *testing.T) {
	var fd *faultyDriver
	a, logs, m := outageArchive(t, backends()[0].url(t), func(d driver) driver { fd = &faultyDriver{driver: d}; return fd })
	a.cfg.CloseTimeout = 200 * time.Millisecond
	fd.failing.Store(true)
	ms := corpus(t, 30)
	for _, e := range ms {
		if err := a.Insert(e); err != nil {
			t.Fatal(err)
		}
	}
	waitHealth(t, a, false)
	a.Close()
	if a.Dropped() != 30 || m.drops(DropDBUnavailable) != 30 {
		t.Fatalf("Dropped %d, metric %v; want 30 db_unavailable", a.Dropped(), m.dropped)
	}
	// One line when the loss starts; whatever followed within the interval is summed in one
	// more line at Close.
	if n, total := logs.Count("archive did not store messages"), sumLogged(logs, "messages="); n > 2 || total != 30 {
		t.Fatalf("%d drop log lines reporting %d messages, want at most 2 reporting 30", n, total)
	}
}

// sum adds the integers that follow key in the log.
func sumLogged(s *testlog.Buffer, key string) int {
	total := 0
	for _, part := range strings.Split(s.String(), key)[1:] {
		var v int
		fmt.Sscanf(part, "%d", &v)
		total += v
	}
	return total
}

// Close during a stall (writes hang rather than fail) still ends by CloseTimeout, not after
// one WriteTimeout per queued batch.
func TestCloseDuringStallIsBounded(t *testing.T) {
	var fd *faultyDriver
	a, _, m := outageArchive(t, backends()[0].url(t), func(d driver) driver { fd = &faultyDriver{driver: d}; return fd })
	a.cfg.CloseTimeout = 200 * time.Millisecond
	a.cfg.WriteTimeout = time.Hour // only the close deadline can end an attempt
	fd.failing.Store(true)
	ms := corpus(t, 30)
	for _, e := range ms[:10] {
		if err := a.Insert(e); err != nil {
			t.Fatal(err)
		}
	}
	waitHealth(t, a, false)
	fd.hanging.Store(true)
	fd.failing.Store(false)
	for _, e := range ms[10:] {
		if err := a.Insert(e); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close is still waiting on a stalled database")
	}
	if a.Dropped() != 30 || m.drops(DropDBUnavailable) != 30 {
		t.Fatalf("Dropped %d, metric %v; want 30 db_unavailable", a.Dropped(), m.dropped)
	}
}

// A flood of drops for one cause logs once per interval, with the count.
func TestDropLogRateLimited(t *testing.T) {
	logs := &testlog.Buffer{}
	cfg := Config{QueueSize: 1, Now: func() time.Time { return testNow }, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	cfg.defaults()
	a := newArchive(cfg, nil)
	for i := range 1000 {
		err := a.Insert(env(t, "/waku/2/rs/1/0", "/a/1/b/c", testNow.UnixNano()-int64(i), "x"))
		if i > 0 && !errors.Is(err, ErrQueueFull) {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	if a.Dropped() != 999 {
		t.Fatalf("Dropped %d", a.Dropped())
	}
	if n := logs.Count("archive did not store messages"); n != 1 {
		t.Fatalf("%d log lines for 999 drops of one cause, want 1", n)
	}
	// The rest of the burst is reported when due (here forced, as Close does).
	a.drops.flush(true)
	if n := logs.Count("archive did not store messages"); n != 2 || logs.Count("messages=998") != 1 {
		t.Fatalf("after flush: %d lines, want a second one counting the other 998", n)
	}
}
