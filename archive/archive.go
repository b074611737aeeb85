// Package archive persists Waku messages for the store protocol. It is the only code that
// speaks SQL: one Archive type over two drivers, SQLite (modernc.org/sqlite, embedded default)
// and PostgreSQL (pgx pool). Messages are keyed by the deterministic message hash and ordered
// by (timestamp, hash); every query seeks from its cursor by index.
package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wakunode/wakunode/internal/backoff"
	"github.com/wakunode/wakunode/internal/defaults"
	"github.com/wakunode/wakunode/internal/threadprio"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// MaxTimestampVariance is nwaku's archive rule: a message whose timestamp is further than this
// from the local clock is not stored.
const MaxTimestampVariance = 20 * time.Second

// Errors returned by Insert and Query.
var (
	ErrEphemeral     = errors.New("archive: ephemeral message not stored")
	ErrTimestamp     = errors.New("archive: timestamp missing or more than 20s from now")
	ErrQueueFull     = errors.New("archive: insert queue full, message dropped")
	ErrClosed        = errors.New("archive: closed")
	ErrUnstorable    = errors.New("archive: topic with a NUL byte or content topic over 2048 bytes")
	ErrUnknownCursor = errors.New("archive: unknown cursor")
)

// Metrics receives archive events. A nil Metrics in Config is a no-op.
type Metrics interface {
	// Inserted counts rows written (duplicates excluded) by one batch of size batch, written
	// in d.
	Inserted(rows, batch int, d time.Duration)
	// Stored reports the number of stored messages, counted at open and after each retention
	// run (Inserted and Pruned tell the changes in between).
	Stored(n int64)
	// Dropped counts one message not stored. Refused by policy: "ephemeral", "timestamp",
	// "invalid", "closed". Accepted but lost: the DropReasons.
	Dropped(reason string)
	// WriteError counts a failed batch write attempt (it is retried).
	WriteError()
	// Query observes the duration of one Query.
	Query(d time.Duration, err error)
	// Pruned counts rows removed by retention.
	Pruned(rows int64)
}

type noMetrics struct{}

func (noMetrics) Inserted(int, int, time.Duration) {}
func (noMetrics) Stored(int64)                     {}
func (noMetrics) Dropped(string)                   {}
func (noMetrics) WriteError()                      {}
func (noMetrics) Query(time.Duration, error)       {}
func (noMetrics) Pruned(int64)                     {}

// Config opens an Archive. Zero values take the documented defaults.
type Config struct {
	// URL is sqlite://<path> or postgres://user:pass@host:port/db (also postgresql://).
	URL string
	// MaxConns bounds the PostgreSQL pool (--store-max-num-db-connections). Default 50.
	MaxConns int
	// Migrate runs pending schema migrations at open (--store-message-db-migration). When false
	// an outdated schema is an error.
	Migrate bool
	// Vacuum compacts the database at open (--store-message-db-vacuum).
	Vacuum bool
	// Retention is the parsed --store-message-retention-policy; nil keeps everything.
	Retention []Policy
	// RetentionInterval is how often retention runs after the initial run at open. Default 10m.
	RetentionInterval time.Duration
	// QueueBytes bounds the bytes of messages waiting to be written, including a batch being
	// retried through a database outage; beyond it Insert drops. Default 64 MiB.
	QueueBytes int64
	// QueueSize bounds the number of waiting messages as well. Default 100,000.
	QueueSize int
	// SpillDir, when set, holds the spill: messages the full queue cannot take are appended
	// there and written to the database, in order, once the queue is empty (and after a
	// restart) instead of being dropped. "" disables it.
	SpillDir string
	// SpillBytes bounds the spill on disk; beyond it Insert drops (spill_full). Default 1 GiB.
	SpillBytes int64
	// BatchSize and BatchBytes bound one write transaction. Defaults 5,000 and 8 MiB.
	BatchSize  int
	BatchBytes int64
	// CommitInterval is the least time between two commits while the load is light (less
	// than BatchSize waiting): messages arriving meanwhile share the next transaction, one
	// fsync and one statement, instead of one each. Flush, Close and a Query (read your
	// writes) do not wait for it. Set it negative to commit as soon as anything arrives.
	// Default 100ms.
	CommitInterval time.Duration
	// CommitRows and MaxCommitDelay stretch the wait at the lowest rates: past
	// CommitInterval the writer still holds fewer than CommitRows messages until
	// MaxCommitDelay has passed since the last commit. At 10 msg/s a commit per message or
	// two was a third of the node's CPU. Defaults 32 and 1s.
	CommitRows     int
	MaxCommitDelay time.Duration
	// FsyncCommits makes SQLite fsync the WAL at every commit (synchronous=FULL), so a
	// committed batch survives power loss too. Off (synchronous=NORMAL, what go-waku runs
	// with: mattn's go-sqlite3 builds WAL databases NORMAL) a commit survives kill -9 and a
	// node crash, and the newest commits can be lost only with the machine; the fsync then
	// happens at checkpoints. At 10 msg/s the per-commit fsync was 16 % of the node's CPU samples.
	// PostgreSQL ignores it (its own synchronous_commit rules).
	FsyncCommits bool
	// WriterNice lowers the CPU priority of the writer's OS thread by this many nice steps
	// (Linux; 0, the default here, leaves it at the process's; the node's default is 10).
	// Writing is background work: on a machine whose cores are all busy the kernel then runs
	// relaying first, and the writer catches up (its queue and spill absorb the delay) once they
	// are free. It needs a scheduler P to spare while the writer is busy (see Busy): on its own
	// it helped in some series of runs and not in others (docs/benchmarks-history.md, sessions 14 and
	// 16).
	WriterNice int
	// Busy, when set, is called from the writer's goroutine when the writer starts committing
	// for most of its time (true) and when that ends (false), also at Close (see busy.go).
	Busy func(busy bool)
	// WriteTimeout bounds one batch write; a stalled database then counts as failing. Default 30s.
	WriteTimeout time.Duration
	// RetryMin and RetryMax bound the jittered exponential backoff between attempts to write a
	// failed batch. Defaults 100ms and 10s.
	RetryMin, RetryMax time.Duration
	// CloseTimeout is how long Close keeps retrying queued messages during an outage before it
	// drops them (counted). Default 10s.
	CloseTimeout time.Duration
	// DropLogInterval is the least time between two log lines for one drop cause. Default 1m.
	DropLogInterval time.Duration
	// Now is the clock (tests); default time.Now.
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics Metrics
}

