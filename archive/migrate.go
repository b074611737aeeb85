package archive

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// migrate brings the schema to the driver's newest version, or checks it is there.
func migrate(ctx context.Context, db driver, enabled bool) error {
	if _, err := db.exec(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"); err != nil {
		return fmt.Errorf("archive migrations table: %w", err)
	}
	var have int
	if err := db.queryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("archive schema version: %w", err)
	}
	ms := db.migrations()
	if have > len(ms) {
		return fmt.Errorf("archive: schema version %d is newer than this binary knows (%d)", have, len(ms))
	}
	if have == len(ms) {
		return nil
	}
	if !enabled {
		return fmt.Errorf("archive: schema version %d, need %d; enable migrations (--store-message-db-migration)", have, len(ms))
	}
	for v := have + 1; v <= len(ms); v++ {
		stmts := append(splitSQL(ms[v-1]),
			fmt.Sprintf("INSERT INTO schema_migrations (version, applied_at) VALUES (%d, %d)", v, time.Now().UnixNano()))
		if err := db.execTx(ctx, stmts); err != nil {
			return fmt.Errorf("archive migration %d: %w", v, err)
		}
	}
	// New indexes have no statistics until autovacuum gets to them; without them PostgreSQL
	// may pick a bitmap scan and sort a whole shard instead of seeking the index.
	if _, ok := db.(*pgDB); ok && have > 0 {
		if _, err := db.exec(ctx, "ANALYZE messages"); err != nil {
			return fmt.Errorf("archive analyze after migration: %w", err)
		}
	}
	return nil
}

func splitSQL(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
