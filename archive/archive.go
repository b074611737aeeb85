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
	ErrUnknownCursor = errors.New("archive: unknown cursor")
)

// Metrics receives archive events. A nil Metrics in Config is a no-op.
type Metrics interface {
	// Inserted counts rows written (duplicates excluded) by one batch of size batch.
	Inserted(rows, batch int)
	// Dropped counts a message not queued; reason is "ephemeral", "timestamp", "queue_full" or "closed".
	Dropped(reason string)
	// WriteError counts a failed batch write.
	WriteError()
	// Query observes the duration of one Query.
	Query(d time.Duration, err error)
	// Pruned counts rows removed by retention.
	Pruned(rows int64)
}

type noMetrics struct{}

func (noMetrics) Inserted(int, int)          {}
func (noMetrics) Dropped(string)             {}
func (noMetrics) WriteError()                {}
func (noMetrics) Query(time.Duration, error) {}
func (noMetrics) Pruned(int64)               {}

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
	// QueueSize bounds messages waiting to be written; beyond it Insert drops. Default 100,000.
	QueueSize int
	// BatchSize bounds messages per write transaction. Default 5,000.
	BatchSize int
	// Now is the clock (tests); default time.Now.
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics Metrics
}

func (c *Config) defaults() {
	if c.MaxConns <= 0 {
		c.MaxConns = 50
	}
	if c.RetentionInterval <= 0 {
		c.RetentionInterval = 10 * time.Minute
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 100_000
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 5_000
	}
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
	cfg   Config
	db    driver
	log   *slog.Logger
	queue chan item

	mu     sync.RWMutex // guards closed against the queue being closed under a sender
	closed bool
	stop   chan struct{}
	wg     sync.WaitGroup

	dropped atomic.Int64
}

type item struct {
	env   *message.Envelope
	flush chan error
}

// Open connects, migrates, optionally vacuums, enforces retention once and starts the writer.
func Open(ctx context.Context, cfg Config) (*Archive, error) {
	cfg.defaults()
	var (
		db  driver
		err error
	)
	switch {
	case strings.HasPrefix(cfg.URL, "sqlite://"):
		db, err = openSQLite(strings.TrimPrefix(cfg.URL, "sqlite://"))
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		db, err = openPostgres(ctx, cfg.URL, cfg.MaxConns)
	default:
		return nil, fmt.Errorf("archive: unsupported db url %q (want sqlite:// or postgres://)", cfg.URL)
	}
	if err != nil {
		return nil, err
	}
	a := &Archive{cfg: cfg, db: db, log: cfg.Logger, queue: make(chan item, cfg.QueueSize), stop: make(chan struct{})}
	if err := migrate(ctx, db, cfg.Migrate); err != nil {
		db.close()
		return nil, err
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
	go a.run()
	return a, nil
}

// Insert queues e for storage. It never blocks: a full queue drops the message (ErrQueueFull).
// Ephemeral messages and those outside ±20 s of now are refused. A message is durable once a
// later Flush has returned nil.
func (a *Archive) Insert(e *message.Envelope) error {
	if err := a.eligible(e, true); err != nil {
		return err
	}
	return a.enqueue(nil, e)
}

// InsertHistorical queues a message fetched from another store node (store resume): the ±20 s
// window does not apply to history, but ephemeral and timestamp-less messages are still
// refused. It waits for queue space until ctx ends rather than dropping.
func (a *Archive) InsertHistorical(ctx context.Context, e *message.Envelope) error {
	if err := a.eligible(e, false); err != nil {
		return err
	}
	return a.enqueue(ctx, e)
}

func (a *Archive) eligible(e *message.Envelope, recent bool) error {
	if e.Message.GetEphemeral() {
		a.cfg.Metrics.Dropped("ephemeral")
		return ErrEphemeral
	}
	ts := e.Message.GetTimestamp()
	now := a.cfg.Now().UnixNano()
	if ts == 0 || (recent && (ts > now+int64(MaxTimestampVariance) || ts < now-int64(MaxTimestampVariance))) {
		a.cfg.Metrics.Dropped("timestamp")
		return ErrTimestamp
	}
	return nil
}

// enqueue hands e to the writer: at once or not at all with a nil ctx, else waiting until ctx ends.
func (a *Archive) enqueue(ctx context.Context, e *message.Envelope) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		a.cfg.Metrics.Dropped("closed")
		return ErrClosed
	}
	if ctx != nil {
		select {
		case a.queue <- item{env: e}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case a.queue <- item{env: e}:
		return nil
	default:
		a.dropped.Add(1)
		a.cfg.Metrics.Dropped("queue_full")
		return ErrQueueFull
	}
}

// Dropped reports how many messages Insert refused because the queue was full.
func (a *Archive) Dropped() int64 { return a.dropped.Load() }

// Flush waits until every message queued before the call is committed, returning the first
// write error among those batches.
func (a *Archive) Flush(ctx context.Context) error {
	done := make(chan error, 1)
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return ErrClosed
	}
	select {
	case a.queue <- item{flush: done}:
		a.mu.RUnlock()
	case <-ctx.Done():
		a.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued, stops the writer and closes the database.
func (a *Archive) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.queue)
	close(a.stop)
	a.mu.Unlock()
	a.wg.Wait()
	a.db.close()
	return nil
}

// run is the single writer: it batches queued messages into transactions and runs retention.
func (a *Archive) run() {
	defer a.wg.Done()
	ticker := time.NewTicker(a.cfg.RetentionInterval)
	defer ticker.Stop()
	batch := make([]*message.Envelope, 0, a.cfg.BatchSize)
	var waiters []chan error
	for {
		select {
		case it, ok := <-a.queue:
			if !ok {
				return
			}
			open := true
			add := func(it item) {
				if it.flush != nil {
					waiters = append(waiters, it.flush)
				} else {
					batch = append(batch, it.env)
				}
			}
			add(it)
		drain:
			for len(batch) < a.cfg.BatchSize {
				select {
				case it, ok := <-a.queue:
					if !ok {
						open = false
						break drain
					}
					add(it)
				default:
					break drain
				}
			}
			err := a.write(batch)
			for _, w := range waiters {
				w <- err
			}
			batch, waiters = batch[:0], waiters[:0]
			if !open {
				return
			}
		case <-ticker.C:
			ctx, cancel := context.WithTimeout(context.Background(), a.cfg.RetentionInterval)
			if err := a.EnforceRetention(ctx); err != nil {
				a.log.Warn("archive retention failed", "err", err)
			}
			cancel()
		}
	}
}

func (a *Archive) write(batch []*message.Envelope) error {
	if len(batch) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := a.db.insertBatch(ctx, batch, a.cfg.Now().UnixNano())
	if err != nil {
		a.cfg.Metrics.WriteError()
		a.log.Error("archive write failed, batch lost", "messages", len(batch), "err", err)
		return fmt.Errorf("archive insert: %w", err)
	}
	a.cfg.Metrics.Inserted(int(n), len(batch))
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

// Size returns the bytes the messages table and its indexes occupy.
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
