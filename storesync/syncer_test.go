package storesync

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

type node struct {
	h  host.Host
	a  *archive.Archive
	s  *Syncer
	ms *countMetrics
}

func openArchive(t testing.TB) *archive.Archive {
	t.Helper()
	a, err := archive.Open(context.Background(), archive.Config{URL: "sqlite://" + filepath.Join(t.TempDir(), "a.sqlite3"), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// newNode starts a host, an archive holding msgs and a Syncer with its loop off.
func newNode(t testing.TB, cfg Config, msgs ...*message.Envelope) *node {
	t.Helper()
	n := &node{h: testhost.New(t), a: openArchive(t), ms: newCountMetrics()}
	ctx := context.Background()
	for _, e := range msgs {
		if err := n.a.InsertHistorical(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if cfg.Interval == 0 {
		cfg.Interval = -1
	}
	if cfg.PubsubTopics == nil {
		cfg.PubsubTopics = []string{tpc}
	}
	if cfg.Validate == nil {
		cfg.Validate = message.Rules{}.Check
	}
	cfg.Metrics = n.ms
	n.s = New(n.h, n.a, cfg)
	if err := n.s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.s.Stop)
	return n
}

// msg is message i on topic, timestamped age before now.
func msg(t testing.TB, topic string, i int, age time.Duration) *message.Envelope {
	t.Helper()
	ts := time.Now().Add(-age).UnixNano()
	e, err := message.NewEnvelope(topic, &pb.WakuMessage{Payload: fmt.Appendf(nil, "payload %d", i), ContentTopic: ct, Timestamp: &ts}, ts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func msgs(t testing.TB, from, to int) []*message.Envelope {
	var out []*message.Envelope
	for i := from; i < to; i++ {
		out = append(out, msg(t, tpc, i, time.Minute+time.Duration(i)*time.Second))
	}
	return out
}

// waitCount waits until the archive holds want messages.
func waitCount(t testing.TB, a *archive.Archive, want int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := a.Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == want {
			return
		}
		if n > want || time.Now().After(deadline) {
			t.Fatalf("archive holds %d messages, want %d", n, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTwoHostsConverge(t *testing.T) {
	common := msgs(t, 0, 300)
	a := newNode(t, Config{}, append(common, msgs(t, 300, 350)...)...)
	b := newNode(t, Config{}, append(common, msgs(t, 400, 430)...)...)
	if a.s.Len() != 350 || b.s.Len() != 330 {
		t.Fatalf("index loaded %d / %d", a.s.Len(), b.s.Len())
	}
	testhost.Connect(t, a.h, b.h)
	res, err := a.s.Sync(context.Background(), b.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	// a finds its 50 by item-set walks; b's 30 lie where a holds nothing, so a answers with an
	// empty item set and b pushes them without a ever listing them (nwaku's rules).
	if res.ToSend != 50 {
		t.Fatalf("result %+v", res)
	}
	waitCount(t, a.a, 380)
	waitCount(t, b.a, 380)
	// Received messages enter the index, so the next round finds nothing.
	deadline := time.Now().Add(5 * time.Second)
	for a.s.Len() != 380 || b.s.Len() != 380 {
		if time.Now().After(deadline) {
			t.Fatalf("index %d / %d", a.s.Len(), b.s.Len())
		}
		time.Sleep(10 * time.Millisecond)
	}
	res, err = b.s.Sync(context.Background(), a.h.ID())
	if err != nil || res.Frames != 1 || res.ToSend+res.ToRecv != 0 {
		t.Fatalf("second round %+v %v", res, err)
	}
	if a.ms.get("transfer_msg_sent") != 50 || b.ms.get("transfer_msg_receive") != 50 {
		t.Fatalf("metrics a %v b %v", a.ms.snapshot(), b.ms.snapshot())
	}
}

func TestIdenticalPairEndsAfterFirstExchange(t *testing.T) {
	common := msgs(t, 0, 50)
	a, b := newNode(t, Config{}, common...), newNode(t, Config{}, common...)
	testhost.Connect(t, a.h, b.h)
	res, err := a.s.Sync(context.Background(), b.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	// One fingerprint out (65 bytes with this topic), the terminal 0x00 back.
	if res.Frames != 1 || res.Bytes != 66 || res.ToSend+res.ToRecv != 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestRelayFedIndexAndPrune(t *testing.T) {
	a := newNode(t, Config{Range: time.Hour})
	a.s.Add(msg(t, tpc, 1, time.Minute))
	a.s.Add(msg(t, tpc, 2, 2*time.Hour)) // older than the range
	eph := msg(t, tpc, 3, time.Minute)
	eph.Message.Ephemeral = ptr(true)
	a.s.Add(eph)
	if a.s.Len() != 1 {
		t.Fatalf("index %d", a.s.Len())
	}
	a.s.cfg.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	a.s.Prune()
	if a.s.Len() != 0 || a.ms.get("cached") != 0 {
		t.Fatalf("after prune %d", a.s.Len())
	}
}

func TestPeriodicLoopSyncs(t *testing.T) {
	a := newNode(t, Config{}, msgs(t, 0, 10)...)
	b := newNode(t, Config{Interval: 100 * time.Millisecond})
	testhost.Connect(t, b.h, a.h)
	// The loop picks a peer that announced the protocol (identify); here it is told directly.
	b.h.Peerstore().AddProtocols(a.h.ID(), ReconciliationProtocol)
	waitCount(t, b.a, 10)
}

func ptr[T any](v T) *T { return &v }

// Add does not wait for a session holding the index: the ID waits and enters at the next lock.
func TestAddWhileIndexBusy(t *testing.T) {
	a := newNode(t, Config{})
	e := msg(t, tpc, 1, time.Minute)
	a.s.mu.Lock()
	done := make(chan struct{})
	go func() { a.s.Add(e); close(done) }()
	<-done // returned although the index is locked
	a.s.mu.Unlock()
	if a.s.Len() != 1 {
		t.Fatalf("index %d", a.s.Len())
	}
}
