package archive

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wakunode/wakunode/message"
)

// SQLite runs in WAL mode with synchronous=NORMAL by default: a committed batch has reached the
// OS before Flush returns, so it survives kill -9; the newest commits can be lost with the
// machine (power loss), and the WAL is fsynced at checkpoints. Config.FsyncCommits selects FULL,
// one fsync per batch (not per message), for power-loss durability.
var sqliteMigrations = []string{
	`CREATE TABLE messages (
		hash          BLOB    NOT NULL PRIMARY KEY,
		pubsub_topic  TEXT    NOT NULL,
		content_topic TEXT    NOT NULL,
		ts            INTEGER NOT NULL,
		raw           BLOB    NOT NULL,
		stored_at     INTEGER NOT NULL
	);
	CREATE INDEX messages_ts ON messages (ts, hash);
	CREATE INDEX messages_topic_ts ON messages (pubsub_topic, content_topic, ts, hash)`,
	// 2: store v3 queries by pubsub topic alone and by content topics alone (any shard), and
	// legacy cursors (pubsub topic + exact timestamp), each seek an index of their own.
	`CREATE INDEX messages_pubsub_ts ON messages (pubsub_topic, ts, hash);
	CREATE INDEX messages_content_ts ON messages (content_topic, ts, hash)`,
	// 3: rows keep the bytes of messages over inlineMaxBytes in segment files (segments.go),
	// raw empty, and seg_loc says where (segmentLoc.encode); smaller ones, and rows written
	// before, keep theirs in raw. One column rather than four: preparing a query costs SQLite
	// per result column. The partial index finds a segment's rows (recovery, retention) and
	// costs only those rows an insert, at its right edge: locations only grow.
	`ALTER TABLE messages ADD COLUMN seg_loc BLOB;
	CREATE INDEX messages_seg ON messages (seg_loc) WHERE seg_loc IS NOT NULL`,
}

type sqliteDB struct {
	db *sql.DB
	// stmts keeps the readers' queries prepared (stmtcache.go).
	stmts *stmtCache
	// wconn is the writer's own connection (used only by the archive's single writer
	// goroutine). A page cache survives only on the connection that wrote it: batches spread
	// over the pool made every connection drop and re-read its cache after the others' commits.
	wconn *sql.Conn
	// inserts holds the multi-row INSERT for each row count, prepared once on wconn: a
	// statement prepared inside each transaction was 10 % of the node's CPU at 1,000 msg/s.
	inserts map[int]*sql.Stmt
	// cacheKiB is the writer's cache_size now; bigUntil is when it may shrink from the big
	// cache; bigRun counts the backlog-sized batches in a row (see sizeCache).
	cacheKiB int
	bigUntil time.Time
	bigRun   int
	now      func() time.Time // the clock (tests)
	// segs holds the message bytes; writeMu orders the writer's appends and commits against
	// retention removing segments (EnforceRetention may be called from outside the writer).
	segs    *segments
	writeMu sync.Mutex
}

func openSQLite(path string, fsyncCommits bool) (driver, error) {
	if path == "" {
		return nil, errors.New("archive: sqlite url has no path")
	}
	q := url.Values{}
	// wal_autocheckpoint: the WAL grows to 32 MiB (8,192 pages, default 1,000) before a
	// checkpoint copies it back, so an index page rewritten by several batches in between
	// (the hash index's pages are hit at random) is copied once: 12 % less insert CPU at 1M.
	// Durability is unchanged by it. The cache_size here is the readers' (the writer sets its
	// own, see sizeCache): in WAL mode a reader's cache is dropped whenever a writer has
	// committed since its last read, so on a live node a large one rarely hits, but a history
	// walk filled 32 MiB on each pooled connection and kept it (a walk of 30k 1 KB messages took
	// the node's peak RSS to 150 MB, 94 MB at 2 MiB). The OS page cache holds the file either way.
	sync := "synchronous(NORMAL)"
	if fsyncCommits {
		sync = "synchronous(FULL)"
	}
	for _, p := range []string{"journal_mode(WAL)", sync, "busy_timeout(10000)", "cache_size(" + strconv.Itoa(-readerCacheKiB) + ")", "wal_autocheckpoint(8192)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("archive open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	// An idle reader's page cache is memory the node holds for nothing; reopening costs little.
	db.SetConnMaxIdleTime(readerIdleClose)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("archive open sqlite %s: %w", path, err)
	}
	segs, err := openSegments(segmentDir(path), fsyncCommits)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &sqliteDB{db: db, stmts: newStmtCache(db, stmtCacheEntries), now: time.Now, segs: segs}, nil
}

