package node

import (
	"slices"

	"github.com/wakunode/wakunode/message"
)

// Validator is the node's one validation path for every door but gossip (lightpush, REST, the
// Go API's Publish, store resume, store sync): the message rules, our cluster, the shards we
// relay, and autosharding when it is on. Gossip applies the same Rules in relay. It reads the
// relay field directly (set before any door opens), so it also serves resume during Start.
func (n *Node) Validator() message.Validator {
	v := message.Validator{Rules: n.cfg.Rules, Cluster: n.cfg.ClusterID, Served: n.relays}
	if n.auto != nil {
		v.Autoshard = n.auto.Shard
	}
	return v
}

// relays tells whether the node relays on topic.
func (n *Node) relays(topic string) bool {
	return n.relay != nil && slices.Contains(n.relay.Topics(), topic)
}
