package accounting

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/libp2p/go-libp2p/core/peer"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Storage keeps balances (BalanceStore) and the latest cheque per counterparty
// (swap.ChequeStore) in the archive's database.
type Storage interface {
	BalanceStore
	SaveCheque(ctx context.Context, direction string, counterparty []byte, cumulative uint64, cheque []byte) error
	LastCheque(ctx context.Context, direction string, counterparty []byte) (uint64, []byte, error)
	Close() error
}

// DefaultSQLiteFile is the file OpenStore uses in the data directory when the store is off.
const DefaultSQLiteFile = "accounting.sqlite3"

// OpenStore opens the accounting tables next to the archive: dbURL is the store's
// --store-message-db-url (sqlite://<path>, relative paths resolved against dataDir, or
// postgres:// / postgresql://). With dbURL empty (store off) it uses dataDir/accounting.sqlite3,
// or an in-memory database when dataDir is empty too. Tables are created if missing.
func OpenStore(ctx context.Context, dbURL, dataDir string) (Storage, error) {
	switch {
	case dbURL == "" && dataDir == "":
		return OpenSQLite(":memory:")
	case dbURL == "":
		return OpenSQLite(filepath.Join(dataDir, DefaultSQLiteFile))
	case strings.HasPrefix(dbURL, "sqlite://"):
		p := strings.TrimPrefix(dbURL, "sqlite://")
		if p == "" {
			return nil, errors.New("accounting: sqlite url has no path")
		}
		if p != ":memory:" && !filepath.IsAbs(p) {
			p = filepath.Join(dataDir, p)
		}
		return OpenSQLite(p)
	case strings.HasPrefix(dbURL, "postgres://"), strings.HasPrefix(dbURL, "postgresql://"):
		return OpenPostgres(ctx, dbURL)
	}
	return nil, fmt.Errorf("accounting: unsupported db url %q (want sqlite:// or postgres://)", dbURL)
}

// DBStore implements Storage on SQLite or PostgreSQL through database/sql. It has its own
// connection(s) and tables (accounting_balance, swap_cheque); the archive's tables are untouched.
type DBStore struct {
	db *sql.DB
}

// The two dialects differ only in column types; statements use $n placeholders, which both
// drivers bind by position, and ON CONFLICT upserts, which both understand.
const schemaTemplate = `
CREATE TABLE IF NOT EXISTS accounting_balance (
  peer      %[1]s PRIMARY KEY,
  balance   %[2]s NOT NULL,
  served    TEXT NOT NULL,   -- units per service, "store,filter,lightpush,relay"
  consumed  TEXT NOT NULL,
  relay_out %[2]s NOT NULL,
  relay_in  %[2]s NOT NULL
);
CREATE TABLE IF NOT EXISTS swap_cheque (
  direction    TEXT NOT NULL,   -- 'sent' or 'received'
  counterparty %[1]s NOT NULL,  -- Ethereum address: beneficiary (sent) or issuer (received)
  cumulative   %[2]s NOT NULL,
  cheque       %[1]s NOT NULL,  -- the encoded signed cheque, cashable later
  PRIMARY KEY (direction, counterparty)
)`

// OpenSQLite opens (or creates) the tables in the SQLite file at path (":memory:" for tests).
// The archive may hold the same file open: WAL lets readers and one writer share it, writes
// take the lock up front (_txlock=immediate) and wait up to 10 s for the archive's writer.
func OpenSQLite(path string) (*DBStore, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open accounting db %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; also keeps ":memory:" a single database
	if _, err := db.Exec(fmt.Sprintf(schemaTemplate, "BLOB", "INTEGER")); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("create accounting tables in %s: %w", path, err)
	}
	return &DBStore{db: db}, nil
}

// OpenPostgres opens the tables in the PostgreSQL database at url (the archive's).
func OpenPostgres(ctx context.Context, url string) (*DBStore, error) {
	// Parsed as the archive parses it, so pool settings in the URL (pool_max_conns…) are
	// understood rather than sent to the server as unknown parameters.
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("accounting postgres url: %w", err)
	}
	db := stdlib.OpenDB(*pc.ConnConfig)
	db.SetMaxOpenConns(2) // a flush every few seconds and an occasional cheque
	s := &DBStore{db: db}
	// Nodes sharing a database may start together; CREATE TABLE IF NOT EXISTS is not safe
	// against a concurrent twin, so serialise it on an advisory lock.
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7406385)"); err != nil {
			return err
		}
		for _, st := range strings.Split(fmt.Sprintf(schemaTemplate, "BYTEA", "BIGINT"), ";") {
			if _, err := tx.ExecContext(ctx, st); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("create accounting tables in postgres: %w", err)
	}
	return s, nil
}

