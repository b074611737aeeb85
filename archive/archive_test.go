package archive

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
)

// walk pages through q until no cursor, checking page sizes, and returns the hashes in the
// order a client reassembles them (forward: appended; backward: prepended).
func walk(t *testing.T, a *Archive, q Query) (all []message.Hash, pages int) {
	t.Helper()
	for {
		p, err := a.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		pages++
		if len(p.Entries) > q.Limit {
			t.Fatalf("page of %d > limit %d", len(p.Entries), q.Limit)
		}
		if p.Cursor != nil && len(p.Entries) != q.Limit {
			t.Fatalf("cursor on a short page (%d of %d)", len(p.Entries), q.Limit)
		}
		h := hashesOf(p)
		if q.Forward {
			all = append(all, h...)
		} else {
			all = append(h, all...)
		}
		if p.Cursor == nil {
			return all, pages
		}
		want := p.Entries[len(p.Entries)-1].Hash
		if !q.Forward {
			want = p.Entries[0].Hash
		}
		if *p.Cursor != want {
			t.Fatalf("cursor %s, want boundary entry %s", p.Cursor, want)
		}
		q.Cursor = p.Cursor
		if pages > 10_000 {
			t.Fatal("no end")
		}
	}
}

func TestPagination(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		a := open(t, dbURL)
		if p, err := a.Query(context.Background(), Query{Limit: 20, Forward: true}); err != nil || len(p.Entries) != 0 || p.Cursor != nil {
			t.Fatalf("empty store: %+v %v", p, err)
		}
		ms := corpus(t, 60)
		insertAll(t, a, ms...)
		want := sorted(ms)
		for _, tc := range []struct {
			name      string
			limit     int
			forward   bool
			wantPages int
		}{
			{"forward exact multiple", 20, true, 3},
			{"backward exact multiple", 20, false, 3},
			{"forward remainder", 25, true, 3},
			{"backward remainder", 25, false, 3},
			{"forward one page", 100, true, 1},
			{"backward by one", 1, false, 60},
			{"forward page equals total", 60, true, 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, pages := walk(t, a, Query{Limit: tc.limit, Forward: tc.forward})
				if !slices.Equal(got, want) {
					t.Fatalf("walk order differs:\n got %v\nwant %v", got, want)
				}
				if pages != tc.wantPages {
					t.Fatalf("pages %d, want %d", pages, tc.wantPages)
				}
			})
		}
		t.Run("cursor at the ends", func(t *testing.T) {
			last, first := want[len(want)-1], want[0]
			for _, q := range []Query{{Cursor: &last, Forward: true, Limit: 20}, {Cursor: &first, Forward: false, Limit: 20}} {
				p, err := a.Query(context.Background(), q)
				if err != nil || len(p.Entries) != 0 || p.Cursor != nil {
					t.Fatalf("cursor at end (forward=%v): %d entries, cursor %v, err %v", q.Forward, len(p.Entries), p.Cursor, err)
				}
			}
			// From the other end the cursor excludes only itself.
			p, err := a.Query(context.Background(), Query{Cursor: &first, Forward: true, Limit: 100})
			if err != nil || !slices.Equal(hashesOf(p), want[1:]) {
				t.Fatalf("forward from first: %v", err)
			}
		})
		t.Run("unknown cursor", func(t *testing.T) {
			bogus := message.Hash{1, 2, 3}
			_, err := a.Query(context.Background(), Query{Cursor: &bogus, Limit: 20})
			if !errors.Is(err, ErrUnknownCursor) {
				t.Fatalf("err %v, want ErrUnknownCursor", err)
			}
		})
	})
}

