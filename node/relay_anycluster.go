package node

import "github.com/wakunode/wakunode/message"

// SubscribeAnyCluster joins a static shard (/waku/2/rs/<cluster>/<shard>) of any cluster, as
// nwaku's REST POST /relay/v1/subscriptions does. Shards of other clusters are relayed but
// never announced: the ENR and metadata list only our cluster's shards.
func (r *Relay) SubscribeAnyCluster(topic string) error {
	s, err := message.ParseShard(topic)
	if err != nil {
		return err
	}
	if s.Cluster == r.n.cfg.ClusterID {
		return r.Subscribe(topic)
	}
	rl, err := r.n.relayOrErr()
	if err != nil {
		return err
	}
	return rl.Subscribe(topic)
}
