package relay

import (
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/message"
)

// DefaultMaxSubscriptionsPerRPC caps the subscription changes one RPC may carry: a whole
// cluster's shard range (message.MaxShardIndex+1) fits; pubsub drops a larger RPC unread.
const DefaultMaxSubscriptionsPerRPC = message.MaxShardIndex + 1

// topicFilter is the gossipsub subscription filter: pubsub keeps per-topic peer state for
// every topic a peer announces, for ever (empty topic maps outlive their peers), so a peer
// announcing random topic names grows it without bound. It lets through only the topics this
// node serves or may serve: the canonical static shard topics of its clusters (REST and the Go
// API can subscribe to any of them later, and must then already know which peers are on it)
// and any topic the node has joined itself.
type topicFilter struct {
	clusters map[uint16]bool

	mu     sync.RWMutex
	joined map[string]int // topic → join count (a topic is joined once; Close may race a rejoin)
}

func newTopicFilter(clusters []uint16) *topicFilter {
	f := &topicFilter{clusters: map[uint16]bool{}, joined: map[string]int{}}
	for _, c := range clusters {
		f.clusters[c] = true
	}
	return f
}

// CanSubscribe allows every local join: the Go API decides what the node subscribes to.
func (f *topicFilter) CanSubscribe(string) bool { return true }

// FilterIncomingSubscriptions keeps the announcements of served topics (deduplicated).
func (f *topicFilter) FilterIncomingSubscriptions(_ peer.ID, subs []*pubsubpb.RPC_SubOpts) ([]*pubsubpb.RPC_SubOpts, error) {
	return pubsub.FilterSubscriptions(subs, f.serves), nil
}

// serves reports whether peers' announcements of topic are tracked.
func (f *topicFilter) serves(topic string) bool {
	// Only the canonical spelling: ParseShard accepts leading zeros, which would give one
	// shard unboundedly many names.
	if s, err := message.ParseShard(topic); err == nil && f.clusters[s.Cluster] && s.PubsubTopic() == topic {
		return true
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.joined[topic] > 0
}

// join is called before pubsub joins topic, so peers' announcements that race the join are
// kept; leave after the topic is closed.
func (f *topicFilter) join(topic string) {
	f.mu.Lock()
	f.joined[topic]++
	f.mu.Unlock()
}

func (f *topicFilter) leave(topic string) {
	f.mu.Lock()
	if f.joined[topic]--; f.joined[topic] <= 0 {
		delete(f.joined, topic)
	}
	f.mu.Unlock()
}

// pruneLoop closes topics that have no subscription and were not used for IdleTopicTTL.
func (r *Relay) pruneLoop() {
	defer r.wg.Done()
	t := time.NewTicker(max(r.cfg.IdleTopicTTL/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
			r.pruneTopics(time.Now().Add(-r.cfg.IdleTopicTTL))
		}
	}
}

func (r *Relay) pruneTopics(idleSince time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, jt := range r.topics {
		if _, subscribed := r.subs[name]; subscribed || jt.lastUsed.After(idleSince) {
			continue
		}
		if err := jt.t.Close(); err != nil {
			r.log.Debug("close idle topic", "topic", name, "err", err)
			continue
		}
		delete(r.topics, name)
		r.filter.leave(name)
	}
}

// JoinedTopics is the number of topics the relay holds open (subscribed or recently used for
// publishing).
func (r *Relay) JoinedTopics() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.topics)
}
