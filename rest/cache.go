package rest

import (
	"sync"

	"github.com/wakunode/wakunode/message"
)

// DefaultCacheCapacity is nwaku's --rest-relay-cache-capacity: messages kept per topic.
const DefaultCacheCapacity = 50

// maxCachedTopics bounds how many topics one cache tracks, whatever arrives on the bus.
const maxCachedTopics = 1024

// ring keeps the newest cap envelopes; older ones are overwritten.
type ring struct {
	buf   []*message.Envelope
	start int // index of the oldest
	n     int
}

func (r *ring) push(e *message.Envelope) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = e
		r.n++
		return
	}
	r.buf[r.start] = e
	r.start = (r.start + 1) % len(r.buf)
}

// drain returns the envelopes oldest first and empties the ring.
func (r *ring) drain() []*message.Envelope {
	out := make([]*message.Envelope, r.n)
	for i := range r.n {
		j := (r.start + i) % len(r.buf)
		out[i] = r.buf[j]
		r.buf[j] = nil
	}
	r.start, r.n = 0, 0
	return out
}

// topicCache holds, per topic, the messages received since the last read. It is fed from the
// node's message bus, so add never blocks beyond a short mutex hold.
type topicCache struct {
	mu       sync.Mutex
	capacity int
	// autoTrack starts a ring for any topic seen (pubsub topics: the node delivers only
	// topics it relays); otherwise only topics added by track are kept (content topics,
	// which any peer can invent).
	autoTrack bool
	topics    map[string]*ring
}

func newTopicCache(capacity int, autoTrack bool) *topicCache {
	return &topicCache{capacity: capacity, autoTrack: autoTrack, topics: map[string]*ring{}}
}

// track starts keeping messages for topic; it reports false when the cache is full.
func (c *topicCache) track(topic string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trackLocked(topic)
}

func (c *topicCache) trackLocked(topic string) bool {
	if _, ok := c.topics[topic]; ok {
		return true
	}
	if len(c.topics) >= maxCachedTopics {
		return false
	}
	c.topics[topic] = &ring{buf: make([]*message.Envelope, c.capacity)}
	return true
}

func (c *topicCache) untrack(topic string) {
	c.mu.Lock()
	delete(c.topics, topic)
	c.mu.Unlock()
}

func (c *topicCache) tracked(topic string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.topics[topic]
	return ok
}

// trackedTopics lists the tracked topics (for unsubscribe bookkeeping).
func (c *topicCache) trackedTopics() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.topics))
	for t := range c.topics {
		out = append(out, t)
	}
	return out
}

func (c *topicCache) add(topic string, e *message.Envelope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.topics[topic]
	if !ok {
		if !c.autoTrack || !c.trackLocked(topic) {
			return
		}
		r = c.topics[topic]
	}
	r.push(e)
}

// take returns and clears the messages cached for topic; ok is false if it is not tracked.
func (c *topicCache) take(topic string) (msgs []*message.Envelope, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.topics[topic]
	if !ok {
		return nil, false
	}
	return r.drain(), true
}

// relayCache is the REST server's consumer on the node's bus: one cache by pubsub topic,
// one by content topic (for the autosharding endpoints).
type relayCache struct {
	byPubsub  *topicCache
	byContent *topicCache
}

func newRelayCache(capacity int) *relayCache {
	return &relayCache{byPubsub: newTopicCache(capacity, true), byContent: newTopicCache(capacity, false)}
}

// Deliver implements node.Consumer.
func (c *relayCache) Deliver(e *message.Envelope) {
	if e == nil || e.Message == nil {
		return
	}
	c.byPubsub.add(e.PubsubTopic, e)
	c.byContent.add(e.Message.GetContentTopic(), e)
}
