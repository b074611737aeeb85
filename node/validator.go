package node

import "github.com/wakunode/wakunode/message"

// Validator is the node's one validation path for every door but gossip (lightpush, REST, the
// Go API's Publish, store resume, store sync): the message rules, our cluster, the shards we
// relay, and autosharding when it is on. Gossip applies the same Rules in relay.
func (n *Node) Validator() message.Validator {
	v := message.Validator{Rules: n.cfg.Rules, Cluster: n.cfg.ClusterID, Served: n.IsSubscribed}
	if n.auto != nil {
		v.Autoshard = n.auto.Shard
	}
	return v
}
