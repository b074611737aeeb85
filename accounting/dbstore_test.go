package accounting

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/internal/testpg"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// postgresURL is a PostgreSQL schema of the test's own (internal/testpg).
func postgresURL(t testing.TB) string { return testpg.URL(t) }

// forEachBackend runs f with the URL of a fresh archive database: a SQLite file, a PostgreSQL schema.
func forEachBackend(t *testing.T, f func(t *testing.T, dbURL string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, "sqlite://"+filepath.Join(t.TempDir(), "store.sqlite3")) })
	// With a pool setting in the URL, as an operator may give the archive.
	t.Run("postgres", func(t *testing.T) { f(t, postgresURL(t)+"&pool_max_conns=4") })
}

func openStore(t *testing.T, dbURL, dataDir string) Storage {
	t.Helper()
	st, err := OpenStore(context.Background(), dbURL, dataDir)
	if err != nil {
		t.Fatalf("open store %s: %v", dbURL, err)
	}
	return st
}

func TestStoreRestartRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := openStore(t, dbURL, "")
		l := newLedger(t, Config{})
		pr := NewPersister(l, st, time.Hour, nil)
		pr.Start()
		l.Debit(peerA, Store, 7)
		l.Credit(peerA, Filter, 2)
		l.Debit(peerB, Relay, 5000)
		l.Credit(peerB, Lightpush, 3)
		pr.Stop() // final flush
		addr := []byte{0xaa, 0xbb}
		if err := st.SaveCheque(ctx, "received", addr, 50, []byte("c50")); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveCheque(ctx, "sent", addr, 9, []byte("c9")); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}

		st2 := openStore(t, dbURL, "") // tables exist already: creation is idempotent
		defer st2.Close()
		l2 := newLedger(t, Config{})
		if err := l2.Load(ctx, st2); err != nil {
			t.Fatal(err)
		}
		a, _ := l2.Account(peerA)
		b, _ := l2.Account(peerB)
		if a.Balance != 5 || a.Served[Store] != 7 || a.Consumed[Filter] != 2 ||
			b.Balance != 1 || b.RelayOut != 5000 || b.Consumed[Lightpush] != 3 {
			t.Fatalf("restored %+v / %+v", a, b)
		}
		// An older cheque never replaces the newer one, before or after the restart.
		_ = st2.SaveCheque(ctx, "received", addr, 30, []byte("c30"))
		if cum, c, err := st2.LastCheque(ctx, "received", addr); err != nil || cum != 50 || string(c) != "c50" {
			t.Fatalf("received cheque %d %q %v, want 50 c50", cum, c, err)
		}
		if cum, c, err := st2.LastCheque(ctx, "sent", addr); err != nil || cum != 9 || string(c) != "c9" {
			t.Fatalf("sent cheque %d %q %v, want 9 c9", cum, c, err)
		}
		if _, _, err := st2.LastCheque(ctx, "sent", []byte{1}); err != ErrNoCheque {
			t.Fatalf("unknown counterparty: %v, want ErrNoCheque", err)
		}
		// The relay byte remainder survived too: 120 more bytes cross the 5th KiB.
		if u := l2.Debit(peerB, Relay, 120); u != 1 {
			t.Fatalf("relay remainder lost across restart: %d units", u)
		}
		// A second flush updates rows in place.
		l2.Debit(peerA, Store, 10)
		if err := l2.Flush(ctx, st2); err != nil {
			t.Fatal(err)
		}
		recs, err := st2.LoadBalances(ctx)
		if err != nil || len(recs) != 2 {
			t.Fatalf("%d records, %v; want 2", len(recs), err)
		}
	})
}

func TestOpenStoreLocations(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ url, file string }{
		{"", DefaultSQLiteFile},                     // store off: a file in the data dir
		{"sqlite://store.sqlite3", "store.sqlite3"}, // relative to the data dir, like the archive
		{"sqlite://" + filepath.Join(dir, "abs.db"), "abs.db"},
	} {
		st := openStore(t, c.url, dir)
		_ = st.Close()
		if _, err := os.Stat(filepath.Join(dir, c.file)); err != nil {
			t.Errorf("url %q: %v", c.url, err)
		}
	}
	if _, err := OpenStore(context.Background(), "mysql://x", dir); err == nil {
		t.Error("an unsupported url must be refused")
	}
	st := openStore(t, "", "") // neither: in memory
	defer st.Close()
	if err := st.SaveBalances(context.Background(), []Snapshot{{Peer: peerA, Balance: 1}}); err != nil {
		t.Fatal(err)
	}
}

// The accounting tables share the archive's database: a busy archive writer and periodic
// balance flushes must both succeed, and the archive must reopen (migrate) with our tables there.
func TestStoreBesideBusyArchive(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		now := time.Now()
		openArchive := func() *archive.Archive {
			a, err := archive.Open(ctx, archive.Config{URL: dbURL, Migrate: true, MaxConns: 4, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatalf("open archive: %v", err)
			}
			return a
		}
		a := openArchive()
		st := openStore(t, dbURL, "")
		defer st.Close()

		const writers, perWriter = 4, 500
		var wg sync.WaitGroup
		errs := make(chan error, writers+1)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < perWriter; i++ {
					ts := now.UnixNano() - int64(w*perWriter+i)
					e, err := message.NewEnvelope("/waku/2/rs/0/0", &pb.WakuMessage{
						Payload: []byte(fmt.Sprintf("m%d-%d", w, i)), ContentTopic: "/a/1/b/proto", Timestamp: &ts}, ts)
					if err == nil {
						err = a.InsertHistorical(ctx, e)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}(w)
		}
		wg.Add(1)
		go func() { // balance flushes while the archive writes
			defer wg.Done()
			for i := 0; i < 50; i++ {
				recs := make([]Snapshot, 20)
				for j := range recs {
					recs[j] = Snapshot{Peer: peer.ID(fmt.Sprintf("peer-%d", j)), Balance: int64(i)}
				}
				if err := st.SaveBalances(ctx, recs); err != nil {
					errs <- err
					return
				}
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if err := a.Flush(ctx); err != nil {
			t.Fatalf("archive flush: %v", err)
		}
		if n, err := a.Count(ctx); err != nil || n != writers*perWriter {
			t.Fatalf("archive holds %d messages (%v), want %d", n, err, writers*perWriter)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		a = openArchive() // migrations run again beside our tables
		defer a.Close()
		recs, err := st.LoadBalances(ctx)
		if err != nil || len(recs) != 20 || recs[0].Balance != 49 {
			t.Fatalf("balances after the run: %d records (%v), want 20 at 49", len(recs), err)
		}
	})
}
