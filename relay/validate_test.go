package relay

import (
	"testing"
	"time"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"google.golang.org/protobuf/encoding/protowire"
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
	r, rp := relayAndPeer(t, h, testConfig(m), c)
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

// TestDuplicateByHashIgnored: gossipsub recognises a duplicate by its message ID (SHA-256 of
// the bytes) and only for GossipSeenTTL; relay recognises it by the Waku message hash for
// SeenMessagesTTL. A message sent again in another encoding (here with an unknown field, so
// gossipsub takes it for new) stands for one that gossipsub has forgotten: it is not
// delivered again, and its sender is not penalised.
func TestDuplicateByHashIgnored(t *testing.T) {
	h := testhost.New(t)
	m := newCountMetrics()
	c := newCollector()
	cfg := testConfig(m)
	cfg.ValidateWorkers = 1 // messages from one peer are validated in the order sent
	r, rp := relayAndPeer(t, h, cfg, c)
	topic := testTopic
	first := encode(t, wakuMsg(payloadOf(1)))
	rp.publish(t, &pubsubpb.Message{Data: first, Topic: &topic})
	waitFor(t, "the first delivery", func() bool { return c.total() == 1 })

	again := protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), first...), 99, protowire.VarintType), 1)
	rp.publish(t, &pubsubpb.Message{Data: again, Topic: &topic})
	rp.publish(t, &pubsubpb.Message{Data: encode(t, wakuMsg(payloadOf(2))), Topic: &topic})
	waitFor(t, "the next message", func() bool { return c.payloadCount(payloadOf(2)) == 1 })
	if n := c.payloadCount(payloadOf(1)); n != 1 {
		t.Fatalf("the re-encoded duplicate was delivered: %d deliveries", n)
	}
	if got := m.sumPrefix("rejected/"); got != 0 {
		t.Fatalf("%d counted as rejected", got)
	}
	if s, ok := r.PeerScore(rp.h.ID()); ok && s < 0 {
		t.Fatalf("sender penalised: score %v", s)
	}
}

func TestGossipSeenTTL(t *testing.T) {
	p := DefaultParams()
	if p.gossipSeenTTL() != 10*time.Second || p.SeenMessagesTTL != 2*time.Minute {
		t.Fatalf("defaults: gossipsub %v, duplicates %v", p.gossipSeenTTL(), p.SeenMessagesTTL)
	}
	for _, gossip := range []time.Duration{0, 3 * time.Minute} {
		p.GossipSeenTTL = gossip
		if got := p.gossipSeenTTL(); got != p.SeenMessagesTTL {
			t.Fatalf("GossipSeenTTL %v: gossipsub keeps IDs %v, want the duplicate window %v", gossip, got, p.SeenMessagesTTL)
		}
	}
	if n := NwakuParams(); n.gossipSeenTTL() != 2*time.Minute {
		t.Fatalf("nwaku's profile keeps IDs %v in gossipsub", n.gossipSeenTTL())
	}
}
