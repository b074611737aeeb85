package archive

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wakunode/wakunode/message"
)

var postgresMigrations = []string{
	`CREATE TABLE messages (
		hash          BYTEA  NOT NULL PRIMARY KEY,
		pubsub_topic  TEXT   NOT NULL,
		content_topic TEXT   NOT NULL,
		ts            BIGINT NOT NULL,
		raw           BYTEA  NOT NULL,
		stored_at     BIGINT NOT NULL
	);
	CREATE INDEX messages_ts ON messages (ts, hash);
	CREATE INDEX messages_topic_ts ON messages (pubsub_topic, content_topic, ts, hash)`,
	// 2: store v3 queries by pubsub topic alone and by content topics alone (any shard), and
	// legacy cursors (pubsub topic + exact timestamp), each seek an index of their own.
	`CREATE INDEX messages_pubsub_ts ON messages (pubsub_topic, ts, hash);
	CREATE INDEX messages_content_ts ON messages (content_topic, ts, hash)`,
}

type pgDB struct {
	pool *pgxpool.Pool
}

func openPostgres(ctx context.Context, url string, maxConns int) (driver, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("archive postgres url: %w", err)
	}
	pc.MaxConns = int32(maxConns)
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("archive open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("archive open postgres %s:%d: %w", pc.ConnConfig.Host, pc.ConnConfig.Port, err)
	}
	return &pgDB{pool: pool}, nil
}

func (p *pgDB) ph(n int) string      { return "$" + strconv.Itoa(n) }
func (p *pgDB) migrations() []string { return postgresMigrations }
func (p *pgDB) close()               { p.pool.Close() }

type pgRows struct{ pgx.Rows }

func (r pgRows) Close() { r.Rows.Close() }

func (p *pgDB) query(ctx context.Context, q string, args ...any) (rows, error) {
	rs, err := p.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rs}, nil
}

type pgRow struct{ pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoRows
	}
	return err
}

func (p *pgDB) queryRow(ctx context.Context, q string, args ...any) scanner {
	return pgRow{p.pool.QueryRow(ctx, q, args...)}
}

func (p *pgDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := p.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (p *pgDB) execTx(ctx context.Context, stmts []string) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		for _, st := range stmts {
			if _, err := tx.Exec(ctx, st); err != nil {
				return fmt.Errorf("%.60q: %w", st, err)
			}
		}
		return nil
	})
}

// stagingTable receives each batch by COPY; ON COMMIT DELETE ROWS empties it at commit. It is a
// temporary table, so every pooled connection has its own.
const stagingTable = `CREATE TEMP TABLE IF NOT EXISTS messages_in (
	hash BYTEA NOT NULL, pubsub_topic TEXT NOT NULL, content_topic TEXT NOT NULL,
	ts BIGINT NOT NULL, raw BYTEA NOT NULL, stored_at BIGINT NOT NULL) ON COMMIT DELETE ROWS`

var insertColumns = []string{"hash", "pubsub_topic", "content_topic", "ts", "raw", "stored_at"}

// insertBatch streams the batch with COPY (binary, sent in 64 KB chunks: no buffer the size of
// the batch is built or kept by the connection) into the staging table, then moves it into
// messages skipping duplicates. One transaction and one commit (fsynced, PostgreSQL's default
// synchronous_commit=on) per batch.
func (p *pgDB) insertBatch(ctx context.Context, batch []*message.Envelope, storedAt int64) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, stagingTable); err != nil {
			return err
		}
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(batch) {
				return nil, nil
			}
			e := batch[i]
			i++
			return []any{e.Hash[:], e.PubsubTopic, e.Message.GetContentTopic(), e.Message.GetTimestamp(), e.Raw, storedAt}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"messages_in"}, insertColumns, src); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO messages (hash, pubsub_topic, content_topic, ts, raw, stored_at)
			SELECT hash, pubsub_topic, content_topic, ts, raw, stored_at FROM messages_in ON CONFLICT (hash) DO NOTHING`)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// permanent: SQLSTATE classes 22 (data exception), 23 (integrity) and 54 (program limit, e.g.
// an index entry too large) refuse the row itself. Everything else (connection loss, class 08;
// disk full, 53; shutdown, 57; I/O, 58; locks and timeouts) may succeed on a later attempt.
func (p *pgDB) permanent(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}

func (p *pgDB) size(ctx context.Context) (int64, error) {
	var n int64
	err := p.pool.QueryRow(ctx, "SELECT pg_total_relation_size('messages'::regclass)").Scan(&n)
	return n, err
}

// vacuum rewrites the table (VACUUM FULL) so its files shrink; it takes an exclusive lock.
func (p *pgDB) vacuum(ctx context.Context) error {
	_, err := p.pool.Exec(ctx, "VACUUM FULL messages")
	return err
}

// afterPrune: PostgreSQL files do not shrink after DELETE, so a size policy would keep seeing
// the old size and prune again; a size prune is followed by VACUUM FULL.
func (p *pgDB) afterPrune(ctx context.Context, bySize bool) error {
	if !bySize {
		return nil
	}
	return p.vacuum(ctx)
}

// PostgreSQL keeps a message's bytes in the row.
func (p *pgDB) payloadCols() string                        { return "raw" }
func (p *pgDB) payloadDest(pl *payload) []any              { return []any{&pl.raw} }
func (p *pgDB) loadPayloads([]*payload) error              { return nil }
func (p *pgDB) recoverRows(context.Context) (int64, error) { return 0, nil }
