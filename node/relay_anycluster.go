package node

import "github.com/wakunode/wakunode/message"

// RelaySubscribeAnyCluster joins a static shard (/waku/2/rs/<cluster>/<shard>) of any
// cluster, as nwaku's REST POST /relay/v1/subscriptions does. Shards of other clusters are
// relayed but never announced: the ENR and metadata list only our cluster's shards.
func (n *Node) RelaySubscribeAnyCluster(topic string) error {
	s, err := message.ParseShard(topic)
	if err != nil {
		return err
	}
	if s.Cluster == n.cfg.ClusterID {
		return n.RelaySubscribe(topic)
	}
	r, err := n.relayOrErr()
	if err != nil {
		return err
	}
	return r.Subscribe(topic)
}
