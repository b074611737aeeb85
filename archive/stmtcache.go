package archive

import (
	"container/list"
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps the SQLite readers' statements prepared, keyed by SQL text: parsing and
// planning a store page's SELECT again was 15 % of the page's CPU (BenchmarkPage). A query
// has a handful of shapes (which filters are set, the limit, the number of content topics),
// so a few entries hold what clients ask; texts longer than stmtCacheMaxText (long hash
// lists) are prepared per query as before. Each entry is prepared lazily on every pooled
// connection that runs it (database/sql does that), so the bound is in entries and bytes of
// text. pgx keeps its own statement cache per connection.
type stmtCache struct {
	db      *sql.DB
	max     int
	mu      sync.Mutex
	lru     *list.List // of *cachedStmt, most recently used at the front
	byQuery map[string]*list.Element
}

const (
	stmtCacheEntries = 32
	stmtCacheMaxText = 4 << 10
)

// cachedStmt counts its users so that an eviction never closes a statement between acquire
// and the start of its query (rows already open keep it alive through database/sql).
type cachedStmt struct {
	query   string
	stmt    *sql.Stmt
	refs    int
	evicted bool
}

func newStmtCache(db *sql.DB, max int) *stmtCache {
	return &stmtCache{db: db, max: max, lru: list.New(), byQuery: make(map[string]*list.Element)}
}

// acquire returns the statement for q, preparing it on a miss; the caller releases it once
// its query has started. A nil statement with a nil error means q is not cached.
func (c *stmtCache) acquire(ctx context.Context, q string) (*cachedStmt, error) {
	if len(q) > stmtCacheMaxText {
		return nil, nil
	}
	c.mu.Lock()
	e := c.hitLocked(q)
	c.mu.Unlock()
	if e != nil {
		return e, nil
	}

	// Prepared outside the lock: it takes a connection, which may wait for the pool.
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if e := c.hitLocked(q); e != nil { // prepared meanwhile by another query
		c.mu.Unlock()
		st.Close()
		return e, nil
	}
	e = &cachedStmt{query: q, stmt: st, refs: 1}
	c.byQuery[q] = c.lru.PushFront(e)
	var closing []*sql.Stmt
	for c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*cachedStmt)
		delete(c.byQuery, old.query)
		old.evicted = true
		if old.refs == 0 {
			closing = append(closing, old.stmt)
		}
	}
	c.mu.Unlock()
	for _, st := range closing {
		st.Close()
	}
	return e, nil
}

// hitLocked returns q's entry, taken by the caller, or nil.
func (c *stmtCache) hitLocked(q string) *cachedStmt {
	el, ok := c.byQuery[q]
	if !ok {
		return nil
	}
	e := el.Value.(*cachedStmt)
	e.refs++
	c.lru.MoveToFront(el)
	return e
}

// release ends the caller's use of e; an evicted statement is closed by its last user.
func (c *stmtCache) release(e *cachedStmt) {
	c.mu.Lock()
	e.refs--
	closeIt := e.evicted && e.refs == 0
	c.mu.Unlock()
	if closeIt {
		e.stmt.Close()
	}
}

// close closes every cached statement; statements in use close when released.
func (c *stmtCache) close() {
	c.mu.Lock()
	var closing []*sql.Stmt
	for el := c.lru.Front(); el != nil; el = el.Next() {
		e := el.Value.(*cachedStmt)
		e.evicted = true
		if e.refs == 0 {
			closing = append(closing, e.stmt)
		}
	}
	c.lru.Init()
	clear(c.byQuery)
	c.mu.Unlock()
	for _, st := range closing {
		st.Close()
	}
}