func TestContentAndTimeFilters(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		a := open(t, dbURL)
		ms := corpus(t, 50)
		other := env(t, "/waku/2/rs/1/1", "/app/1/a/proto", ms[10].Message.GetTimestamp(), "other shard")
		insertAll(t, a, append(ms, other)...)
		filter := func(f func(e *message.Envelope) bool) []message.Hash {
			var out []*message.Envelope
			for _, e := range append(ms, other) {
				if f(e) {
					out = append(out, e)
				}
			}
			return sorted(out)
		}
		t0, t1 := ms[8].Message.GetTimestamp(), ms[30].Message.GetTimestamp()
		for _, tc := range []struct {
			name string
			q    Query
			want []message.Hash
		}{
			{"one content topic", Query{PubsubTopic: "/waku/2/rs/1/0", ContentTopics: []string{"/app/1/b/proto"}},
				filter(func(e *message.Envelope) bool {
					return e.PubsubTopic == "/waku/2/rs/1/0" && e.Message.ContentTopic == "/app/1/b/proto"
				})},
			{"two content topics", Query{PubsubTopic: "/waku/2/rs/1/0", ContentTopics: []string{"/app/1/a/proto", "/app/1/b/proto"}},
				filter(func(e *message.Envelope) bool { return e.PubsubTopic == "/waku/2/rs/1/0" })},
			{"absent topic", Query{PubsubTopic: "/waku/2/rs/1/0", ContentTopics: []string{"/none/1/x/proto"}}, nil},
			{"pubsub only", Query{PubsubTopic: "/waku/2/rs/1/1"}, []message.Hash{other.Hash}},
			{"time range [start,end)", Query{TimeStart: &t0, TimeEnd: &t1},
				filter(func(e *message.Envelope) bool { ts := e.Message.GetTimestamp(); return ts >= t0 && ts < t1 })},
			{"start only", Query{TimeStart: &t1},
				filter(func(e *message.Envelope) bool { return e.Message.GetTimestamp() >= t1 })},
			{"end only", Query{TimeEnd: &t0},
				filter(func(e *message.Envelope) bool { return e.Message.GetTimestamp() < t0 })},
			{"empty range", Query{TimeStart: &t1, TimeEnd: &t0}, nil},
			{"topic and time", Query{PubsubTopic: "/waku/2/rs/1/0", ContentTopics: []string{"/app/1/a/proto", "/app/1/b/proto"}, TimeStart: &t0, TimeEnd: &t1},
				filter(func(e *message.Envelope) bool {
					ts := e.Message.GetTimestamp()
					return e.PubsubTopic == "/waku/2/rs/1/0" && ts >= t0 && ts < t1
				})},
		} {
			for _, fwd := range []bool{true, false} {
				q := tc.q
				q.Forward, q.Limit = fwd, 7
				got, _ := walk(t, a, q)
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s forward=%v: got %d hashes, want %d\n got %v\nwant %v", tc.name, fwd, len(got), len(tc.want), got, tc.want)
				}
			}
		}
	})
}

func TestHashQueryAndData(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		a := open(t, dbURL)
		ms := corpus(t, 30)
		meta := env(t, "/waku/2/rs/1/2", "/app/1/m/proto", ms[0].Message.GetTimestamp(), "with meta")
		meta.Message.Meta, meta.Message.Version = []byte{9, 9}, ptr[uint32](1)
		meta, _ = message.NewEnvelope(meta.PubsubTopic, meta.Message, 0)
		insertAll(t, a, append(ms, meta)...)
		absent := message.Hash{0xff}
		ask := []message.Hash{ms[20].Hash, absent, ms[3].Hash, meta.Hash}
		p, err := a.Query(context.Background(), Query{Hashes: ask, Limit: 20, IncludeData: true})
		if err != nil {
			t.Fatal(err)
		}
		want := sorted([]*message.Envelope{ms[20], ms[3], meta})
		if !slices.Equal(hashesOf(p), want) || p.Cursor != nil {
			t.Fatalf("hash query got %v want %v", hashesOf(p), want)
		}
		for _, e := range p.Entries {
			if e.Message == nil || message.ComputeHash(e.PubsubTopic, e.Message) != e.Hash {
				t.Fatalf("entry %s: data missing or does not hash back (topic %q)", e.Hash, e.PubsubTopic)
			}
			if e.Hash == meta.Hash && (e.Message.GetVersion() != 1 || string(e.Message.Meta) != "\x09\x09") {
				t.Fatalf("version/meta not kept: %v", e.Message)
			}
		}
		// Presence query: no data, paged.
		p, err = a.Query(context.Background(), Query{Hashes: ask, Limit: 2, Forward: true})
		if err != nil || len(p.Entries) != 2 || p.Cursor == nil || p.Entries[0].Message != nil || p.Entries[0].PubsubTopic != "" {
			t.Fatalf("presence page: %+v %v", p, err)
		}
	})
}

