// Package testpg gives tests a PostgreSQL database of their own.
package testpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// URL gives the test its own schema in WAKU_TEST_POSTGRES_URL's database, dropped at cleanup.
// It skips when PostgreSQL is not configured or reachable, unless WAKU_REQUIRE_POSTGRES=1,
// which turns the skip into a failure (CI).
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("WAKU_TEST_POSTGRES_URL")
	fail := func(msg string, args ...any) {
		t.Helper()
		if os.Getenv("WAKU_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("postgres required (WAKU_REQUIRE_POSTGRES=1): "+msg, args...)
		}
		t.Skipf("skipping PostgreSQL variant: "+msg+" (see archive/README.md)", args...)
	}
	if base == "" {
		fail("WAKU_TEST_POSTGRES_URL is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		fail("cannot connect to %s: %v", base, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
