package archive

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// Store queries reuse their prepared statements: the same shape hits, the cache never holds
// more than its bound however many shapes clients ask, and every answer stays right while
// statements are evicted under it.
func TestSQLiteQueriesReusePreparedStatements(t *testing.T) {
	a := open(t, backends()[0].url(t))
	s := a.db.(*sqliteDB)
	ctx := context.Background()
	es := corpus(t, 3*stmtCacheEntries)
	insertAll(t, a, es...)
	want := sorted(es)

	page := func(limit int) {
		t.Helper()
		p, err := a.Query(ctx, Query{Forward: true, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if got := hashesOf(p); !slices.Equal(got, want[:limit]) {
			t.Fatalf("limit %d: got %d hashes, not the first %d in store order", limit, len(got), limit)
		}
	}
	page(10)
	q, _ := buildQuery(s, Query{Forward: true, Limit: 10}, 0)
	if _, ok := s.stmts.byQuery[q]; !ok {
		t.Fatal("a store page did not go through the statement cache")
	}
	first, err := s.stmts.acquire(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	s.stmts.release(first)
	page(10)
	again, _ := s.stmts.acquire(ctx, q)
	s.stmts.release(again)
	if again != first {
		t.Fatal("the same query shape was prepared again")
	}

	// Every limit is a shape of its own (the limit is literal in the SQL).
	for limit := 1; limit <= 2*stmtCacheEntries; limit++ {
		page(limit)
		if n := s.stmts.lru.Len(); n > stmtCacheEntries {
			t.Fatalf("%d statements cached, bound %d", n, stmtCacheEntries)
		}
	}
	if n := s.stmts.lru.Len(); n != stmtCacheEntries {
		t.Fatalf("%d statements cached after %d shapes, want the bound %d", n, 2*stmtCacheEntries, stmtCacheEntries)
	}
	if _, ok := s.stmts.byQuery[q]; ok {
		t.Fatal("the least recently used shape was not evicted")
	}
}

// A statement evicted while a query holds it stays usable until released, and is closed then.
func TestStmtCacheClosesAnEvictedStatementAfterItsLastUser(t *testing.T) {
	a := open(t, backends()[0].url(t))
	s := a.db.(*sqliteDB)
	ctx := context.Background()
	c := newStmtCache(s.db, 2)
	held, err := c.acquire(ctx, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SELECT 2", "SELECT 3"} {
		e, err := c.acquire(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		c.release(e)
	}
	if _, ok := c.byQuery["SELECT 1"]; ok || !held.evicted {
		t.Fatal("SELECT 1 was not evicted")
	}
	var v int
	if err := held.stmt.QueryRowContext(ctx).Scan(&v); err != nil || v != 1 {
		t.Fatalf("evicted statement in use: %d, %v", v, err)
	}
	c.release(held)
	if err := held.stmt.QueryRowContext(ctx).Scan(&v); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("evicted statement after its release: %v, want closed", err)
	}

	long := "SELECT 1 -- " + strings.Repeat("x", stmtCacheMaxText)
	if e, err := c.acquire(ctx, long); e != nil || err != nil {
		t.Fatalf("a text over %d bytes: %v, %v; want it left uncached", stmtCacheMaxText, e, err)
	}
	c.close()
	if c.lru.Len() != 0 {
		t.Fatal("close left statements cached")
	}
}
