package archive

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
)

// segmentFiles lists the segment files next to the SQLite database at dbURL.
func segmentFiles(t *testing.T, dbURL string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(segmentDir(strings.TrimPrefix(dbURL, "sqlite://")), "*"+segmentSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// checkPayloads queries every stored message with its data and compares it with want.
func checkPayloads(t *testing.T, a *Archive, want []*message.Envelope) {
	t.Helper()
	byHash := map[message.Hash]*message.Envelope{}
	for _, e := range want {
		byHash[e.Hash] = e
	}
	q := Query{Forward: true, Limit: 7, IncludeData: true}
	n := 0
	for {
		p, err := a.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		for _, got := range p.Entries {
			e, ok := byHash[got.Hash]
			if !ok {
				t.Fatalf("unexpected message %s", got.Hash)
			}
			if got.PubsubTopic != e.PubsubTopic || !bytes.Equal(got.Message.GetPayload(), e.Message.GetPayload()) ||
				got.Message.GetContentTopic() != e.Message.GetContentTopic() {
				t.Fatalf("message %s came back different", got.Hash)
			}
			n++
		}
		if p.Cursor == nil {
			break
		}
		q.Cursor = p.Cursor
	}
	if n != len(want) {
		t.Fatalf("read %d messages with data, want %d", n, len(want))
	}
}

// New rows keep the bytes of messages over inlineMaxBytes in segment files, not in the
// database, and the smaller ones in their rows; all read back whole, with and without a sync
// per commit.
func TestSegmentsHoldTheBytes(t *testing.T) {
	for _, fsync := range []bool{false, true} {
		dbURL := "sqlite://" + filepath.Join(t.TempDir(), "store.sqlite3")
		a := open(t, dbURL, func(c *Config) { c.FsyncCommits = fsync })
		var (
			ms           []*message.Envelope
			inline       int64
			segmentBytes int64
		)
		for i := range 30 {
			e := bigEnvelope(t, i, 1+i*300)
			ms = append(ms, e)
			if len(e.Raw) <= inlineMaxBytes {
				inline++
			} else {
				segmentBytes += int64(len(e.Raw))
			}
		}
		if inline == 0 || segmentBytes == 0 {
			t.Fatalf("corpus has %d inline messages and %d segment bytes; want both", inline, segmentBytes)
		}
		insertAll(t, a, ms...)
		checkPayloads(t, a, ms)
		var inRows, inSegs int64
		if err := a.db.queryRow(context.Background(), "SELECT count(*) FROM messages WHERE length(raw) > 0 AND seg_loc IS NULL").Scan(&inRows); err != nil {
			t.Fatal(err)
		}
		if err := a.db.queryRow(context.Background(), "SELECT count(*) FROM messages WHERE length(raw) = 0 AND seg_loc IS NOT NULL").Scan(&inSegs); err != nil {
			t.Fatal(err)
		}
		files := segmentFiles(t, dbURL)
		if inRows != inline || inSegs != int64(len(ms))-inline || len(files) != 1 {
			t.Fatalf("fsync=%v: %d rows hold their bytes, %d point at a segment, %d segment files; want %d, %d and 1",
				fsync, inRows, inSegs, len(files), inline, int64(len(ms))-inline)
		}
		info, err := os.Stat(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() != segmentBytes {
			t.Fatalf("segment holds %d bytes, want %d", info.Size(), segmentBytes)
		}
	}
}

// A store written before migration 3 keeps its rows' bytes in raw; after the upgrade both kinds
// read back.
func TestSegmentsReadOldRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.sqlite3")
	old := corpus(t, 5)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{"CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"}
	for v, m := range sqliteMigrations[:2] {
		stmts = append(append(stmts, splitSQL(m)...), "INSERT INTO schema_migrations VALUES ("+string(rune('1'+v))+", 0)")
	}
	for _, st := range stmts {
		if _, err := db.Exec(st); err != nil {
			t.Fatal(st, err)
		}
	}
	for _, e := range old {
		if _, err := db.Exec("INSERT INTO messages (hash, pubsub_topic, content_topic, ts, raw, stored_at) VALUES (?,?,?,?,?,0)",
			e.Hash[:], e.PubsubTopic, e.Message.GetContentTopic(), e.Message.GetTimestamp(), e.Raw); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	a := open(t, "sqlite://"+path)
	fresh := []*message.Envelope{bigEnvelope(t, 1, 5000), bigEnvelope(t, 2, 6000)}
	insertAll(t, a, fresh...)
	checkPayloads(t, a, append(old, fresh...))
}

// After a power loss the newest segment can be shorter than its committed rows say, or hold
// other bytes: open removes those rows (counted as torn) and keeps the rest readable.
func TestSegmentsTornAtOpen(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "store.sqlite3")
	a := open(t, dbURL)
	var ms []*message.Envelope
	for i := range 20 {
		ms = append(ms, bigEnvelope(t, i, 1000))
	}
	insertAll(t, a, ms...)
	// The newest rows hold their bytes themselves: recovery must still find the segment's.
	small := corpus(t, 3)
	insertAll(t, a, small...)
	a.Close()
	files := segmentFiles(t, dbURL)
	if len(files) != 1 {
		t.Fatalf("%d segment files, want 1", len(files))
	}
	// The bytes are in insertion order: cut the last two messages, flip a byte in the fifth.
	var size int64
	for _, e := range ms[:18] {
		size += int64(len(e.Raw))
	}
	if err := os.Truncate(files[0], size+10); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(files[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(0)
	for _, e := range ms[:4] {
		off += int64(len(e.Raw))
	}
	if _, err := f.WriteAt([]byte{0xff ^ ms[4].Raw[3]}, off+3); err != nil {
		t.Fatal(err)
	}
	f.Close()

	m := newCountMetrics()
	b := open(t, dbURL, func(c *Config) { c.Metrics = m })
	if n, err := b.Count(context.Background()); err != nil || n != 20 {
		t.Fatalf("count %d (%v) after a torn segment, want 20 (17 and the 3 small ones)", n, err)
	}
	if m.drops(DropTorn) != 3 || b.Dropped() != 3 {
		t.Fatalf("torn drops %d, Dropped %d; want 3", m.drops(DropTorn), b.Dropped())
	}
	checkPayloads(t, b, append(append(slices.Clone(ms[:4]), ms[5:18]...), small...))
	// New messages go to a new segment, after the torn tail.
	more := []*message.Envelope{bigEnvelope(t, 100, 3000)}
	insertAll(t, b, more...)
	if got := len(segmentFiles(t, dbURL)); got != 2 {
		t.Fatalf("%d segment files after reopening, want 2", got)
	}
	checkPayloads(t, b, append(append(append(slices.Clone(ms[:4]), ms[5:18]...), small...), more...))
}

// Retention removes a segment once no row points at it, and Size counts the files.
func TestSegmentsFollowRetention(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "store.sqlite3")
	clock := testNow
	a := open(t, dbURL, func(c *Config) {
		c.Now = func() time.Time { return clock }
	})
	msgLen := int64(len(bigEnvelope(t, 0, 1000).Raw))
	a.db.(*sqliteDB).segs.maxBytes = 30*msgLen - 1 // 30 messages a segment
	var ms []*message.Envelope
	for i := range 120 {
		e := bigEnvelope(t, 120-i, 1000) // timestamps rise with i
		ms = append(ms, e)
		insertAll(t, a, e) // one commit each: the segment rotates every 30 messages
	}
	ctx := context.Background()
	files := segmentFiles(t, dbURL)
	sizeBefore, err := a.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("%d segment files, want 4", len(files))
	}
	// Keep the newest 50: the two oldest segments (60 messages) go, the third keeps 20 rows.
	a.cfg.Retention = []Policy{{PolicyCapacity, 50}}
	if err := a.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	left := segmentFiles(t, dbURL)
	if !slices.Equal(left, files[2:]) {
		t.Fatalf("segments after retention %v, want %v", left, files[2:])
	}
	sizeAfter, err := a.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sizeBefore-sizeAfter < 60*msgLen {
		t.Fatalf("size fell from %d to %d, want at least the two segments' %d bytes less", sizeBefore, sizeAfter, 60*msgLen)
	}
	checkPayloads(t, a, ms[70:])
	// A size limit counts the segments: a third of what is there now removes the oldest rows
	// and with them a segment.
	a.cfg.Retention = []Policy{{PolicySize, sizeAfter / 3}}
	if err := a.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(segmentFiles(t, dbURL)); got >= 2 {
		t.Fatalf("%d segment files after a size prune, want fewer than 2", got)
	}
}

// A row read just before retention removed its segment is left out of the page rather than
// failing the query.
func TestSegmentsReadAfterRemoval(t *testing.T) {
	s, err := openSegments(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	locs, err := s.append([][]byte{[]byte("first"), []byte("second")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.rotate(); err != nil {
		t.Fatal(err)
	}
	dst := make([][]byte, 2)
	if err := s.read(locs, dst); err != nil || string(dst[0]) != "first" || string(dst[1]) != "second" {
		t.Fatalf("read %q %v", dst, err)
	}
	if err := s.remove(uint64(locs[0].seg)); err != nil {
		t.Fatal(err)
	}
	dst = make([][]byte, 2)
	if err := s.read(locs, dst); err != nil || dst[0] != nil || dst[1] != nil {
		t.Fatalf("read of a removed segment: %q %v, want nothing and no error", dst, err)
	}
}

// Messages of one segment are not all newer than those of the segments before (store resume
// inserts history; clocks differ by up to 20 s): a segment goes only once its newest message
// has been pruned.
func TestSegmentsKeptWhileAnyRowIs(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "store.sqlite3")
	a := open(t, dbURL)
	msgLen := int64(len(bigEnvelope(t, 0, 1000).Raw))
	a.db.(*sqliteDB).segs.maxBytes = 10*msgLen - 1 // 10 messages a segment
	ctx := context.Background()
	mk := func(from, n int, age time.Duration) []*message.Envelope {
		var out []*message.Envelope
		for i := range n {
			e := bigEnvelope(t, from+i, 1000)
			ts := e.Message.GetTimestamp() - int64(age)
			e = env(t, e.PubsubTopic, e.Message.GetContentTopic(), ts, string(e.Message.GetPayload()))
			out = append(out, e)
		}
		return out
	}
	recent := mk(0, 10, 0)            // segment 1
	history := mk(100, 10, time.Hour) // segment 2, an hour older
	newer := mk(200, 10, -time.Second)
	insertAll(t, a, recent...)
	for _, e := range history {
		if err := a.InsertHistorical(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	insertAll(t, a, newer...) // segment 3 (the history's batches filled segment 2)
	if got := len(segmentFiles(t, dbURL)); got != 3 {
		t.Fatalf("%d segment files, want 3", got)
	}
	// Pruning half the history (the oldest rows) removes nothing.
	a.cfg.Retention = []Policy{{PolicyCapacity, 25}}
	if err := a.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(segmentFiles(t, dbURL)); got != 3 {
		t.Fatalf("%d segment files after pruning part of one, want 3", got)
	}
	all := append(append(slices.Clone(recent), newer...), history...)
	kept := map[message.Hash]bool{}
	for _, h := range sorted(all)[5:] {
		kept[h] = true
	}
	var want []*message.Envelope
	for _, e := range all {
		if kept[e.Hash] {
			want = append(want, e)
		}
	}
	checkPayloads(t, a, want)
	// The rest of the history goes, and its segment with it; the others stay readable.
	a.cfg.Retention = []Policy{{PolicyCapacity, 20}}
	if err := a.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(segmentFiles(t, dbURL)); got != 2 {
		t.Fatalf("%d segment files after pruning the history, want 2", got)
	}
	checkPayloads(t, a, append(slices.Clone(recent), newer...))
}

// A segment that cannot be written (here its directory is gone, as with a full or failed disk)
// is an outage like a failing database: the batch is kept and retried, Health says why, and
// once the directory is back everything is stored.
func TestSegmentsWriteFailureIsRetried(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "store.sqlite3")
	a := open(t, dbURL, func(c *Config) { c.RetryMin, c.RetryMax = time.Millisecond, 20*time.Millisecond })
	dir := segmentDir(strings.TrimPrefix(dbURL, "sqlite://"))
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil { // a file where the directory was
		t.Fatal(err)
	}
	ms := []*message.Envelope{bigEnvelope(t, 1, 4000), bigEnvelope(t, 2, 5000)}
	for _, e := range ms {
		if err := a.Insert(e); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.Health().OK {
		if time.Now().After(deadline) {
			t.Fatal("the archive never reported the failing segment write")
		}
		time.Sleep(time.Millisecond)
	}
	if h := a.Health(); !strings.Contains(h.Reason, "archive segment") {
		t.Fatalf("health reason %q, want the segment error", h.Reason)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !a.Health().OK || a.Dropped() != 0 {
		t.Fatalf("after the directory came back: health %+v, %d dropped", a.Health(), a.Dropped())
	}
	checkPayloads(t, a, ms)
}

// A page's messages come in timestamp order, not in the order of their bytes, and from several
// segments: each gets its own bytes back, and bytes changed on disk fail the read.
func TestSegmentsReadInAnyOrder(t *testing.T) {
	s, err := openSegments(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	first, err := s.append([][]byte{[]byte("alpha"), bytes.Repeat([]byte("b"), 40<<10), []byte("gamma")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.rotate(); err != nil {
		t.Fatal(err)
	}
	second, err := s.append([][]byte{[]byte("delta"), []byte("epsilon")})
	if err != nil {
		t.Fatal(err)
	}
	locs := []segmentLoc{second[0], first[0], first[2], second[1], first[1]}
	want := []string{"delta", "alpha", "gamma", "epsilon", strings.Repeat("b", 40<<10)}
	dst := make([][]byte, len(locs))
	if err := s.read(locs, dst); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if string(dst[i]) != want[i] {
			t.Fatalf("entry %d: %.20q, want %.20q", i, dst[i], want[i])
		}
	}
	f, err := os.OpenFile(s.path(uint64(first[2].seg)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("G"), first[2].off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := s.read(locs, make([][]byte, len(locs))); err == nil || !strings.Contains(err.Error(), "CRC") {
		t.Fatalf("read of changed bytes: %v, want a CRC error", err)
	}
}
