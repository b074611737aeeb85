package relay

import (
	"bytes"
	"slices"
	"testing"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"

	"github.com/wakunode/wakunode/internal/testhost"
)

// TestGossipPromiseKept: a message is advertised in IHAVE for HistoryGossip heartbeats, and an
// IWANT sent right after its last advertisement is still answered. Peers penalise gossip
// promises that are not kept (broken promises lower the score nwaku and go-waku keep of us), so
// the history must outlast the last IHAVE by a heartbeat: with HistoryLength equal to
// HistoryGossip the library drops the message in the heartbeat that last advertised it.
func TestGossipPromiseKept(t *testing.T) {
	h := testhost.New(t)
	cfg := testConfig(nil)
	cfg.Params.HeartbeatInterval = DefaultParams().HeartbeatInterval // the IWANT's window is one heartbeat, as in production
	r, rp := relayAndPeer(t, h, cfg, nil)
	// IHAVE goes to topic peers outside the mesh: refuse the relay's GRAFT with a PRUNE.
	topic := testTopic
	waitFor(t, "relay grafts the raw peer", func() bool { return slices.Contains(r.MeshPeers(testTopic), rp.h.ID()) })
	rp.send(t, &pubsubpb.RPC{Control: &pubsubpb.ControlMessage{Prune: []*pubsubpb.ControlPrune{{TopicID: &topic}}}})
	waitFor(t, "raw peer out of the mesh", func() bool { return !slices.Contains(r.MeshPeers(testTopic), rp.h.ID()) })

	env, err := r.Publish(t.Context(), testTopic, wakuMsg("promised"))
	if err != nil {
		t.Fatal(err)
	}
	id := MsgID(&pubsubpb.Message{Data: env.Raw})
	advertised := func() int {
		n := 0
		for _, rpc := range decodeFrames(t, rp.frames()) {
			for _, ih := range rpc.GetControl().GetIhave() {
				if ih.GetTopicID() == testTopic && slices.Contains(ih.MessageIDs, id) {
					n++
				}
			}
		}
		return n
	}
	waitFor(t, "the last IHAVE of the message", func() bool { return advertised() >= cfg.Params.HistoryGossip })
	before := len(rp.frames())
	rp.send(t, &pubsubpb.RPC{Control: &pubsubpb.ControlMessage{Iwant: []*pubsubpb.ControlIWant{{MessageIDs: []string{id}}}}})
	waitFor(t, "the IWANT answered", func() bool {
		for _, rpc := range decodeFrames(t, rp.frames()[before:]) {
			for _, m := range rpc.Publish {
				if bytes.Equal(m.Data, env.Raw) {
					return true
				}
			}
		}
		return false
	})
}
