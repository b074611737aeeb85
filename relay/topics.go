package relay

import (
	"errors"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/message"
)

// DefaultMaxUnservedTopics is how many announcements of topics we do not serve a peer may
// make before it counts as hostile: legitimate peers announce their shards (of our cluster,
// served) and a few named topics; a flood announces thousands.
const DefaultMaxUnservedTopics = 1024

// DefaultMaxSubscriptionsPerRPC caps the subscription changes one RPC may carry: a whole
// cluster's shard range (message.MaxShardIndex+1) fits; pubsub drops a larger RPC unread.
const DefaultMaxSubscriptionsPerRPC = message.MaxShardIndex + 1

// topicFilter is the gossipsub subscription filter: pubsub keeps per-topic peer state for
// every topic a peer announces, for ever (empty topic maps outlive their peers), so a peer
// announcing random topic names grows it without bound. It lets through only the topics this
// node serves or may serve: the canonical static shard topics of its clusters (REST and the Go
// API can subscribe to any of them later, and must then already know which peers are on it)
// and any topic the node has joined itself.
//
// A peer that announces more than maxUnserved topics we do not serve is flagged: its later
// subscription RPCs are dropped unread and Relay.Graylisted reports it, so the peer manager
// disconnects and bans it like a peer whose score fell below the graylist threshold.
type topicFilter struct {
	clusters    map[uint16]bool
	maxUnserved int

	mu       sync.RWMutex
	joined   map[string]int // topic → join count (a topic is joined once; Close may race a rejoin)
	unserved map[peer.ID]int
	flagged  map[peer.ID]struct{}
	onFlag   func() // called (without the lock) when a peer is flagged
}

func newTopicFilter(clusters []uint16, maxUnserved int, onFlag func()) *topicFilter {
	f := &topicFilter{clusters: map[uint16]bool{}, maxUnserved: maxUnserved, joined: map[string]int{},
		unserved: map[peer.ID]int{}, flagged: map[peer.ID]struct{}{}, onFlag: onFlag}
	for _, c := range clusters {
		f.clusters[c] = true
	}
	return f
}

// CanSubscribe allows every local join: the Go API decides what the node subscribes to.
func (f *topicFilter) CanSubscribe(string) bool { return true }

// errFlagged drops the subscription RPCs of a flagged peer.
var errFlagged = errors.New("peer announced too many topics we do not serve")

// FilterIncomingSubscriptions keeps the announcements of served topics (deduplicated) and
// counts the others against the peer.
func (f *topicFilter) FilterIncomingSubscriptions(from peer.ID, subs []*pubsubpb.RPC_SubOpts) ([]*pubsubpb.RPC_SubOpts, error) {
	f.mu.RLock()
	_, bad := f.flagged[from]
	f.mu.RUnlock()
	if bad {
		return nil, errFlagged
	}
	unserved := 0
	kept := pubsub.FilterSubscriptions(subs, func(topic string) bool {
		ok := f.serves(topic)
		if !ok {
			unserved++
		}
		return ok
	})
	if unserved > 0 {
		f.mu.Lock()
		f.unserved[from] += unserved
		flag := f.unserved[from] > f.maxUnserved
		if flag {
			f.flagged[from] = struct{}{}
		}
		f.mu.Unlock()
		if flag {
			f.onFlag()
		}
	}
	return kept, nil
}

// flaggedPeers lists the peers flagged for announcing unserved topics.
func (f *topicFilter) flaggedPeers() []peer.ID {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]peer.ID, 0, len(f.flagged))
	for p := range f.flagged {
		out = append(out, p)
	}
	return out
}

// forget drops a disconnected peer's counts (the router calls it through the tracer).
func (f *topicFilter) forget(p peer.ID) {
	f.mu.Lock()
	delete(f.unserved, p)
	delete(f.flagged, p)
	f.mu.Unlock()
}

// serves reports whether peers' announcements of topic are tracked.
// The joined topics come first: every inbound message is checked (tracer.RecvRPC) and nearly
// all are on a joined topic, which needs no parsing.
func (f *topicFilter) serves(topic string) bool {
	f.mu.RLock()
	joined := f.joined[topic] > 0
	f.mu.RUnlock()
	if joined {
		return true
	}
	// Only the canonical spelling: ParseShard accepts leading zeros, which would give one
	// shard unboundedly many names.
	s, err := message.ParseShard(topic)
	return err == nil && f.clusters[s.Cluster] && s.PubsubTopic() == topic
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