func TestEligibilityAndDedup(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		a := open(t, dbURL)
		now := testNow.UnixNano()
		eph := env(t, "/waku/2/rs/1/0", "/a/1/b/c", now, "eph")
		eph.Message.Ephemeral = ptr(true)
		for _, tc := range []struct {
			name string
			e    *message.Envelope
			want error
		}{
			{"ephemeral", eph, ErrEphemeral},
			{"21s ahead", env(t, "/waku/2/rs/1/0", "/a/1/b/c", now+int64(21*time.Second), "future"), ErrTimestamp},
			{"21s behind", env(t, "/waku/2/rs/1/0", "/a/1/b/c", now-int64(21*time.Second), "past"), ErrTimestamp},
			{"no timestamp", env(t, "/waku/2/rs/1/0", "/a/1/b/c", 0, "zero"), ErrTimestamp},
			{"19s ahead", env(t, "/waku/2/rs/1/0", "/a/1/b/c", now+int64(19*time.Second), "ok ahead"), nil},
			{"19s behind", env(t, "/waku/2/rs/1/0", "/a/1/b/c", now-int64(19*time.Second), "ok behind"), nil},
		} {
			if err := a.Insert(tc.e); !errors.Is(err, tc.want) {
				t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
			}
		}
		dup := env(t, "/waku/2/rs/1/0", "/a/1/b/c", now, "dup")
		for range 3 {
			if err := a.Insert(dup); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		insertAll(t, a, dup) // again in a later batch
		if n, err := a.Count(context.Background()); err != nil || n != 3 {
			t.Fatalf("count %d (%v), want 3: two in-window messages and one deduplicated", n, err)
		}
	})
}

func TestReopen(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		ms := corpus(t, 25)
		a, err := Open(context.Background(), Config{URL: dbURL, Migrate: true, Now: func() time.Time { return testNow }})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ms {
			if err := a.Insert(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Close(); err != nil { // Close drains the queue without a Flush
			t.Fatal(err)
		}
		if err := a.Insert(ms[0]); !errors.Is(err, ErrClosed) {
			t.Fatalf("insert after close: %v", err)
		}
		// Schema is current, so reopening with migrations disabled works.
		b := open(t, dbURL, func(c *Config) { c.Migrate = false; c.Vacuum = true })
		got, _ := walk(t, b, Query{Limit: 10, Forward: true})
		if !slices.Equal(got, sorted(ms)) {
			t.Fatalf("after reopen got %d messages, want %d", len(got), len(ms))
		}
	})
}

func TestMigrationDisabledOnFreshDB(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		a, err := Open(context.Background(), Config{URL: dbURL, Migrate: false})
		if err == nil {
			a.Close()
			t.Fatal("open without migrations on an empty database succeeded")
		}
	})
}

func TestQueueFullAndClosed(t *testing.T) {
	// No writer runs, so the queue fills deterministically.
	cfg := Config{QueueSize: 2, Now: func() time.Time { return testNow }}
	cfg.defaults()
	a := newArchive(cfg, nil)
	e := env(t, "/waku/2/rs/1/0", "/a/1/b/c", testNow.UnixNano(), "x")
	for i, want := range []error{nil, nil, ErrQueueFull, ErrQueueFull} {
		if err := a.Insert(e); !errors.Is(err, want) {
			t.Fatalf("insert %d: %v, want %v", i, err, want)
		}
	}
	if a.Dropped() != 2 {
		t.Fatalf("dropped %d, want 2", a.Dropped())
	}
	a.q.close()
	if err := a.Insert(e); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

func TestBadURL(t *testing.T) {
	for _, u := range []string{"", "mysql://x", "sqlite://"} {
		if _, err := Open(context.Background(), Config{URL: u}); err == nil {
			t.Errorf("%q opened", u)
		}
	}
}

// History fetched by store resume is older than the ±20 s window but is still archived;
// ephemeral and timestamp-less messages are not.
func TestInsertHistorical(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		a := open(t, dbURL)
		ctx := context.Background()
		old := env(t, "/waku/2/rs/1/0", "/a/1/b/c", testNow.Add(-time.Hour).UnixNano(), "an hour ago")
		eph := env(t, "/waku/2/rs/1/0", "/a/1/b/c", testNow.Add(-time.Hour).UnixNano(), "eph")
		eph.Message.Ephemeral = ptr(true)
		if err := a.Insert(old); !errors.Is(err, ErrTimestamp) {
			t.Fatalf("Insert of an hour-old message: %v, want ErrTimestamp", err)
		}
		if err := a.InsertHistorical(ctx, old); err != nil {
			t.Fatal(err)
		}
		if err := a.InsertHistorical(ctx, eph); !errors.Is(err, ErrEphemeral) {
			t.Fatalf("ephemeral: %v", err)
		}
		if err := a.InsertHistorical(ctx, env(t, "/waku/2/rs/1/0", "/a/1/b/c", 0, "zero")); !errors.Is(err, ErrTimestamp) {
			t.Fatalf("no timestamp: %v", err)
		}
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := a.Count(ctx); n != 1 {
			t.Fatalf("count %d, want 1", n)
		}
	})
}
