// Package bridge is 15/WAKU-BRIDGE: it carries Waku v1 envelopes to a Waku v2 pubsub topic and
// v2 messages on /waku/1/… content topics back to v1, once each way, without loops.
//
// The bridge talks to both networks through the small interfaces below, so it runs against a
// *wakuv1.Node and a *node.Node (or test doubles) without knowing how they are built.
package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/wakuv1"
)

// V1 is the Waku v1 side: post envelopes, hear the new ones peers send.
type V1 interface {
	Post(*wakuv1.Envelope) error
	Subscribe(capacity int) *wakuv1.Subscription
}

// V2 is the Waku v2 side: publish on a pubsub topic. Messages come in through Deliver (the
// bridge is a consumer of the node's message bus: node.AddConsumer(bridge)).
type V2 interface {
	Publish(ctx context.Context, pubsubTopic string, m *pb.WakuMessage) (*message.Envelope, error)
}

// Config configures a bridge; DefaultConfig has nwaku's historic bridge values.
type Config struct {
	// PubsubTopic is the v2 pubsub topic envelopes are published on and messages are taken from.
	PubsubTopic string
	// PoW is the target for envelopes made from v2 messages (nwaku bridge: 0.002).
	PoW float64
	// TTL of envelopes made from v2 messages, in seconds (nwaku bridge: 5).
	TTL uint32
	// SeenTTL and SeenEntries bound the duplicate and loop filter.
	SeenTTL     time.Duration
	SeenEntries int
	// QueueSize bounds the v2 → v1 work queue (PoW is done there); a full queue drops.
	QueueSize int
	// V1Hold is how long a v2 message waits before it is sealed for v1. A v1 envelope that
	// another bridge carried to v2 can reach us over v2 before the envelope itself reaches
	// our v1 node; sealing it at once would give v1 a second envelope (new expiry and nonce,
	// so a new hash) with the same data. If the envelope arrives over v1 during the hold, the
	// v2 copy is dropped as a duplicate. New v1 envelopes are sent on at once, so 1 s covers
	// a few v1 hops.
	V1Hold time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{PubsubTopic: "/waku/2/rs/0/0", PoW: 0.002, TTL: 5, SeenTTL: 10 * time.Minute,
		SeenEntries: 200_000, QueueSize: 1024, V1Hold: time.Second}
}

// Bridge runs both directions. Deliver is its v2 input; Start and Stop its lifecycle.
type Bridge struct {
	cfg     Config
	v1      V1
	v2      V2
	log     *slog.Logger
	seen    *seenSet
	metrics *Metrics
	queue   chan toV1

	mu      sync.Mutex
	running bool
	sub     *wakuv1.Subscription
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New builds a bridge between v1 and v2.
func New(cfg Config, v1 V1, v2 V2) (*Bridge, error) {
	def := DefaultConfig()
	if cfg.PubsubTopic == "" {
		return nil, errors.New("bridge: a v2 pubsub topic is required")
	}
	if cfg.TTL == 0 {
		cfg.TTL = def.TTL
	}
	if cfg.SeenTTL <= 0 {
		cfg.SeenTTL = def.SeenTTL
	}
	if cfg.SeenEntries <= 0 {
		cfg.SeenEntries = def.SeenEntries
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = def.QueueSize
	}
	if cfg.V1Hold < 0 {
		cfg.V1Hold = 0
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bridge{cfg: cfg, v1: v1, v2: v2, log: cfg.Logger, seen: newSeenSet(cfg.SeenTTL, cfg.SeenEntries),
		queue: make(chan toV1, cfg.QueueSize)}
	b.metrics = newMetrics(cfg.Logger)
	return b, nil
}

// Metrics returns the bridge's collectors.
func (b *Bridge) Metrics() *Metrics { return b.metrics }

// Start subscribes to the v1 node and starts both directions.
func (b *Bridge) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running {
		return errors.New("bridge already started")
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.sub = b.v1.Subscribe(4096)
	b.running = true
	b.wg.Add(2)
	go b.v1ToV2(ctx, b.sub)
	go b.v2ToV1(ctx)
	b.log.Info("bridging Waku v1 and v2", "pubsubTopic", b.cfg.PubsubTopic, "pow", b.cfg.PoW, "ttl", b.cfg.TTL)
	return nil
}

// Stop ends both directions and waits for them. Deliver calls after Stop are dropped.
func (b *Bridge) Stop() {
	b.mu.Lock()
	if !b.running {
		b.mu.Unlock()
		return
	}
	b.running = false
	b.cancel()
	b.sub.Close()
	b.mu.Unlock()
	b.wg.Wait()
}

// contentKey identifies what a message carries in both networks: topic and data. A message
// that went v1 → v2 has the same key when it comes back v2 → v1, and vice versa.
func contentKey(t wakuv1.Topic, data []byte) key {
	return key(crypto.Keccak256Hash(t[:], data))
}

func (b *Bridge) v1ToV2(ctx context.Context, sub *wakuv1.Subscription) {
	defer b.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			b.forwardToV2(ctx, e)
		}
	}
}

