package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// testNow is the fixed clock of most tests; message timestamps sit just before it.
var testNow = time.Unix(1_700_000_000, 0)

type backend struct {
	name string
	// url returns a fresh, empty database URL for one test (reopening it sees the same data).
	url func(t testing.TB) string
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t testing.TB) string {
			return "sqlite://" + filepath.Join(t.TempDir(), "store.sqlite3")
		}},
		{"postgres", postgresURL},
	}
}

// postgresURL gives each test its own schema in WAKU_TEST_POSTGRES_URL's database, dropped at
// cleanup. It skips when PostgreSQL is not configured or reachable, unless
// WAKU_REQUIRE_POSTGRES=1, which turns the skip into a failure (CI).
func postgresURL(t testing.TB) string {
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

// forEach runs f once per backend as a subtest.
func forEach(t *testing.T, f func(t *testing.T, dbURL string)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { f(t, b.url(t)) })
	}
}

func open(t testing.TB, dbURL string, mod ...func(*Config)) *Archive {
	t.Helper()
	cfg := Config{URL: dbURL, Migrate: true, Now: func() time.Time { return testNow }, MaxConns: 4}
	for _, m := range mod {
		m(&cfg)
	}
	a, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", dbURL, err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func env(t testing.TB, topic, ct string, ts int64, payload string) *message.Envelope {
	e, err := message.NewEnvelope(topic, &pb.WakuMessage{
		Payload: []byte(payload), ContentTopic: ct, Timestamp: &ts,
	}, ts)
	if err != nil {
		panic(err) // cannot happen for these inputs; t may be nil (kill -9 child)
	}
	return e
}

func insertAll(t testing.TB, a *Archive, es ...*message.Envelope) {
	t.Helper()
	for _, e := range es {
		if err := a.Insert(e); err != nil {
			t.Fatalf("insert %s: %v", e.Hash, err)
		}
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// sorted returns the hashes of es in store order (timestamp, then hash bytes).
func sorted(es []*message.Envelope) []message.Hash {
	cp := append([]*message.Envelope(nil), es...)
	sort.Slice(cp, func(i, j int) bool {
		ti, tj := cp[i].Message.GetTimestamp(), cp[j].Message.GetTimestamp()
		if ti != tj {
			return ti < tj
		}
		return string(cp[i].Hash[:]) < string(cp[j].Hash[:])
	})
	out := make([]message.Hash, len(cp))
	for i, e := range cp {
		out[i] = e.Hash
	}
	return out
}

func hashesOf(p Page) []message.Hash {
	out := make([]message.Hash, len(p.Entries))
	for i, e := range p.Entries {
		out[i] = e.Hash
	}
	return out
}

// corpus is n messages across two content topics on one shard, timestamps 1 ms apart with
// some ties so the hash tie-break is exercised.
func corpus(t testing.TB, n int) []*message.Envelope {
	base := testNow.Add(-10 * time.Second).UnixNano()
	out := make([]*message.Envelope, n)
	for i := range out {
		ct := "/app/1/a/proto"
		if i%3 == 0 {
			ct = "/app/1/b/proto"
		}
		out[i] = env(t, "/waku/2/rs/1/0", ct, base+int64(i/2)*int64(time.Millisecond), fmt.Sprintf("m%d", i))
	}
	return out
}

func ptr[T any](v T) *T { return &v }
