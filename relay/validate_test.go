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

// Gossipsub's seen cache forgets a message ID at its TTL, not up to a minute later: the
// go-libp2p-pubsub in third_party is patched to sweep every TTL (upstream sweeps once a
// minute, and at 10 KB × 1,000 msg/s the stale IDs and score records were ~20 MB of the
// node's peak RSS). With both duplicate windows at a second, the same message sent again is
// delivered again within a few seconds; upstream swallowed it as seen until its first sweep,
// a minute after start, long past this test's deadline.
func TestGossipSeenCacheForgetsAtItsTTL(t *testing.T) {
	h := testhost.New(t)
	c := newCollector()
	cfg := testConfig(newCountMetrics())
	cfg.Params.GossipSeenTTL = time.Second
	cfg.Params.SeenMessagesTTL = time.Second
	_, rp := relayAndPeer(t, h, cfg, c)
	topic := testTopic
	data := encode(t, wakuMsg(payloadOf(1)))
	rp.publish(t, &pubsubpb.Message{Data: data, Topic: &topic})
	waitFor(t, "the first delivery", func() bool { return c.payloadCount(payloadOf(1)) == 1 })
	next := time.Now()
	waitFor(t, "a delivery of the same message after the seen TTL", func() bool {
		if time.Now().After(next) {
			rp.publish(t, &pubsubpb.Message{Data: data, Topic: &topic})
			next = time.Now().Add(250 * time.Millisecond)
		}
		return c.payloadCount(payloadOf(1)) == 2
	})
}
