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