func (s *sqliteDB) ph(int) string        { return "?" }
func (s *sqliteDB) migrations() []string { return sqliteMigrations }
func (s *sqliteDB) close() {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.dropWriter(nil)
	s.segs.close()
	s.stmts.close()
	s.db.Close()
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

func (s *sqliteDB) query(ctx context.Context, q string, args ...any) (rows, error) {
	st, err := s.stmts.acquire(ctx, q)
	if err != nil {
		return nil, err
	}
	var rs *sql.Rows
	if st == nil {
		rs, err = s.db.QueryContext(ctx, q, args...)
	} else {
		rs, err = st.stmt.QueryContext(ctx, args...)
		s.stmts.release(st)
	}
	if err != nil {
		return nil, err
	}
	return sqlRows{rs}, nil
}

type sqlRow struct{ *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoRows
	}
	return err
}

func (s *sqliteDB) queryRow(ctx context.Context, q string, args ...any) scanner {
	st, err := s.stmts.acquire(ctx, q)
	switch {
	case err != nil:
		return errRow{err}
	case st == nil:
		return sqlRow{s.db.QueryRowContext(ctx, q, args...)}
	}
	defer s.stmts.release(st)
	return sqlRow{st.stmt.QueryRowContext(ctx, args...)}
}

// errRow is a row whose query failed before it ran.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (s *sqliteDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s *sqliteDB) execTx(ctx context.Context, stmts []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("%.60q: %w", st, err)
		}
	}
	return tx.Commit()
}

// The writer's page cache follows its load. Under a backlog (bigBacklogBatches batches in a row
// of bigBatchRows or more) it gets 16 MiB: the hash index's pages, which inserts hit at random,
// are what the writer re-reads. 64 MiB held that index whole at 1M messages and drained a
// backlog about 10 % faster (60,500 against 54,600 msg/s of small messages, ~7 times the
// fastest relay load), but it was also 93 MB of the node's RSS at 10 KB x 7,500 msg/s, where a
// burst is when memory matters most. Otherwise it keeps 2 MiB, SQLite's default and what
// go-waku's and nwaku's stores run with: a larger cache fills with payload pages written once
// and never read again (an 8 MiB one was 5-6 MB of the node's peak RSS at 1,000 msg/s for no
// CPU that the runs could tell, a 64 MiB one 55-75 MB at 10 KB x 1,000 msg/s). SQLite frees the
// pages beyond a lowered cache_size, so the large cache lasts only while the backlog does (and
// a minute). In RSS each costs about twice its size: modernc.org/memory puts a 4 KiB page and
// SQLite's header in an 8 KiB slot (docs/benchmarks-history.md, session 7). One large batch is not a backlog:
// after a commit stalls for a second at 1,000 msg/s the next batch holds 1,000 rows and the one
// after is small again, while the big cache, filling for a minute with pages written once, took
// the node's peak RSS from 96 to 211 MB at 1 KB x 1,000 msg/s.
const (
	bigBacklogBatches   = 2
	bigWriterCacheKiB   = 16 << 10
	lightWriterCacheKiB = 2 << 10
	readerCacheKiB      = 2 << 10
	readerIdleClose     = time.Minute
	bigBatchRows        = 1_000
	bigCacheHold        = time.Minute
)

// insertRowsPerStmt batches rows into multi-row INSERTs (7 params each; modernc binds positional
// parameters in O(params²), so statements stay small), several times faster than one per row.
const insertRowsPerStmt = 40

// inlineMaxBytes: a message this small keeps its bytes in its row. A store page of such
// messages then reads no segment (one pread per message doubled BenchmarkWalk's 100-message
// pages of 200-byte messages), and binding them costs little. Bound payloads of 1 KB and more
// made modernc's C allocator map and unmap a page per statement (29 % of the node's CPU at
// 10 KB x 1,000 msg/s until a reserve of pinned blocks held them); below 512 bytes, with
// the row's other values, they stay in its 1 KiB and smaller classes.
const inlineMaxBytes = 512

