package relay

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/wakunode/wakunode/internal/defaults"
	"github.com/wakunode/wakunode/message"
)

// Config configures a Relay. Zero values take the documented defaults.
type Config struct {
	// Rules are applied to every message, published or received: the one validation path.
	Rules message.Rules
	// Params are the gossipsub parameters; the zero value means DefaultParams().
	Params Params
	// ValidateQueueSize is pubsub's validation queue (default DefaultValidateQueueSize).
	ValidateQueueSize int
	// ValidateWorkers run the (inline) validator; default max(4, NumCPU).
	ValidateWorkers int
	// PeerOutboundQueueSize bounds the RPCs queued per peer (default DefaultPeerOutboundQueueSize).
	PeerOutboundQueueSize int
	// SubscriptionBuffer is each topic's delivery buffer (default DefaultSubscriptionBuffer).
	SubscriptionBuffer int
	// PeerStatsInterval is how often Metrics.TopicPeers is reported (default 5 s).
	PeerStatsInterval time.Duration
	// ScoreInterval is how often PeerScore's snapshot is refreshed (default 5 s).
	ScoreInterval time.Duration
	// Metrics receives counters; nil means none.
	Metrics Metrics
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Clusters are the clusters whose static shard topics (/waku/2/rs/<cluster>/<shard>) peers'
	// subscriptions are tracked for, whether or not the node is subscribed yet; announcements of
	// any other topic the node has not joined are ignored (topicFilter). Empty: only joined topics.
	Clusters []uint16
	// MaxSubscriptionsPerRPC drops an RPC announcing more subscription changes (default
	// DefaultMaxSubscriptionsPerRPC).
	MaxSubscriptionsPerRPC int
	// MaxUnservedTopics is how many announcements of topics the node does not serve a peer may
	// make before Graylisted reports it (default DefaultMaxUnservedTopics).
	MaxUnservedTopics int
	// IdleTopicTTL is how long a topic joined only to publish stays joined after its last use
	// (default DefaultIdleTopicTTL); then it is closed, so publishing to many topics through
	// the Go API or REST leaves no state behind.
	IdleTopicTTL time.Duration
	// Flood runs floodsub (the Waku v1 flooding model) instead of gossipsub on
	// /vac/waku/relay/2.0.0; Params then only contribute SeenMessagesTTL. For the simulator
	// (cmd/wakusim): a flooding node does not interoperate with gossipsub peers' meshes.
	Flood bool
	// ByteAccounting books message bytes sent to and received from each peer (accounting.go);
	// nil installs no tracer.
	ByteAccounting ByteAccounting
}

func (c *Config) setDefaults() {
	if c.Params == (Params{}) {
		c.Params = DefaultParams()
	}
	defaults.Positive(&c.ValidateQueueSize, DefaultValidateQueueSize)
	defaults.Positive(&c.ValidateWorkers, max(4, runtime.NumCPU()))
	defaults.Positive(&c.PeerOutboundQueueSize, DefaultPeerOutboundQueueSize)
	defaults.Positive(&c.SubscriptionBuffer, DefaultSubscriptionBuffer)
	defaults.Positive(&c.PeerStatsInterval, DefaultPeerStatsInterval)
	defaults.Positive(&c.ScoreInterval, DefaultScoreInterval)
	defaults.Positive(&c.MaxSubscriptionsPerRPC, DefaultMaxSubscriptionsPerRPC)
	defaults.Positive(&c.MaxUnservedTopics, DefaultMaxUnservedTopics)
	defaults.Positive(&c.IdleTopicTTL, DefaultIdleTopicTTL)
	if c.Metrics == nil {
		c.Metrics = nopMetrics{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}
