package bridge

import (
	"context"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/wakuv1"
)

// blockedV1 is a v1 side whose Post blocks until released: the PoW/post backlog of a
// bridge flooded from v2.
type blockedV1 struct {
	n       *wakuv1.Node
	release chan struct{}
	posted  chan *wakuv1.Envelope
}

func (v *blockedV1) Subscribe(c int) *wakuv1.Subscription { return v.n.Subscribe(c) }
func (v *blockedV1) Post(e *wakuv1.Envelope) error {
	<-v.release
	v.posted <- e
	return nil
}

type noV2 struct{}

func (noV2) Publish(context.Context, string, *pb.WakuMessage) (*message.Envelope, error) {
	return nil, nil
}

// A v2 flood never blocks Deliver (relay's delivery goroutine): beyond the bounded queue
// messages are dropped and counted as queue_full.
func TestV2FloodIsBoundedAndCounted(t *testing.T) {
	v1 := &blockedV1{n: startV1(t), release: make(chan struct{}), posted: make(chan *wakuv1.Envelope, 100)}
	cfg := DefaultConfig()
	cfg.PubsubTopic = testPubsubTopic
	cfg.QueueSize = 8
	cfg.Logger = quiet
	br, err := New(cfg, v1, noV2{})
	if err != nil {
		t.Fatal(err)
	}
	if err := br.Start(); err != nil {
		t.Fatal(err)
	}
	defer br.Stop()
	const n = 100
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			ts, v := time.Now().UnixNano(), uint32(1)
			m := &pb.WakuMessage{Payload: []byte{byte(i)}, ContentTopic: "/waku/1/0x01020304/rfc26", Version: &v, Timestamp: &ts}
			e, err := message.NewEnvelope(testPubsubTopic, m, ts)
			if err != nil {
				t.Error(err)
				return
			}
			br.Deliver(e)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Deliver blocked")
	}
	// One message is in Post, QueueSize wait: the rest were dropped.
	waitFor(t, "drops counted", func() bool { return dropped(br, DropQueueFull) >= float64(n-cfg.QueueSize-1) })
	close(v1.release)
	for i := 0; i < n-int(dropped(br, DropQueueFull)); i++ {
		select {
		case <-v1.posted:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of the queued messages were posted", i)
		}
	}
	waitFor(t, "transfers counted", func() bool { return transfers(br, TransferV2ToV1)+dropped(br, DropQueueFull) == n })
}

// recordingV1 is a v1 side that keeps what the bridge posts.
type recordingV1 struct{ posted []*wakuv1.Envelope }

func (v *recordingV1) Subscribe(int) *wakuv1.Subscription { return nil }
func (v *recordingV1) Post(e *wakuv1.Envelope) error {
	v.posted = append(v.posted, e)
	return nil
}

// Another bridge's v2 copy of a v1 envelope reaches us before the envelope itself reaches
// our v1 node: the copy is held, and the envelope's arrival over v1 cancels it, so v1 never
// gets a second envelope with the same data. Without the arrival the copy is sealed and
// posted. The worker is not started: each step runs in order, the race is fixed.
func TestHeldV2CopyCancelledByV1Arrival(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PubsubTopic = testPubsubTopic
	cfg.Logger = quiet
	for _, arrives := range []bool{true, false} {
		v1 := &recordingV1{}
		br, err := New(cfg, v1, noV2{})
		if err != nil {
			t.Fatal(err)
		}
		orig := &wakuv1.Envelope{Expiry: uint32(time.Now().Unix()) + 50, TTL: 50, Topic: topicT, Data: []byte("from A")}
		m := ToV2(orig)
		e, err := message.NewEnvelope(testPubsubTopic, m, m.GetTimestamp())
		if err != nil {
			t.Fatal(err)
		}
		br.Deliver(e) // the other bridge's v2 copy
		if arrives {
			br.forwardToV2(context.Background(), orig) // A's envelope, during the hold
		}
		j := <-br.queue
		if time.Until(j.due) < cfg.V1Hold/2 {
			t.Fatalf("job due in %v, want about the %v hold", time.Until(j.due), cfg.V1Hold)
		}
		br.forwardToV1(context.Background(), j)
		switch {
		case arrives && (len(v1.posted) != 0 || dropped(br, DropDuplicate) != 2):
			t.Fatalf("arrived over v1: posted %d, duplicates %v; want 0 posted, 2 duplicates (v1→v2 and v2→v1)", len(v1.posted), dropped(br, DropDuplicate))
		case !arrives && (len(v1.posted) != 1 || transfers(br, TransferV2ToV1) != 1):
			t.Fatalf("no v1 arrival: posted %d, transfers %v; want 1 and 1", len(v1.posted), transfers(br, TransferV2ToV1))
		}
	}
}