// Close closes the store's connections.
func (s *DBStore) Close() error { return s.db.Close() }

func (s *DBStore) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func encodeUnits(v [numServices]int64) string {
	return fmt.Sprintf("%d,%d,%d,%d", v[0], v[1], v[2], v[3])
}

func decodeUnits(s string) ([numServices]int64, error) {
	var v [numServices]int64
	_, err := fmt.Sscanf(s, "%d,%d,%d,%d", &v[0], &v[1], &v[2], &v[3])
	return v, err
}

// LoadBalances implements BalanceStore.
func (s *DBStore) LoadBalances(ctx context.Context) ([]Snapshot, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT peer, balance, served, consumed, relay_out, relay_in FROM accounting_balance`)
	if err != nil {
		return nil, fmt.Errorf("query balances: %w", err)
	}
	defer rows.Close()
	var out []Snapshot
	for rows.Next() {
		var (
			pid              []byte
			served, consumed string
			r                Snapshot
		)
		if err := rows.Scan(&pid, &r.Balance, &served, &consumed, &r.RelayOut, &r.RelayIn); err != nil {
			return nil, fmt.Errorf("scan balance: %w", err)
		}
		r.Peer = peer.ID(pid) // written by SaveBalances from a peer.ID: no re-validation
		if r.Served, err = decodeUnits(served); err != nil {
			return nil, fmt.Errorf("stored units of %s: %w", r.Peer, err)
		}
		if r.Consumed, err = decodeUnits(consumed); err != nil {
			return nil, fmt.Errorf("stored units of %s: %w", r.Peer, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveBalances implements BalanceStore.
func (s *DBStore) SaveBalances(ctx context.Context, recs []Snapshot) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO accounting_balance (peer, balance, served, consumed, relay_out, relay_in)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (peer) DO UPDATE SET balance=excluded.balance, served=excluded.served,
consumed=excluded.consumed, relay_out=excluded.relay_out, relay_in=excluded.relay_in`)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		defer st.Close()
		for _, r := range recs {
			if _, err := st.ExecContext(ctx, []byte(r.Peer), r.Balance, encodeUnits(r.Served), encodeUnits(r.Consumed), r.RelayOut, r.RelayIn); err != nil {
				return fmt.Errorf("save balance of %s: %w", r.Peer, err)
			}
		}
		return nil
	})
}

// ErrNoCheque is returned by LastCheque when none was stored.
var ErrNoCheque = errors.New("no cheque stored")

// SaveCheque records the latest cumulative cheque sent to or received from counterparty.
// It never moves the cumulative amount backwards.
func (s *DBStore) SaveCheque(ctx context.Context, direction string, counterparty []byte, cumulative uint64, cheque []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO swap_cheque (direction, counterparty, cumulative, cheque) VALUES ($1, $2, $3, $4)
ON CONFLICT (direction, counterparty) DO UPDATE SET cumulative=excluded.cumulative, cheque=excluded.cheque
WHERE excluded.cumulative > swap_cheque.cumulative`, direction, counterparty, int64(cumulative), cheque)
	if err != nil {
		return fmt.Errorf("save %s cheque: %w", direction, err)
	}
	return nil
}

// LastCheque returns the latest cumulative cheque stored for counterparty, or ErrNoCheque.
func (s *DBStore) LastCheque(ctx context.Context, direction string, counterparty []byte) (uint64, []byte, error) {
	var (
		cum int64
		b   []byte
	)
	err := s.db.QueryRowContext(ctx, `SELECT cumulative, cheque FROM swap_cheque WHERE direction=$1 AND counterparty=$2`, direction, counterparty).Scan(&cum, &b)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, ErrNoCheque
	}
	if err != nil {
		return 0, nil, fmt.Errorf("load %s cheque: %w", direction, err)
	}
	return uint64(cum), b, nil
}
