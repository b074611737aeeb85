package archive

import (
	"context"
	"database/sql"
	"runtime"
	"testing"
	"time"
)

// The writer's page cache stays light under every batch short of a backlog, and under one
// large batch between small ones (a stall caught up), is large while a backlog's batches
// arrive in a row and for bigCacheHold after the last, then light again.
func TestSQLiteWriterCacheFollowsLoad(t *testing.T) {
	a := open(t, backends()[0].url(t))
	s := a.db.(*sqliteDB)
	clock := time.Now()
	s.now = func() time.Time { return clock }
	ctx := context.Background()
	ms := corpus(t, 1+(bigBatchRows-1)+3*bigBatchRows+4)
	step := func(what string, rows int, after time.Duration, want int) {
		t.Helper()
		clock = clock.Add(after)
		if _, err := s.insertBatch(ctx, ms[:rows], 1); err != nil {
			t.Fatal(err)
		}
		ms = ms[rows:]
		var v int
		if err := s.wconn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if -v != want {
			t.Fatalf("%s: cache %d KiB, want %d", what, -v, want)
		}
	}
	step("first batch", 1, 0, lightWriterCacheKiB)
	step("the largest batch short of a backlog", bigBatchRows-1, time.Second, lightWriterCacheKiB)
	step("one large batch", bigBatchRows, time.Second, lightWriterCacheKiB)
	step("a small batch after it", 1, time.Second, lightWriterCacheKiB)
	step("a backlog's first batch", bigBatchRows, time.Second, lightWriterCacheKiB)
	step("a backlog's second batch in a row", bigBatchRows, time.Second, bigWriterCacheKiB)
	step("a light batch right after the backlog", 1, time.Second, bigWriterCacheKiB)
	step("a light batch within the hold", 1, bigCacheHold-2*time.Second, bigWriterCacheKiB)
	step("a light batch after the hold", 1, 2*time.Second, lightWriterCacheKiB)
}

// The pooled readers keep SQLite's default 2 MiB page cache, not the writer's larger ones: a
// walk of the whole store otherwise left up to 32 MiB of cached pages on every connection.
func TestSQLiteReadersKeepASmallCache(t *testing.T) {
	a := open(t, backends()[0].url(t))
	s := a.db.(*sqliteDB)
	ctx := context.Background()
	for range bigBacklogBatches { // the writer's cache goes big
		if _, err := s.insertBatch(ctx, corpus(t, bigBatchRows), 1); err != nil {
			t.Fatal(err)
		}
	}
	var got int
	if err := s.db.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if -got != readerCacheKiB {
		t.Fatalf("reader cache_size %d KiB, want %d", -got, readerCacheKiB)
	}
}

// Commits are fsynced (synchronous=FULL, 2) only when asked; the default is NORMAL (1), on the
// writer's connection and the readers' alike.
func TestSQLiteFsyncCommits(t *testing.T) {
	for _, tc := range []struct {
		fsync bool
		want  int
	}{{false, 1}, {true, 2}} {
		a := open(t, backends()[0].url(t), func(c *Config) { c.FsyncCommits = tc.fsync })
		s := a.db.(*sqliteDB)
		ctx := context.Background()
		if _, err := s.insertBatch(ctx, corpus(t, 1), 1); err != nil { // opens the writer's connection
			t.Fatal(err)
		}
		for name, q := range map[string]interface {
			QueryRowContext(context.Context, string, ...any) *sql.Row
		}{"writer": s.wconn, "pool": s.db} {
			var got int
			if err := q.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("FsyncCommits=%v: %s connection synchronous=%d, want %d", tc.fsync, name, got, tc.want)
			}
		}
	}
}

// Small commits of 10 KB messages map no fresh memory per message. While the bytes were bound
// as statement parameters, modernc's C allocator mapped and unmapped a page for most of them
// (about 4 minor page faults per message in 10-row batches, half the writer's CPU, until a
// reserve of pinned blocks held the pages); with the bytes in segment files almost none once
// the writer's page cache is full. The faults are the
// inserting thread's own, so that other tests' processes or the race detector's shadow memory
// on other threads do not count.
func TestSQLiteSmallBatchesReuseMemory(t *testing.T) {
	const size, rows = 10 << 10, 10
	warm := 12 << 20 / (size * rows)
	s, batches := smallBatches(t, size, rows, warm+30)
	ctx := context.Background()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var faults0 int64
	for i, batch := range batches {
		if i == warm {
			faults0 = minorFaults(t, rusageThread)
		}
		if _, err := s.insertBatch(ctx, batch, 1); err != nil {
			t.Fatal(err)
		}
	}
	per := float64(minorFaults(t, rusageThread)-faults0) / float64(30*rows)
	t.Logf("%.2f minor page faults per message after warm-up", per)
	if per > 2 {
		t.Fatalf("%.2f minor page faults per message after warm-up, want < 2", per)
	}
}
