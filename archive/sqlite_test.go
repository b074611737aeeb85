package archive

import (
	"context"
	"database/sql"
	"testing"
)

// The writer's page cache is small under a light load and large while batches of a backlog
// arrive; a light batch right after a large one keeps the large cache (the hold).
func TestSQLiteWriterCacheFollowsLoad(t *testing.T) {
	a := open(t, backends()[0].url(t))
	s := a.db.(*sqliteDB)
	ctx := context.Background()
	cacheKiB := func() int {
		t.Helper()
		var v int
		if err := s.wconn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return -v
	}
	ms := corpus(t, bigBatchRows+1)
	if _, err := s.insertBatch(ctx, ms[:1], 1); err != nil {
		t.Fatal(err)
	}
	if got := cacheKiB(); got != smallWriterCacheKiB {
		t.Fatalf("cache %d KiB under a light load, want %d", got, smallWriterCacheKiB)
	}
	if _, err := s.insertBatch(ctx, ms[1:], 1); err != nil {
		t.Fatal(err)
	}
	if got := cacheKiB(); got != bigWriterCacheKiB {
		t.Fatalf("cache %d KiB after a batch of %d, want %d", got, bigBatchRows, bigWriterCacheKiB)
	}
	if _, err := s.insertBatch(ctx, corpus(t, 1), 1); err != nil {
		t.Fatal(err)
	}
	if got := cacheKiB(); got != bigWriterCacheKiB {
		t.Fatalf("cache %d KiB right after the backlog, want it held at %d", got, bigWriterCacheKiB)
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
