package node

import (
	"slices"
	"testing"
)

// TestRelaySubscribeAnyCluster: another cluster's shard is relayed (a message published on it
// comes back on the bus) but not announced among our shards; a malformed topic is refused.
func TestRelaySubscribeAnyCluster(t *testing.T) {
	n := startNode(t, testConfig(t)) // cluster 16, shard 3
	const other = "/waku/2/rs/99/4"
	if err := n.Relay().Subscribe(other); err == nil {
		t.Fatal("RelaySubscribe took another cluster's shard")
	}
	if err := n.Relay().SubscribeAnyCluster(other); err != nil {
		t.Fatal(err)
	}
	if !n.Relay().IsSubscribed(other) {
		t.Fatalf("not subscribed: %v", n.Relay().Topics())
	}
	if got := n.shardIndices(); !slices.Equal(got, []uint16{3}) {
		t.Fatalf("announced shards %v, want [3]", got)
	}
	s := n.Subscribe(nil, 4)
	defer s.Close()
	if _, err := n.Publish(t.Context(), other, testMessage("foreign")); err != nil {
		t.Fatal(err)
	}
	if e := receive(t, s, "foreign"); e.PubsubTopic != other {
		t.Fatalf("delivered on %s", e.PubsubTopic)
	}
	if err := n.Relay().SubscribeAnyCluster("/waku/2/default-waku/proto"); err == nil {
		t.Fatal("named topic accepted")
	}
}
