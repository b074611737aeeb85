package archive

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
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

// insertBatch sends the whole batch as column arrays in one statement: one round trip and one
// commit (fsynced, PostgreSQL's default synchronous_commit=on) per batch.
func (p *pgDB) insertBatch(ctx context.Context, batch []*message.Envelope, storedAt int64) (int64, error) {
	hashes := make([][]byte, len(batch))
	topics := make([]string, len(batch))
	cts := make([]string, len(batch))
	tss := make([]int64, len(batch))
	raws := make([][]byte, len(batch))
	for i, e := range batch {
		hashes[i], topics[i], cts[i], tss[i], raws[i] = e.Hash[:], e.PubsubTopic, e.Message.GetContentTopic(), e.Message.GetTimestamp(), e.Raw
	}
	tag, err := p.pool.Exec(ctx, `INSERT INTO messages (hash, pubsub_topic, content_topic, ts, raw, stored_at)
		SELECT h, p, c, t, r, $6 FROM unnest($1::bytea[], $2::text[], $3::text[], $4::bigint[], $5::bytea[]) AS u(h, p, c, t, r)
		ON CONFLICT (hash) DO NOTHING`, hashes, topics, cts, tss, raws, storedAt)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
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
