package rest

import (
	"sync"
	"time"

	"github.com/wakunode/wakunode/message"
)

// DefaultCacheCapacity is nwaku's --rest-relay-cache-capacity: messages kept per topic.
const DefaultCacheCapacity = 50

// DefaultCacheMaxBytes bounds the messages one REST cache holds in total, whatever the
// capacity and the number of topics: 16 MiB, about a hundred messages of the largest size.
const DefaultCacheMaxBytes = 16 << 20

// maxCachedTopics bounds how many topics one cache (or topic set) tracks, whatever arrives
// on the bus; maxTopicBytes bounds the bytes of their names (content topics are the
// client's strings, of any length).
const (
	maxCachedTopics = 1024
	maxTopicBytes   = 1 << 20
)

// entryOverhead is what an envelope costs beyond its encoded bytes (decoded fields, pointers);
// the payload aliases the encoded bytes (message.Decode).
const entryOverhead = 256

func entrySize(e *message.Envelope) int64 { return int64(len(e.Raw)) + entryOverhead }

type cacheEntry struct {
	e   *message.Envelope
	seq uint64 // arrival order across the whole cache, for the byte bound's eviction
}

// msgCache holds, per topic, the messages received since they were last read: at most
// capacity per topic, maxCachedTopics topics and maxBytes in total (the oldest message of the
// whole cache goes first). A read consumes what it returns. It is fed from the node's bus or
// a filter subscription, so add never blocks beyond a short mutex hold.
type msgCache struct {
	mu       sync.Mutex
	capacity int
	maxBytes int64
	// autoTrack starts a queue for any topic seen (pubsub topics: the node delivers only
	// topics it relays); otherwise only topics added by track are kept (content topics,
	// which any peer can invent).
	autoTrack bool
	// dedupe drops a message whose hash is already queued under its topic or was seen
	// recently (filter: overlapping subscriptions each receive the same push).
	dedupe *message.RecentHashes
	topics map[string][]cacheEntry // oldest first
	bytes  int64
	// keyBytes is the length of the topic names tracked (at most maxTopicBytes).
	keyBytes int
	seq      uint64
	// duplicates counts the messages dedupe dropped.
	duplicates uint64
}

func newMsgCache(capacity int, maxBytes int64, autoTrack, dedupe bool) *msgCache {
	c := &msgCache{capacity: capacity, maxBytes: maxBytes, autoTrack: autoTrack, topics: map[string][]cacheEntry{}}
	if dedupe {
		c.dedupe = message.NewRecentHashes(max(4*capacity, 1024), 0)
	}
	return c
}

// track starts keeping messages for topic; it reports false when the cache is full.
func (c *msgCache) track(topic string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trackLocked(topic)
}

func (c *msgCache) trackLocked(topic string) bool {
	if _, ok := c.topics[topic]; ok {
		return true
	}
	if len(c.topics) >= maxCachedTopics || c.keyBytes+len(topic) > maxTopicBytes {
		return false
	}
	c.topics[topic] = nil
	c.keyBytes += len(topic)
	return true
}

// untrack forgets topic and its unread messages.
func (c *msgCache) untrack(topic string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.topics[topic]
	if !ok {
		return
	}
	for _, en := range q {
		c.bytes -= entrySize(en.e)
	}
	delete(c.topics, topic)
	c.keyBytes -= len(topic)
}

// trackedTopics lists the tracked topics (for unsubscribe bookkeeping).
func (c *msgCache) trackedTopics() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.topics))
	for t := range c.topics {
		out = append(out, t)
	}
	return out
}

func (c *msgCache) add(topic string, e *message.Envelope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.topics[topic]
	if !ok {
		if !c.autoTrack || !c.trackLocked(topic) {
			return
		}
	}
	if c.dedupe != nil && !c.dedupe.Add(e.Hash, time.Now()) {
		c.duplicates++
		return
	}
	size := entrySize(e)
	if size > c.maxBytes {
		return
	}
	if len(q) >= c.capacity {
		c.bytes -= entrySize(q[0].e)
		q[0] = cacheEntry{}
		q = q[1:]
	}
	c.seq++
	c.topics[topic] = append(q, cacheEntry{e: e, seq: c.seq})
	c.bytes += size
	for c.bytes > c.maxBytes {
		c.evictOldestLocked()
	}
}

// evictOldestLocked drops the oldest message of the whole cache (rare: only over maxBytes).
func (c *msgCache) evictOldestLocked() {
	var oldest string
	var seq uint64
	found := false
	for t, q := range c.topics {
		if len(q) > 0 && (!found || q[0].seq < seq) {
			oldest, seq, found = t, q[0].seq, true
		}
	}
	if !found {
		c.bytes = 0
		return
	}
	q := c.topics[oldest]
	c.bytes -= entrySize(q[0].e)
	q[0] = cacheEntry{}
	c.topics[oldest] = q[1:]
}

// take returns and forgets the messages cached for topic, oldest first; ok is false if the
// topic is not tracked.
func (c *msgCache) take(topic string) (msgs []*message.Envelope, ok bool) {
	return c.takeMatching(topic, nil)
}

// takeMatching returns and forgets the messages of topic for which match is true (nil: all);
// the others stay for a later read.
func (c *msgCache) takeMatching(topic string, match func(*message.Envelope) bool) ([]*message.Envelope, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.topics[topic]
	if !ok {
		return nil, false
	}
	var out []*message.Envelope
	var keep []cacheEntry
	for _, en := range q {
		if match == nil || match(en.e) {
			out = append(out, en.e)
			c.bytes -= entrySize(en.e)
		} else {
			keep = append(keep, en)
		}
	}
	c.topics[topic] = keep
	return out, true
}

// relayCache is the REST server's consumer on the node's bus: one cache by pubsub topic,
// read whole by /relay/v1/messages/{pubsubTopic} or per content topic by
// /relay/v1/auto/messages/{contentTopic}; either read consumes (one cache, as nwaku's).
type relayCache struct {
	byPubsub *msgCache
}

func newRelayCache(capacity int, maxBytes int64) *relayCache {
	return &relayCache{byPubsub: newMsgCache(capacity, maxBytes, true, false)}
}

// Deliver implements node.Consumer.
func (c *relayCache) Deliver(e *message.Envelope) {
	if e == nil || e.Message == nil {
		return
	}
	c.byPubsub.add(e.PubsubTopic, e)
}