// DefaultQueueBytes is Config.QueueBytes' default.
const DefaultQueueBytes = 64 << 20

// DefaultSpillBytes is Config.SpillBytes' default.
const DefaultSpillBytes = 1 << 30

func (c *Config) defaults() {
	defaults.Positive(&c.MaxConns, 50)
	defaults.Positive(&c.QueueBytes, DefaultQueueBytes)
	defaults.Positive(&c.SpillBytes, DefaultSpillBytes)
	defaults.Positive(&c.QueueSize, 100_000)
	defaults.Positive(&c.BatchSize, 5_000)
	defaults.Positive(&c.BatchBytes, 8<<20)
	defaults.Positive(&c.RetentionInterval, 10*time.Minute)
	if c.CommitInterval == 0 {
		c.CommitInterval = 100 * time.Millisecond
	}
	defaults.Positive(&c.CommitRows, 32)
	defaults.Positive(&c.MaxCommitDelay, time.Second)
	defaults.Positive(&c.WriteTimeout, 30*time.Second)
	defaults.Positive(&c.RetryMin, 100*time.Millisecond)
	defaults.Positive(&c.RetryMax, 10*time.Second)
	defaults.Positive(&c.CloseTimeout, 10*time.Second)
	defaults.Positive(&c.DropLogInterval, time.Minute)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = noMetrics{}
	}
}

// Query selects stored messages. The archive does not judge combinations (the store service
// does): all set filters are ANDed.
type Query struct {
	PubsubTopic   string   // "" = any
	ContentTopics []string // empty = any
	TimeStart     *int64   // inclusive, ns
	TimeEnd       *int64   // exclusive, ns
	Hashes        []message.Hash
	IncludeData   bool
	Cursor        *message.Hash // exclusive start point
	Forward       bool
	Limit         int // must be > 0
}

// Entry is one stored message. PubsubTopic and Message are set only with IncludeData.
type Entry struct {
	Hash        message.Hash
	Timestamp   int64
	PubsubTopic string
	Message     *pb.WakuMessage
}

// Page is a query result in ascending (timestamp, hash) order. Cursor is set when more entries
// remain: the last entry (forward) or the first entry (backward), as store.md says.
type Page struct {
	Entries []Entry
	Cursor  *message.Hash
}

// Archive is a message archive over one SQL driver. Safe for concurrent use.
type Archive struct {
	cfg     Config
	db      driver
	log     *slog.Logger
	q       *queue
	backoff backoff.Factory
	health  health
	drops   dropLog
	spills  dropLog // when the queue overflows into the spill
	dropped atomic.Int64

	closeOnce sync.Once
	closeBy   time.Time // set before stop is closed
	stop      chan struct{}
	wg        sync.WaitGroup
}

