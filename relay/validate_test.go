package relay

import (
	"testing"
	"time"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/testhost"
)

// TestWireAcceptsAnyTimestamp: nwaku's relay (without RLN) has no timestamp rule, so a message
// with an old, a future or no timestamp is delivered and forwarded, and its sender is not
// penalised: our scores must agree with nwaku's.
func TestWireAcceptsAnyTimestamp(t *testing.T) {
	h := testhost.New(t)
	m := newCountMetrics()
	c := newCollector()
	r := newRelay(t, h, testConfig(m), c)
	if err := r.Subscribe(testTopic); err != nil {
		t.Fatal(err)
	}
	rp := newRawPeer(t, h)
	rp.subscribe(t, testTopic)
	topic := testTopic
	for i, ts := range []*int64{
		proto.Int64(time.Now().Add(-time.Hour).UnixNano()),
		proto.Int64(time.Now().Add(time.Hour).UnixNano()),
		nil,
		proto.Int64(1),
	} {
		w := wakuMsg(payloadOf(100 + i))
		w.Timestamp = ts
		rp.publish(t, &pubsubpb.Message{Data: encode(t, w), Topic: &topic})
	}
	waitFor(t, "four deliveries", func() bool { return c.total() == 4 })
	if s, ok := r.PeerScore(rp.h.ID()); ok && s < 0 {
		t.Fatalf("sender penalised: score %v", s)
	}
	if got := m.get("rejected/" + testTopic + "/timestamp_drift"); got != 0 {
		t.Fatalf("%d rejected for drift", got)
	}
}