func (s *sqliteDB) insertBatch(ctx context.Context, batch []*message.Envelope, storedAt int64) (int64, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.openWriter(ctx); err != nil {
		return 0, err
	}
	if err := s.sizeCache(ctx, len(batch)); err != nil {
		s.dropWriter(err)
		return 0, err
	}
	// Messages over inlineMaxBytes go to the current segment; smaller ones stay in their rows
	// (locs[i] nil).
	var (
		raws [][]byte
		big  []int
	)
	for i, e := range batch {
		if len(e.Raw) > inlineMaxBytes {
			raws, big = append(raws, e.Raw), append(big, i)
		}
	}
	locs := make([][]byte, len(batch))
	if len(raws) > 0 {
		appended, err := s.segs.append(raws)
		if err != nil {
			return 0, err
		}
		for k, i := range big {
			locs[i] = appended[k].encode()
		}
	}
	// The transaction is begun and ended by hand: database/sql re-prepares a connection's
	// statements inside every Tx, so a Tx could not reuse them.
	if _, err := s.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		s.dropWriter(err)
		return 0, err
	}
	var total int64
	for len(batch) > 0 {
		n := min(len(batch), insertRowsPerStmt)
		k, err := s.insertRows(ctx, batch[:n], locs[:n], storedAt)
		if err != nil {
			s.dropWriter(err)
			return 0, err
		}
		total += k
		batch, locs = batch[n:], locs[n:]
	}
	if _, err := s.wconn.ExecContext(ctx, "COMMIT"); err != nil {
		s.dropWriter(err)
		return 0, err
	}
	return total, nil
}

func (s *sqliteDB) insertRows(ctx context.Context, rows []*message.Envelope, locs [][]byte, storedAt int64) (int64, error) {
	st, ok := s.inserts[len(rows)]
	if !ok {
		var err error
		if st, err = s.wconn.PrepareContext(ctx, multiInsertSQL(len(rows))); err != nil {
			return 0, err
		}
		s.inserts[len(rows)] = st
	}
	args := make([]any, 0, len(rows)*7)
	for i, e := range rows {
		args = append(args, e.Hash[:], e.PubsubTopic, e.Message.GetContentTopic(), e.Message.GetTimestamp(), storedAt)
		if locs[i] != nil {
			args = append(args, []byte{}, locs[i])
		} else {
			args = append(args, e.Raw, nil)
		}
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// openWriter takes the writer's own connection from the pool.
func (s *sqliteDB) openWriter(ctx context.Context) (err error) {
	if s.wconn != nil {
		return nil
	}
	if s.wconn, err = s.db.Conn(ctx); err != nil {
		return err
	}
	s.inserts = map[int]*sql.Stmt{}
	s.cacheKiB = 0 // the pool's default until sizeCache sets it
	return nil
}

// sizeCache sets the writer's page cache for a batch of n rows (see bigWriterCacheKiB).
func (s *sqliteDB) sizeCache(ctx context.Context, n int) error {
	now := s.now()
	if n < bigBatchRows {
		s.bigRun = 0
	} else {
		s.bigRun++
	}
	if s.bigRun >= bigBacklogBatches {
		s.bigUntil = now.Add(bigCacheHold)
	}
	want := lightWriterCacheKiB
	if now.Before(s.bigUntil) {
		want = bigWriterCacheKiB
	}
	if want == s.cacheKiB {
		return nil
	}
	if _, err := s.wconn.ExecContext(ctx, "PRAGMA cache_size = "+strconv.Itoa(-want)); err != nil {
		return err
	}
	s.cacheKiB = want
	return nil
}

// dropWriter gives up the writer's connection after a failure (cause) or at close, so the
// next batch starts over on a fresh one. An open transaction is rolled back first; a
// connection that cannot even roll back is discarded rather than returned to the pool.
func (s *sqliteDB) dropWriter(cause error) {
	if s.wconn == nil {
		return
	}
	for _, st := range s.inserts {
		st.Close()
	}
	s.inserts = nil
	if cause != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s.wconn.ExecContext(ctx, "ROLLBACK")
		cancel()
		if err != nil && !strings.Contains(err.Error(), "no transaction is active") {
			s.wconn.Raw(func(any) error { return sqldriver.ErrBadConn })
		}
	}
	s.wconn.Close()
	s.wconn = nil
}

// multiInsertSQL inserts n rows. OR IGNORE (rather than ON CONFLICT (hash) DO NOTHING) means
// the statement can never abort half-way, so SQLite keeps no statement journal for it: that
// journal's page writes were a third of the ingest time.
func multiInsertSQL(n int) string {
	b := []byte("INSERT OR IGNORE INTO messages (hash, pubsub_topic, content_topic, ts, stored_at, raw, seg_loc) VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "(?,?,?,?,?,?,?)"...)
	}
	return string(b)
}

// size counts live pages (pages freed by deletes sit on the freelist and are reused) and the
// segment files.
func (s *sqliteDB) size(ctx context.Context) (int64, error) {
	var pages, free, pageSize int64
	if err := s.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, err
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
		return 0, err
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return 0, err
	}
	return (pages-free)*pageSize + s.segs.total(), nil
}

func (s *sqliteDB) vacuum(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, "VACUUM")
	return err
}

// permanent: the row itself is refused (constraint, too big, type mismatch). Full disk,
// locks, I/O and read-only errors are transient: the same write can succeed later.
func (s *sqliteDB) permanent(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
		return true
	}
	return false
}
