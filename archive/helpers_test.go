package archive

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/wakunode/wakunode/internal/testpg"
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

// postgresURL is a PostgreSQL schema of the test's own (internal/testpg).
func postgresURL(t testing.TB) string { return testpg.URL(t) }

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
