// Package relay implements 11/WAKU2-RELAY: gossipsub (go-libp2p-pubsub) under
// /vac/waku/relay/2.0.0 with Waku's signature policy, message id, mesh and scoring parameters,
// and the node's one validation path for messages that arrive or leave over gossip.
package relay

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/wakunode/wakunode/internal/lograte"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// Defaults for the Config queue sizes. go-waku keeps pubsub's validation queue of 32, which
// drops messages above ~1,500 msg/s. Each slot holds one message (or one RPC), so memory is
// bounded by slots x message size: typically a few MB, at worst (every message at the 150 KiB
// limit) ~600 MB per queue. BenchmarkForward: with go-waku's outbound queue of 1024, 10 KB
// messages at 7,500 msg/s already overflow it on loopback; 4096 forwards them without loss.
const (
	DefaultValidateQueueSize     = 4096
	DefaultPeerOutboundQueueSize = 4096
	DefaultSubscriptionBuffer    = 4096
	DefaultPeerStatsInterval     = 5 * time.Second
	// DefaultScoreInterval: a 1 s snapshot was a quarter of an idle node's wake-ups; gossipsub
	// already ignores a graylisted peer's RPCs, the snapshot only lets the peer manager
	// disconnect it, which a few seconds later does as well.
	DefaultScoreInterval = 5 * time.Second
	// DefaultIdleTopicTTL matches gossipsub's fanout TTL: publishing state for a topic we are
	// not subscribed to lives that long anyway.
	DefaultIdleTopicTTL = time.Minute
	// pubsubLogInterval: each pubsub log cause is written at most once per interval.
	pubsubLogInterval = time.Minute
	// rpcOverhead is added to the max WakuMessage size for the RPC frame limit (relay.md).
	rpcOverhead = 64 * 1024
)

// ErrClosed is returned by calls on a closed Relay.
var ErrClosed = errors.New("relay closed")

// maxSeen bounds the hashes kept for duplicates; an older duplicate is published and dropped
// by gossipsub unanswered (or, past gossipsub's seen TTL, relayed again).
const maxSeen = 1 << 16

// Sink receives every accepted message on a subscribed topic, once, whether it was published
// locally or arrived from a peer. Deliver is called from the topic's delivery goroutine; a slow
// Sink fills the subscription buffer and further messages are dropped (and counted).
type Sink interface {
	Deliver(*message.Envelope)
}

// Relay is a Waku relay node: one gossipsub instance, any number of pubsub topics.
type Relay struct {
	h      host.Host
	cfg    Config
	sink   Sink
	log    *slog.Logger
	tr     *tracer
	filter *topicFilter
	// seen holds what relay delivered or published within Params.SeenMessagesTTL: gossipsub
	// drops such a message unsent but reports success, so PublishEnvelope answers
	// message.ErrDuplicate itself (nwaku: not_published_to_any_peer), and the validator
	// ignores a remote duplicate that gossipsub's shorter seen cache has forgotten.
	seen *message.RecentHashes
	// graylistCh carries GraylistChanged's signal (one pending at most).
	graylistCh chan struct{}
	// pubsubLog rate-limits the library's log lines per cause.
	pubsubLog *lograte.Handler
	ps        *pubsub.PubSub
	maxSize   int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	topics map[string]*joinedTopic // joined (for publishing or subscribing)
	subs   map[string]*subscription

	scores atomic.Pointer[map[peer.ID]float64]
}

type joinedTopic struct {
	t        *pubsub.Topic
	lastUsed time.Time
}

type subscription struct {
	sub  *pubsub.Subscription
	done chan struct{}
}

// MsgID is the gossipsub message id of 11/WAKU2-RELAY: SHA-256 of the serialized WakuMessage.
// It is not the deterministic message hash.
func MsgID(m *pubsubpb.Message) string {
	sum := sha256.Sum256(m.Data)
	return string(sum[:])
}