func (b *Bridge) forwardToV2(ctx context.Context, e *wakuv1.Envelope) {
	now := b.cfg.Now()
	if int64(e.Expiry) < now.Unix() { // expired while queued
		b.metrics.drop(DropExpired, "topic", e.Topic.String())
		return
	}
	if ck := contentKey(e.Topic, e.Data); b.seen.add(ck, markSeen, now) != 0 {
		// Already on v2; if a copy from v2 is still held for v1, this cancels it.
		b.seen.replace(ck, markHeldForV1, markArrivedOverV1)
		b.metrics.drop(DropDuplicate, "topic", e.Topic.String(), "direction", "v1_to_v2")
		return
	}
	m := ToV2(e)
	// Mark the v2 hash before publishing: the node hands our own publish back to Deliver.
	h := message.ComputeHash(b.cfg.PubsubTopic, m)
	b.seen.add(key(h), markOwn, now)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := b.v2.Publish(pctx, b.cfg.PubsubTopic, m); errors.Is(err, message.ErrDuplicate) {
		b.metrics.drop(DropDuplicate, "direction", "v1_to_v2") // another bridge relayed it first
		return
	} else if err != nil {
		b.metrics.drop(DropPublish, "err", err, "direction", "v1_to_v2")
		return
	}
	b.metrics.transfers.WithLabelValues(TransferV1ToV2).Inc()
}

// Deliver takes a message from the v2 node's bus. It never blocks: the duplicate and loop
// checks run here, at once, so that a copy of the message coming back over v1 (through another
// bridge) already finds its key; sealing waits in a bounded queue, and a full queue drops.
func (b *Bridge) Deliver(e *message.Envelope) {
	if e.PubsubTopic != b.cfg.PubsubTopic {
		return
	}
	m := e.Message
	topic, bridgeable, err := V1Topic(m.GetContentTopic())
	if !bridgeable {
		return // another application's topic: not ours to bridge
	}
	if err != nil {
		b.metrics.drop(DropValueError, "err", err)
		return
	}
	now := b.cfg.Now()
	switch b.seen.add(key(e.Hash), markSeen, now) {
	case markOwn:
		return // the echo of our own v1 → v2 publish
	case markSeen:
		b.metrics.drop(DropDuplicate, "contentTopic", m.GetContentTopic(), "direction", "v2_to_v1")
		return
	}
	data, err := v1Data(m)
	if err != nil {
		b.metrics.drop(DropValueError, "err", err)
		return
	}
	ck := contentKey(topic, data)
	if b.seen.add(ck, markHeldForV1, now) != 0 {
		// The same data already crossed (or came from) v1: sending it again would loop.
		b.metrics.drop(DropDuplicate, "contentTopic", m.GetContentTopic(), "direction", "v2_to_v1")
		return
	}
	select {
	case b.queue <- toV1{topic: topic, data: data, msg: m, key: ck, due: time.Now().Add(b.cfg.V1Hold)}:
	default:
		b.metrics.drop(DropQueueFull, "direction", "v2_to_v1")
	}
}

// toV1 is a v2 message accepted for v1, waiting to be sealed.
type toV1 struct {
	topic wakuv1.Topic
	data  []byte
	msg   *pb.WakuMessage
	key   key
	due   time.Time // end of the V1Hold (wall clock); the queue is in due order
}

func (b *Bridge) v2ToV1(ctx context.Context) {
	defer b.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-b.queue:
			if !sleepUntil(ctx, j.due) {
				return
			}
			b.forwardToV1(ctx, j)
		}
	}
}

// sleepUntil waits for t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func (b *Bridge) forwardToV1(ctx context.Context, j toV1) {
	if !b.seen.replace(j.key, markHeldForV1, markSeen) {
		// The original envelope reached our v1 node during the hold (or the key expired).
		b.metrics.drop(DropDuplicate, "contentTopic", j.msg.GetContentTopic(), "direction", "v2_to_v1")
		return
	}
	sent := sentTime(j.msg, b.cfg.TTL, b.cfg.Now().Unix())
	env := &wakuv1.Envelope{Expiry: uint32(sent) + b.cfg.TTL, TTL: b.cfg.TTL, Topic: j.topic, Data: j.data}
	if err := env.Seal(ctx, b.cfg.PoW); err != nil {
		b.metrics.drop(DropPoW, "err", err)
		return
	}
	switch err := b.v1.Post(env); {
	case errors.Is(err, wakuv1.ErrDuplicate):
		// Another bridge sealed the identical envelope and it reached us over v1 first.
		b.metrics.drop(DropDuplicate, "contentTopic", j.msg.GetContentTopic(), "direction", "v2_to_v1")
	case err != nil:
		b.metrics.drop(DropInvalid, "err", fmt.Errorf("post: %w", err))
	default:
		b.metrics.transfers.WithLabelValues(TransferV2ToV1).Inc()
	}
}
