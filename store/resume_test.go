package store

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// hostileStore answers every query with the same entries, and a cursor when endless is set.
type hostileStore struct {
	mu      sync.Mutex
	entries []archive.Entry
	endless bool
	queries []archive.Query
}

func (h *hostileStore) Query(_ context.Context, q archive.Query) (archive.Page, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.queries = append(h.queries, q)
	p := archive.Page{Entries: h.entries}
	if h.endless {
		c := message.Hash{1}
		p.Cursor = &c
	}
	return p, nil
}

// entry builds a stored entry; mutate may spoil it after the hash is computed.
func entry(t *testing.T, topic string, m *pb.WakuMessage, mutate func(*archive.Entry)) archive.Entry {
	t.Helper()
	e := archive.Entry{Hash: message.ComputeHash(topic, m), Timestamp: m.GetTimestamp(), PubsubTopic: topic, Message: m}
	if mutate != nil {
		mutate(&e)
	}
	return e
}

func resumeConfig(a ResumeArchive, c *Client, p peer.ID) ResumeConfig {
	return ResumeConfig{
		Archive: a, Pager: c,
		Peer: func(context.Context) (peer.ID, error) { return p, nil },
		Validator: message.Validator{Rules: message.Rules{MaxSize: 1024}, Cluster: 1,
			Served: func(t string) bool { return t == testTopic }},
		Now: func() time.Time { return testNow },
	}
}

// A hostile store node answers resume with messages relay would refuse, messages for shards we
// do not relay, messages outside the window asked for and messages under a false hash: only
// the valid one reaches the archive.
func TestResumeRefusesWhatRelayWould(t *testing.T) {
	ts := func(d time.Duration) *int64 { v := testNow.Add(d).UnixNano(); return &v }
	msg := func(payload string, when *int64) *pb.WakuMessage {
		return &pb.WakuMessage{Payload: []byte(payload), ContentTopic: ctA, Timestamp: when}
	}
	good := entry(t, testTopic, msg("good, an hour old", ts(-time.Hour)), nil)
	hostile := &hostileStore{entries: []archive.Entry{
		good,
		entry(t, testTopic, msg(strings.Repeat("x", 2000), ts(-time.Minute)), nil),      // oversized
		entry(t, "/waku/2/rs/1/7", msg("shard we do not relay", ts(-time.Minute)), nil), // wrong topic
		entry(t, "/waku/2/rs/2/0", msg("other cluster", ts(-time.Minute)), nil),         // wrong topic
		entry(t, testTopic, msg("false hash", ts(-time.Minute)), func(e *archive.Entry) { e.Hash[0] ^= 1 }),
		entry(t, testTopic, msg("swapped after hashing", ts(-time.Minute)), func(e *archive.Entry) {
			e.Message = msg("something else", ts(-time.Minute))
		}),
		entry(t, testTopic, &pb.WakuMessage{Payload: []byte("no content topic"), Timestamp: ts(-time.Minute)}, nil),
		entry(t, testTopic, &pb.WakuMessage{ContentTopic: ctA, Timestamp: ts(-time.Minute)}, nil), // empty payload
		entry(t, testTopic, &pb.WakuMessage{Payload: []byte("m"), ContentTopic: ctA, Meta: bytes.Repeat([]byte{1}, 100), Timestamp: ts(-time.Minute)}, nil),
		entry(t, testTopic, msg("two days old", ts(-48*time.Hour)), nil), // before the window
		entry(t, testTopic, msg("from the future", ts(time.Hour)), nil),  // after it
		entry(t, testTopic, msg("no timestamp", nil), nil),               // never archivable
		entry(t, testTopic, msg("no data", ts(-time.Minute)), func(e *archive.Entry) { e.Message = nil }),
	}}
	a := openArchive(t, nil)
	c, p := setup(t, hostile, ServiceConfig{})
	res, err := Resume(context.Background(), resumeConfig(a, c, p))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{RejectInvalid: 4, RejectTopic: 2, RejectHash: 2, RejectTimestamp: 3, RejectNoMessage: 1}
	if res.Stored != 1 {
		t.Errorf("stored %d, want 1", res.Stored)
	}
	for reason, n := range want {
		if res.Rejected[reason] != n {
			t.Errorf("rejected[%s] = %d, want %d (all: %v)", reason, res.Rejected[reason], n, res.Rejected)
		}
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	page, err := a.Query(context.Background(), archive.Query{IncludeData: true, Forward: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].Hash != good.Hash {
		t.Fatalf("archive holds %d entries, want only the valid message", len(page.Entries))
	}
	// An empty archive asks one window back.
	if q := hostile.queries[0]; q.TimeStart == nil || *q.TimeStart != testNow.Add(-DefaultResumeWindow).UnixNano() {
		t.Errorf("first query starts at %v, want now - %s", q.TimeStart, DefaultResumeWindow)
	}

	// The next pass starts from the newest archived message, less the 20 s a message may lag.
	hostile.mu.Lock()
	hostile.entries, hostile.queries = nil, nil
	hostile.mu.Unlock()
	if _, err := Resume(context.Background(), resumeConfig(a, c, p)); err != nil {
		t.Fatal(err)
	}
	if q := hostile.queries[0]; q.TimeStart == nil || *q.TimeStart != good.Timestamp-int64(message.DefaultMaxTimeDrift) {
		t.Errorf("second query starts at %v, want newest - 20 s", q.TimeStart)
	}
}

// A store node whose cursor chain never ends cannot keep resume busy for ever.
func TestResumeBoundsPages(t *testing.T) {
	hostile := &hostileStore{endless: true}
	a := openArchive(t, nil)
	c, p := setup(t, hostile, ServiceConfig{})
	cfg := resumeConfig(a, c, p)
	cfg.MaxPages = 3
	if _, err := Resume(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "3 pages") {
		t.Fatalf("endless cursor: err %v, want a stop after 3 pages", err)
	}
	if len(hostile.queries) != 3 {
		t.Fatalf("%d queries, want 3", len(hostile.queries))
	}
}

// RunResume retries a failing pass and returns once ctx ends.
func TestRunResumeStopsWithContext(t *testing.T) {
	a := openArchive(t, nil)
	tried := make(chan struct{}, 8)
	cfg := ResumeConfig{
		Archive: a, Logger: slog.New(slog.DiscardHandler),
		Peer: func(context.Context) (peer.ID, error) {
			tried <- struct{}{}
			return "", context.DeadlineExceeded
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { RunResume(ctx, cfg); close(done) }()
	<-tried
	<-tried // a retry after the first failure
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunResume did not return after cancel")
	}
}