// New starts gossipsub on h. sink may be nil (messages are then only relayed).
func New(h host.Host, cfg Config, sink Sink) (*Relay, error) {
	if h == nil {
		return nil, errors.New("relay: nil host")
	}
	cfg.setDefaults()
	if sink == nil {
		sink = discard{}
	}
	maxSize := cfg.Rules.MaxSize
	if maxSize <= 0 {
		maxSize = message.DefaultMaxMessageSize
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Relay{
		h: h, cfg: cfg, sink: sink, log: cfg.Logger.With("component", "relay"),
		tr: newTracer(cfg.Metrics), maxSize: maxSize, ctx: ctx, cancel: cancel,
		topics: make(map[string]*joinedTopic), subs: make(map[string]*subscription),
		graylistCh: make(chan struct{}, 1),
		seen:       message.NewRecentHashes(maxSeen, cfg.Params.SeenMessagesTTL),
	}
	r.filter = newTopicFilter(cfg.Clusters, cfg.MaxUnservedTopics, r.notifyGraylist)
	r.tr.onRemove = r.filter.forget
	r.tr.serves = r.filter.serves
	r.pubsubLog = lograte.New(cfg.Logger.Handler(), pubsubLogInterval, nil)
	p := cfg.Params
	// Router-independent options first; the gossipsub-only ones are in gossipOpts.
	opts := []pubsub.Option{
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(MsgID),
		pubsub.WithSeenMessagesTTL(p.gossipSeenTTL()),
		// Never below pubsub's 1 MiB default: other implementations may batch several
		// messages into one RPC frame.
		pubsub.WithMaxMessageSize(max(maxSize+rpcOverhead, pubsub.DefaultMaxMessageSize)),
		pubsub.WithValidateQueueSize(cfg.ValidateQueueSize),
		pubsub.WithValidateWorkers(cfg.ValidateWorkers),
		pubsub.WithPeerOutboundQueueSize(cfg.PeerOutboundQueueSize),
		pubsub.WithDefaultValidator(pubsub.ValidatorEx(r.validate), pubsub.WithValidatorInline(true)),
		pubsub.WithRawTracer(r.tr),
		// pubsub warns once per event ("error bumping delivery tag: queue full" came 52,945
		// times in one load test): one line per cause a minute, the rest counted.
		pubsub.WithLogger(slog.New(r.pubsubLog).With("component", "pubsub")),
		pubsub.WithSubscriptionFilter(pubsub.WrapLimitSubscriptionFilter(r.filter, cfg.MaxSubscriptionsPerRPC)),
	}
	opts = append(opts, byteTracerOptions(h.ID(), cfg.ByteAccounting)...)
	var ps *pubsub.PubSub
	var err error
	if cfg.Flood {
		ps, err = newFloodSub(ctx, h, opts)
	} else {
		gossipOpts := []pubsub.Option{
			pubsub.WithGossipSubProtocols(Protocols, p.features),
			pubsub.WithGossipSubParams(p.gossipSub()),
			pubsub.WithFloodPublish(p.FloodPublish),
			pubsub.WithPeerExchange(p.PeerExchange),
			pubsub.WithPeerScore(scoreParams(), scoreThresholds()),
			pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(r.setScores), cfg.ScoreInterval),
		}
		ps, err = pubsub.NewGossipSub(ctx, h, append(opts, gossipOpts...)...)
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("relay: start router: %w", err)
	}
	r.ps = ps
	r.wg.Add(1)
	go r.pruneLoop()
	if _, ok := cfg.Metrics.(nopMetrics); !ok {
		r.wg.Add(1)
		go r.peerStatsLoop()
	}
	return r, nil
}

type discard struct{}

func (discard) Deliver(*message.Envelope) {}

// topic returns the joined topic handle, joining it (with the Waku topic score params) on first use.
func (r *Relay) topic(name string) (*pubsub.Topic, error) {
	if name == "" {
		return nil, errors.New("empty pubsub topic")
	}
	if jt, ok := r.topics[name]; ok {
		jt.lastUsed = time.Now()
		return jt.t, nil
	}
	r.filter.join(name)
	t, err := r.ps.Join(name)
	if err != nil {
		r.filter.leave(name)
		return nil, fmt.Errorf("join %s: %w", name, err)
	}
	if !r.cfg.Flood { // floodsub has no peer scoring
		if err := t.SetScoreParams(topicScoreParams()); err != nil {
			_ = t.Close()
			r.filter.leave(name)
			return nil, fmt.Errorf("score params for %s: %w", name, err)
		}
	}
	r.topics[name] = &joinedTopic{t: t, lastUsed: time.Now()}
	return t, nil
}

// Subscribe joins the pubsub topic's mesh and delivers its messages to the Sink. Subscribing
// twice is a no-op.
func (r *Relay) Subscribe(topic string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if _, ok := r.subs[topic]; ok {
		return nil
	}
	t, err := r.topic(topic)
	if err != nil {
		return fmt.Errorf("relay subscribe: %w", err)
	}
	sub, err := t.Subscribe(pubsub.WithBufferSize(r.cfg.SubscriptionBuffer))
	if err != nil {
		return fmt.Errorf("relay subscribe %s: %w", topic, err)
	}
	s := &subscription{sub: sub, done: make(chan struct{})}
	r.subs[topic] = s
	r.wg.Add(1)
	go r.deliver(s)
	return nil
}