// Open connects, migrates, optionally vacuums, enforces retention once and starts the writer.
func Open(ctx context.Context, cfg Config) (*Archive, error) { return openWith(ctx, cfg, nil) }

// openWith is Open with an optional driver wrapper (fault injection in tests).
func openWith(ctx context.Context, cfg Config, wrap func(driver) driver) (*Archive, error) {
	cfg.defaults()
	var (
		db  driver
		err error
	)
	switch {
	case strings.HasPrefix(cfg.URL, "sqlite://"):
		db, err = openSQLite(strings.TrimPrefix(cfg.URL, "sqlite://"), cfg.FsyncCommits)
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		db, err = openPostgres(ctx, cfg.URL, cfg.MaxConns)
	default:
		return nil, fmt.Errorf("archive: unsupported db url %q (want sqlite:// or postgres://)", cfg.URL)
	}
	if err != nil {
		return nil, err
	}
	if wrap != nil {
		db = wrap(db)
	}
	a := newArchive(cfg, db)
	if err := migrate(ctx, db, cfg.Migrate); err != nil {
		db.close()
		return nil, err
	}
	lost, err := db.recoverRows(ctx)
	if err != nil {
		db.close()
		return nil, err
	}
	if lost > 0 {
		a.drop(DropTorn, int(lost), errors.New("their bytes were missing from the newest segment file (lost with the machine)"))
	}
	if cfg.SpillDir != "" {
		sp, n, err := openSpill(cfg.SpillDir, cfg.SpillBytes)
		if err != nil {
			db.close()
			return nil, err
		}
		a.q.sp, a.q.spilled, a.q.pushed = sp, n, uint64(n)
		if n > 0 {
			a.log.Info("archive replaying spilled messages", "messages", n, "dir", cfg.SpillDir)
			a.q.wake <- struct{}{}
		}
	}
	if cfg.Vacuum {
		if err := db.vacuum(ctx); err != nil {
			db.close()
			return nil, fmt.Errorf("archive vacuum: %w", err)
		}
	}
	if err := a.EnforceRetention(ctx); err != nil {
		db.close()
		return nil, err
	}
	a.wg.Add(1)
	threadprio.Go(a.cfg.WriterNice, func(unlowered error) {
		if unlowered != nil {
			a.log.Debug("archive writer keeps the node's priority", "err", unlowered)
		}
		a.run()
	})
	return a, nil
}

func newArchive(cfg Config, db driver) *Archive {
	a := &Archive{cfg: cfg, db: db, log: cfg.Logger, q: newQueue(cfg.QueueSize, cfg.QueueBytes, cfg.CommitRows),
		backoff: backoff.NewFactory(cfg.RetryMin, cfg.RetryMax), stop: make(chan struct{}),
		drops: dropLog{log: cfg.Logger, every: cfg.DropLogInterval, causes: map[string]*dropCause{},
			msg: "archive did not store messages"},
		spills: dropLog{log: cfg.Logger, every: cfg.DropLogInterval, causes: map[string]*dropCause{},
			msg: "archive queue full: spilling messages to disk, to be written when the database catches up"}}
	a.health.ok, a.health.since = true, time.Now()
	return a
}

// Insert queues e for storage. It never blocks: a full queue spills the message to disk when
// Config.SpillDir is set, else drops it (ErrQueueFull, counted as queue_full, or
// db_unavailable during an outage); a full spill drops it too (spill_full). Messages nwaku's
// archive would not store are refused (see eligible). A message is durable once a later Flush
// has returned nil.
func (a *Archive) Insert(e *message.Envelope) error {
	if err := a.eligible(e, true); err != nil {
		return err
	}
	res, err, _ := a.q.push(e)
	switch res {
	case pushedMem:
	case pushedSpill:
		a.spills.note(slog.LevelWarn, "queue_full", 1, nil)
	case pushClosed:
		a.cfg.Metrics.Dropped("closed")
		return ErrClosed
	case pushSpillFull, pushSpillFailed:
		reason := DropSpillFull
		if res == pushSpillFailed {
			reason = DropSpillFailed
		}
		n, bytes := a.q.spillStats()
		a.drop(reason, 1, fmt.Errorf("spill holds %d messages, %d bytes: %w", n, bytes, err))
		return ErrQueueFull
	default:
		reason := DropQueueFull
		if a.degraded() {
			reason = DropDBUnavailable
		}
		n, bytes := a.q.stats()
		a.drop(reason, 1, fmt.Errorf("queue holds %d messages, %d bytes", n, bytes))
		return ErrQueueFull
	}
	return nil
}

