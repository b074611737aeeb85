package node

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// Relay is the node's relay protocol as its users see it: publishing, the shards relayed on
// and the gossipsub peers. Every method answers ErrNotStarted before Start and
// ErrRelayDisabled (or nothing) when relay is not mounted.
type Relay struct{ n *Node }

// Relay returns the node's relay object.
func (n *Node) Relay() *Relay { return &Relay{n} }

// Publish relays m on pubsubTopic ("" = autosharding by content topic). The message goes
// through the node's one validation path; a zero timestamp is set to now.
func (r *Relay) Publish(ctx context.Context, pubsubTopic string, m *pb.WakuMessage) (*message.Envelope, error) {
	rl, err := r.n.relayOrErr()
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	if m.GetTimestamp() == 0 {
		m.Timestamp = &now
	}
	env, err := r.n.Validator().Validate(pubsubTopic, m, now)
	if err != nil {
		return nil, err
	}
	if _, err := rl.PublishEnvelope(ctx, env); err != nil {
		return nil, err
	}
	return env, nil
}

// Subscribe joins the shard's mesh. Topics must be static shards of our cluster.
func (r *Relay) Subscribe(topic string) error {
	rl, err := r.n.relayOrErr()
	if err != nil {
		return err
	}
	s, err := message.ParseShard(topic)
	if err != nil {
		return err
	}
	if s.Cluster != r.n.cfg.ClusterID {
		return fmt.Errorf("%s: %w (ours is %d)", topic, ErrWrongCluster, r.n.cfg.ClusterID)
	}
	if err := rl.Subscribe(topic); err != nil {
		return err
	}
	r.n.refreshENRShards()
	return nil
}

// Unsubscribe leaves the shard's mesh.
func (r *Relay) Unsubscribe(topic string) error {
	rl, err := r.n.relayOrErr()
	if err != nil {
		return err
	}
	if err := rl.Unsubscribe(topic); err != nil {
		return err
	}
	r.n.refreshENRShards()
	return nil
}

// Topics lists the subscribed pubsub topics.
func (r *Relay) Topics() []string {
	rl, err := r.n.relayOrErr()
	if err != nil {
		return nil
	}
	return rl.Topics()
}

// IsSubscribed tells whether the node relays on topic.
func (r *Relay) IsSubscribed(topic string) bool { return slices.Contains(r.Topics(), topic) }

// TopicPeers lists the connected peers subscribed to topic ("" checks only that relay is
// mounted).
func (r *Relay) TopicPeers(topic string) ([]peer.ID, error) {
	rl, err := r.n.relayOrErr()
	if err != nil || topic == "" {
		return nil, err
	}
	return rl.TopicPeers(topic), nil
}

// MeshPeers lists our gossipsub mesh for topic ("" checks only that relay is mounted).
func (r *Relay) MeshPeers(topic string) ([]peer.ID, error) {
	rl, err := r.n.relayOrErr()
	if err != nil || topic == "" {
		return nil, err
	}
	return rl.MeshPeers(topic), nil
}