// deliver hands each accepted message to the Sink. The validator already decoded, checked and
// hashed it; the Envelope rides along as ValidatorData.
func (r *Relay) deliver(s *subscription) {
	defer r.wg.Done()
	defer close(s.done)
	for {
		m, err := s.sub.Next(r.ctx)
		if err != nil {
			return // cancelled or closed
		}
		env, ok := m.ValidatorData.(*message.Envelope)
		if !ok {
			r.log.Error("accepted message without envelope", "topic", s.sub.Topic())
			continue
		}
		// gossipsub keeps m in its history window for IWANT answers; it needs only m.Data, so
		// let the decoded envelope go once the consumers are done with it.
		m.ValidatorData = nil
		r.seen.Add(env.Hash, time.Now())
		r.sink.Deliver(env)
	}
}

// Unsubscribe leaves the topic's mesh. When it returns, the Sink gets nothing more from it.
func (r *Relay) Unsubscribe(topic string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	s, ok := r.subs[topic]
	if !ok {
		return nil
	}
	delete(r.subs, topic)
	s.sub.Cancel()
	<-s.done
	if jt := r.topics[topic]; jt != nil {
		jt.lastUsed = time.Now() // the pruner closes it once idle
	}
	return nil
}

// Topics lists the subscribed pubsub topics, sorted.
func (r *Relay) Topics() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.subs))
	for t := range r.subs {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// TopicPeers lists connected peers that announced the topic.
func (r *Relay) TopicPeers(topic string) []peer.ID {
	ps := r.ps.ListPeers(topic)
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

// MeshPeers lists our current mesh for the topic, as the router reported it through the tracer.
func (r *Relay) MeshPeers(topic string) []peer.ID { return r.tr.meshPeers(topic) }

// Publish encodes m, validates it with Config.Rules and publishes it on topic: the door for a
// program that uses relay without a node (the node's doors go through message.Validator and
// PublishEnvelope). The error wraps the precise rule failure (e.g. message.ErrTooLarge). It
// works without peers: local subscribers still get the message.
func (r *Relay) Publish(ctx context.Context, topic string, m *pb.WakuMessage) (*message.Envelope, error) {
	env, err := message.NewEnvelope(topic, m, r.now().UnixNano())
	if err != nil {
		return nil, fmt.Errorf("relay publish: %w", err)
	}
	if err := r.cfg.Rules.Check(env); err != nil {
		r.cfg.Metrics.MessageRejected(env.PubsubTopic, reason(err))
		return nil, fmt.Errorf("relay publish: %w", err)
	}
	if _, err := r.PublishEnvelope(ctx, env); err != nil {
		return nil, err
	}
	return env, nil
}

// PublishEnvelope publishes env.Raw unchanged. env must have passed the validation path
// (message.Validator, or Publish's Rules check): a message is validated once, so this does
// not check it again, and gossip's validator accepts our own envelope as it is. relayPeers
// is the number of topic peers at publish time, the peers flood publishing sends to (0 for a
// lone node, which is not an error).
func (r *Relay) PublishEnvelope(ctx context.Context, env *message.Envelope) (relayPeers int, err error) {
	if env == nil || env.Message == nil || len(env.Raw) == 0 {
		return 0, errors.New("relay publish: empty envelope")
	}
	if !r.seen.Add(env.Hash, time.Now()) {
		return 0, fmt.Errorf("relay publish on %s: %w", env.PubsubTopic, message.ErrDuplicate)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return 0, ErrClosed
	}
	t, err := r.topic(env.PubsubTopic)
	r.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("relay publish: %w", err)
	}
	n := len(t.ListPeers())
	// The validator recognises our own message by its ValidatorData and does not decode it again.
	if err := t.Publish(ctx, env.Raw, pubsub.WithValidatorData(env)); err != nil {
		return 0, fmt.Errorf("relay publish on %s: %w", env.PubsubTopic, err)
	}
	return n, nil
}

func (r *Relay) now() time.Time {
	if r.cfg.Rules.Now != nil {
		return r.cfg.Rules.Now()
	}
	return time.Now()
}

func (r *Relay) peerStatsLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.PeerStatsInterval)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
			for _, topic := range r.Topics() {
				r.cfg.Metrics.TopicPeers(topic, len(r.ps.ListPeers(topic)), r.tr.meshSize(topic))
			}
		}
	}
}

// Close stops gossipsub and every goroutine the relay started, and resets the relay streams
// (pubsub itself leaves inbound readers blocked until the remote closes). The host stays up.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	subs := r.subs
	r.subs = map[string]*subscription{}
	r.mu.Unlock()

	for _, s := range subs {
		s.sub.Cancel()
	}
	r.cancel()
	r.wg.Wait()

	for _, p := range Protocols {
		r.h.RemoveStreamHandler(p)
	}
	for _, c := range r.h.Network().Conns() {
		for _, s := range c.GetStreams() {
			if isRelayProtocol(s.Protocol()) {
				_ = s.Reset()
			}
		}
	}
	return nil
}

func isRelayProtocol(p protocol.ID) bool {
	for _, q := range Protocols {
		if p == q {
			return true
		}
	}
	return false
}

var _ io.Closer = (*Relay)(nil)
