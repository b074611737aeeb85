package archive

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
)

// spillDirBytes is what the spill occupies on disk.
func spillDirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// spillArchive opens an archive with a small queue and spill over dbURL.
func spillArchive(t *testing.T, dbURL, dir string, spillBytes int64, m *countMetrics) *Archive {
	t.Helper()
	return open(t, dbURL, func(c *Config) {
		c.QueueBytes, c.SpillDir, c.SpillBytes, c.Metrics = 1<<20, dir, spillBytes, m
		c.WriteTimeout, c.RetryMin, c.RetryMax = 3*time.Second, 20*time.Millisecond, 200*time.Millisecond
		c.CloseTimeout = 500 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	})
}

// insertOffered inserts es and returns those accepted.
func insertOffered(t *testing.T, a *Archive, es []*message.Envelope) (accepted []*message.Envelope) {
	t.Helper()
	for _, e := range es {
		switch err := a.Insert(e); {
		case err == nil:
			accepted = append(accepted, e)
		case !errors.Is(err, ErrQueueFull):
			t.Fatal(err)
		}
	}
	return accepted
}

// assertStored checks that exactly the messages of want are stored and found by hash.
func assertStored(t *testing.T, a *Archive, want []*message.Envelope) {
	t.Helper()
	ctx := context.Background()
	uniq := map[message.Hash]bool{}
	for _, e := range want {
		uniq[e.Hash] = true
	}
	if n, err := a.Count(ctx); err != nil || n != int64(len(uniq)) {
		t.Fatalf("stored %d (%v), want %d", n, err, len(uniq))
	}
	for i := 0; i < len(want); i += 100 {
		var hs []message.Hash
		for _, e := range want[i:min(i+100, len(want))] {
			hs = append(hs, e.Hash)
		}
		p, err := a.Query(ctx, Query{Hashes: hs, Limit: 100, Forward: true})
		if err != nil {
			t.Fatal(err)
		}
		found := map[message.Hash]bool{}
		for _, e := range p.Entries {
			found[e.Hash] = true
		}
		for _, h := range hs {
			if !found[h] {
				t.Fatalf("message %s accepted but not found by hash", h)
			}
		}
	}
}

// A stalled database: the queue fills, the rest goes to the spill up to its bound, only what
// the spill cannot take is dropped (spill_full), and once the database moves every accepted
// message, duplicates once, is stored and found by hash.
func TestSpillDuringStallLosesNothing(t *testing.T) {
	const (
		msgSize    = 10 << 10
		offered    = 600 // 6 MB: the 1 MiB queue and the 3 MiB spill cannot hold it all
		spillBytes = 3 << 20
	)
	forEach(t, func(t *testing.T, dbURL string) {
		m := newCountMetrics()
		dir := t.TempDir()
		a := spillArchive(t, dbURL, dir, spillBytes, m)
		release := stall(t, dbURL)
		var es []*message.Envelope
		for i := range offered {
			es = append(es, bigEnvelope(t, i, msgSize))
			if i%50 == 0 { // duplicates, in memory and in the spill
				es = append(es, es[len(es)-1])
			}
		}
		accepted := insertOffered(t, a, es)
		spilled, spilledBytes := a.Spilled()
		onDisk := spillDirBytes(t, dir)
		release()
		t.Logf("offered %d, accepted %d, spilled %d (%d bytes, %d on disk), dropped %d",
			len(es), len(accepted), spilled, spilledBytes, onDisk, a.Dropped())
		if spilled == 0 || onDisk > spillBytes || spilledBytes > spillBytes {
			t.Fatalf("spill holds %d messages, %d bytes (%d on disk); want some, at most %d", spilled, spilledBytes, onDisk, spillBytes)
		}
		if spilledBytes < spillBytes-2*msgSize {
			t.Fatalf("spill stopped at %d bytes, short of its %d bound", spilledBytes, spillBytes)
		}
		lost := len(es) - len(accepted)
		if lost == 0 || a.Dropped() != int64(lost) || m.drops(DropSpillFull) != lost {
			t.Fatalf("dropped %d (metrics %v), want %d all spill_full", a.Dropped(), m.dropped, lost)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := a.Flush(ctx); err != nil {
			t.Fatalf("flush after the stall: %v", err)
		}
		assertStored(t, a, accepted)
		if n, b := a.Spilled(); n != 0 || b != 0 {
			t.Fatalf("spill still holds %d messages, %d bytes after the flush", n, b)
		}
		if left := spillDirBytes(t, dir); left != 0 {
			t.Fatalf("spill files hold %d bytes after draining", left)
		}
		// The spill is reusable once drained.
		more := []*message.Envelope{bigEnvelope(t, offered+1, msgSize)}
		insertAll(t, a, more...)
		assertStored(t, a, append(accepted, more...))
	})
}

// What the spill holds when the node stops (here during a database outage) is written at the
// next start; a torn record at the end of the log, as a crash mid-append leaves, is cut off.
func TestSpillReplayedAtStart(t *testing.T) {
	dbURL := backends()[0].url(t)
	dir := t.TempDir()
	cfg := Config{URL: dbURL, Migrate: true, Now: func() time.Time { return testNow }, QueueBytes: 1 << 20, SpillDir: dir,
		RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, CloseTimeout: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var fd *faultyDriver
	a, err := openWith(context.Background(), cfg, func(d driver) driver { fd = &faultyDriver{driver: d}; return fd })
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	fd.failing.Store(true)
	var es []*message.Envelope
	for i := range 300 {
		es = append(es, bigEnvelope(t, i, 10<<10))
	}
	accepted := insertOffered(t, a, es)
	spilled, _ := a.Spilled()
	if len(accepted) != len(es) || spilled == 0 {
		t.Fatalf("accepted %d of %d, spilled %d: want all accepted, some spilled", len(accepted), len(es), spilled)
	}
	a.Close() // the queued messages cannot be written: dropped; the spill stays
	inMemory := int(a.Dropped())
	if inMemory != len(es)-spilled {
		t.Fatalf("close dropped %d, want the %d not spilled", inMemory, len(es)-spilled)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, spillPrefix+"*"))
	if len(segs) == 0 {
		t.Fatal("no spill segment left on disk")
	}
	f, err := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3}) // a torn header and payload
	f.Close()

	b := open(t, dbURL, func(c *Config) { *c = cfg })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	assertStored(t, b, es[inMemory:])
	if n, _ := b.Spilled(); n != 0 {
		t.Fatalf("spill holds %d after replay", n)
	}
}
