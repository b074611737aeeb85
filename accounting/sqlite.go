package accounting

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// SQLiteStore keeps balances (and the swap cheque book) in their own tables of a SQLite file.
// It lives here until the archive package offers a shared database handle; at wiring it moves
// into archive/ next to the message tables (and gains a PostgreSQL twin).
type SQLiteStore struct {
	db *sql.DB
}

const sqliteSchema = `
CREATE TABLE IF NOT EXISTS accounting_balance (
  peer      BLOB PRIMARY KEY,
  balance   INTEGER NOT NULL,
  served    TEXT NOT NULL,   -- units per service, "store,filter,lightpush,relay"
  consumed  TEXT NOT NULL,
  relay_out INTEGER NOT NULL,
  relay_in  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS swap_cheque (
  direction    TEXT NOT NULL,   -- 'sent' or 'received'
  counterparty BLOB NOT NULL,   -- Ethereum address: beneficiary (sent) or issuer (received)
  cumulative   INTEGER NOT NULL,
  cheque       BLOB NOT NULL,   -- the encoded signed cheque, cashable later
  PRIMARY KEY (direction, counterparty)
);`

// OpenSQLite opens (or creates) the store at path (":memory:" for tests).
func OpenSQLite(path string) (*SQLiteStore, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("open accounting db %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; also keeps ":memory:" a single database
	if _, err := db.Exec(sqliteSchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("create accounting tables in %s: %w", path, err)
	}
	return &SQLiteStore{db: db}, nil
}

// Close closes the database.
func (s *SQLiteStore) Close() error { return s.db.Close() }

func encodeUnits(v [numServices]int64) string {
	return fmt.Sprintf("%d,%d,%d,%d", v[0], v[1], v[2], v[3])
}

func decodeUnits(s string) ([numServices]int64, error) {
	var v [numServices]int64
	_, err := fmt.Sscanf(s, "%d,%d,%d,%d", &v[0], &v[1], &v[2], &v[3])
	return v, err
}

// LoadBalances implements BalanceStore.
func (s *SQLiteStore) LoadBalances(ctx context.Context) ([]Snapshot, error) {
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
func (s *SQLiteStore) SaveBalances(ctx context.Context, recs []Snapshot) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	st, err := tx.PrepareContext(ctx, `INSERT INTO accounting_balance (peer, balance, served, consumed, relay_out, relay_in)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(peer) DO UPDATE SET balance=excluded.balance, served=excluded.served,
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
	return tx.Commit()
}

// ErrNoCheque is returned by LastCheque when none was stored.
var ErrNoCheque = errors.New("no cheque stored")

// SaveCheque records the latest cumulative cheque sent to or received from counterparty.
// It never moves the cumulative amount backwards.
func (s *SQLiteStore) SaveCheque(ctx context.Context, direction string, counterparty []byte, cumulative uint64, cheque []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO swap_cheque (direction, counterparty, cumulative, cheque) VALUES (?, ?, ?, ?)
ON CONFLICT(direction, counterparty) DO UPDATE SET cumulative=excluded.cumulative, cheque=excluded.cheque
WHERE excluded.cumulative > swap_cheque.cumulative`, direction, counterparty, int64(cumulative), cheque)
	if err != nil {
		return fmt.Errorf("save %s cheque: %w", direction, err)
	}
	return nil
}

// LastCheque returns the latest cumulative cheque stored for counterparty, or ErrNoCheque.
func (s *SQLiteStore) LastCheque(ctx context.Context, direction string, counterparty []byte) (uint64, []byte, error) {
	var (
		cum int64
		b   []byte
	)
	err := s.db.QueryRowContext(ctx, `SELECT cumulative, cheque FROM swap_cheque WHERE direction=? AND counterparty=?`, direction, counterparty).Scan(&cum, &b)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, ErrNoCheque
	}
	if err != nil {
		return 0, nil, fmt.Errorf("load %s cheque: %w", direction, err)
	}
	return uint64(cum), b, nil
}