// Spilled reports the messages and bytes waiting in the spill.
func (a *Archive) Spilled() (messages int, bytes int64) { return a.q.spillStats() }

// InsertHistorical queues a message fetched from another store node (store resume): history
// may be older than 20 s, but ephemeral, timestamp-less and future (over 20 s ahead) messages
// are still refused. It waits for queue space until ctx ends rather than dropping.
func (a *Archive) InsertHistorical(ctx context.Context, e *message.Envelope) error {
	if err := a.eligible(e, false); err != nil {
		return err
	}
	return a.q.waitRoom(ctx, e)
}

// MaxContentTopicBytes bounds a stored content topic: PostgreSQL refuses B-tree index entries
// over about 2.7 kB, so a longer topic could never be written. Both drivers apply it.
const MaxContentTopicBytes = 2048

// eligible is nwaku's archive rule (archive.nim validate): not ephemeral, and a timestamp
// within ±20 s of now, bounds included (a missing timestamp is 0, far outside the window).
// History (recent=false) may be older but not from the future, and still needs a timestamp
// to be ordered by. Topics a database cannot hold (NUL bytes, an
// over-long content topic) are refused here rather than failing a whole batch later.
func (a *Archive) eligible(e *message.Envelope, recent bool) error {
	refuse := func(reason string, err error) error {
		a.cfg.Metrics.Dropped(reason)
		a.drops.note(slog.LevelDebug, reason, 1, err)
		return err
	}
	if e.Message.GetEphemeral() {
		return refuse("ephemeral", ErrEphemeral)
	}
	ts := e.Message.GetTimestamp()
	now := a.cfg.Now().UnixNano()
	if ts == 0 || ts > now+int64(MaxTimestampVariance) || (recent && ts < now-int64(MaxTimestampVariance)) {
		return refuse("timestamp", ErrTimestamp)
	}
	ct := e.Message.GetContentTopic()
	if len(ct) > MaxContentTopicBytes || strings.IndexByte(ct, 0) >= 0 || strings.IndexByte(e.PubsubTopic, 0) >= 0 {
		return refuse("invalid", ErrUnstorable)
	}
	return nil
}

// Dropped reports how many accepted messages were lost: queue full, database unavailable or
// rejected rows (policy refusals such as ephemeral are not counted here).
func (a *Archive) Dropped() int64 { return a.dropped.Load() }

// Flush waits until every message queued before the call is written (or finally dropped),
// retrying through database outages until ctx ends. It returns an error if any of those
// messages was dropped.
func (a *Archive) Flush(ctx context.Context) error {
	done, closed := a.q.flushWait()
	if closed {
		return ErrClosed
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued (retrying an unavailable database for up to CloseTimeout, then
// dropping the rest, counted), stops the writer and closes the database.
func (a *Archive) Close() error {
	a.closeOnce.Do(func() {
		a.closeBy = time.Now().Add(a.cfg.CloseTimeout)
		a.q.close()
		close(a.stop)
		a.wg.Wait()
		if err := a.q.closeSpill(); err != nil {
			a.log.Error("archive spill not flushed to disk", "err", err)
		}
		a.q.finish(ErrClosed)
		a.db.close()
	})
	return nil
}

// Vacuum compacts the database (SQLite VACUUM; PostgreSQL VACUUM FULL, which locks the table).
func (a *Archive) Vacuum(ctx context.Context) error {
	if err := a.db.vacuum(ctx); err != nil {
		return fmt.Errorf("archive vacuum: %w", err)
	}
	return nil
}

// Count returns the number of stored messages.
func (a *Archive) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := a.db.queryRow(ctx, "SELECT count(*) FROM messages").Scan(&n); err != nil {
		return 0, fmt.Errorf("archive count: %w", err)
	}
	return n, nil
}

// Size returns the bytes the messages table and its indexes occupy, with SQLite's segment files.
func (a *Archive) Size(ctx context.Context) (int64, error) {
	n, err := a.db.size(ctx)
	if err != nil {
		return 0, fmt.Errorf("archive size: %w", err)
	}
	return n, nil
}

// Newest returns the timestamp of the newest stored message, 0 when empty (for store resume).
func (a *Archive) Newest(ctx context.Context) (int64, error) {
	var ts *int64
	if err := a.db.queryRow(ctx, "SELECT max(ts) FROM messages").Scan(&ts); err != nil {
		return 0, fmt.Errorf("archive newest: %w", err)
	}
	if ts == nil {
		return 0, nil
	}
	return *ts, nil
}
