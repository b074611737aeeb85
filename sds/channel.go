package sds

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wakunode/wakunode/sds/pb"
)

// js-waku defaults and our bounds (js keeps history and buffers unbounded).
const (
	DefaultCausalHistorySize     = 200
	DefaultPossibleAcksThreshold = 2
	DefaultMaxIncoming           = 10_000
	DefaultMaxHistory            = 100_000
	DefaultMaxOutgoing           = 10_000
	SweepInterval                = 5 * time.Second  // incoming-buffer sweep (ReliableChannel)
	RetrieveInterval             = 10 * time.Second // store retrieval of missing messages
)

// Retrieved is one message a store query returned: its WakuMessage payload and hash.
type Retrieved struct {
	Payload []byte
	Hash    []byte
}

// Config configures a Channel.
type Config struct {
	ChannelID string
	SenderID  string
	// Publish sends payload as the payload of a WakuMessage on the application's content
	// topic (relay or lightpush through our node) and returns that message's deterministic
	// hash, the retrieval hint others will use to fetch it from a store.
	Publish func(ctx context.Context, payload []byte) (hash []byte, err error)
	// Query fetches messages by Waku message hash from store nodes.
	Query func(ctx context.Context, hashes [][]byte) ([]Retrieved, error)
	// OnEvent receives every event, outside the channel's lock.
	OnEvent func(Event)

	CausalHistorySize     int
	PossibleAcksThreshold int
	MaxIncoming           int
	MaxHistory            int
	MaxOutgoing           int
	Now                   func() time.Time
}

// EventKind names an event, after js's sds:* events.
type EventKind int

// Events.
const (
	Delivered            EventKind = iota // a content (or ephemeral) message is delivered in causal order
	Missing                               // dependencies are missing (Entries)
	Acknowledged                          // one of our messages is acknowledged
	PossiblyAcknowledged                  // a bloom filter holds one of ours (Count times)
	Sent                                  // one of our messages was published
	Dropped                               // a bound was hit; MessageID says what was dropped
)

// Event is one thing the channel reports.
type Event struct {
	Kind      EventKind
	MessageID string
	SenderID  string
	Content   []byte
	Entries   []*pb.HistoryEntry
	Count     int
}

type histEntry struct {
	lamport uint64
	id      string
	hint    []byte
	sender  string
}

type buffered struct {
	m    *pb.SdsMessage
	hint []byte
}

type outgoing struct {
	id  string
	raw []byte
}

// Channel is one participant of one SDS channel. Safe for concurrent use.
type Channel struct {
	cfg Config

	mu           sync.Mutex
	lamport      uint64
	bloom        Bloom
	history      []histEntry // ascending (lamport, id)
	inHistory    map[string]bool
	incoming     map[string]*buffered
	inOrder      []string // incoming ids, oldest first
	outgoing     []*outgoing
	possibleAcks map[string]int
}

// NewChannel returns a participant whose Lamport clock starts at the current time in ms.
func NewChannel(cfg Config) *Channel {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&cfg.CausalHistorySize, DefaultCausalHistorySize)
	set(&cfg.PossibleAcksThreshold, DefaultPossibleAcksThreshold)
	set(&cfg.MaxIncoming, DefaultMaxIncoming)
	set(&cfg.MaxHistory, DefaultMaxHistory)
	set(&cfg.MaxOutgoing, DefaultMaxOutgoing)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Channel{cfg: cfg, lamport: uint64(cfg.Now().UnixMilli()), inHistory: map[string]bool{},
		incoming: map[string]*buffered{}, possibleAcks: map[string]int{}}
}

func (c *Channel) emit(evs []Event) {
	if c.cfg.OnEvent == nil {
		return
	}
	for _, e := range evs {
		c.cfg.OnEvent(e)
	}
}

// tick advances the clock before an outgoing content or sync message: max(now_ms, L+1).
func (c *Channel) tick() uint64 {
	c.lamport = max(uint64(c.cfg.Now().UnixMilli()), c.lamport+1)
	return c.lamport
}

// causal returns the last CausalHistorySize history entries, oldest first.
func (c *Channel) causal() []*pb.HistoryEntry {
	h := c.history[max(0, len(c.history)-c.cfg.CausalHistorySize):]
	out := make([]*pb.HistoryEntry, len(h))
	for i, e := range h {
		out[i] = &pb.HistoryEntry{MessageId: e.id, RetrievalHint: e.hint, SenderId: &e.sender}
	}
	return out
}

// Send publishes a content message and returns its id. Sending a payload whose message is
// still unacknowledged re-sends that same message (a retry).
func (c *Channel) Send(ctx context.Context, payload []byte) (string, error) {
	if len(payload) == 0 {
		return "", errors.New("sds send: empty payload")
	}
	id := MessageID(payload)
	c.mu.Lock()
	lamport := c.tick()
	var raw []byte
	if i := slices.IndexFunc(c.outgoing, func(o *outgoing) bool { return o.id == id }); i >= 0 {
		raw = c.outgoing[i].raw
	} else {
		m := &pb.SdsMessage{SenderId: c.cfg.SenderID, MessageId: id, ChannelId: c.cfg.ChannelID, LamportTimestamp: &lamport,
			CausalHistory: c.causal(), BloomFilter: c.bloom.Bytes(), Content: payload}
		var err error
		if raw, err = Encode(m); err != nil {
			c.mu.Unlock()
			return "", err
		}
		if len(c.outgoing) >= c.cfg.MaxOutgoing {
			c.outgoing = c.outgoing[1:]
		}
		c.outgoing = append(c.outgoing, &outgoing{id: id, raw: raw})
	}
	c.mu.Unlock()
	hint, err := c.cfg.Publish(ctx, raw)
	if err != nil {
		return id, fmt.Errorf("sds send: %w", err)
	}
	c.mu.Lock()
	c.bloom.Add(id)
	c.addHistory(histEntry{lamport: lamport, id: id, hint: hint, sender: c.cfg.SenderID})
	c.mu.Unlock()
	c.emit([]Event{{Kind: Sent, MessageID: id, SenderID: c.cfg.SenderID}})
	return id, nil
}

// SendSync publishes a sync message (history and bloom filter, no content) so peers can ack
// and detect gaps; like js it sends nothing while the history is empty.
func (c *Channel) SendSync(ctx context.Context) error {
	c.mu.Lock()
	if len(c.history) == 0 {
		c.mu.Unlock()
		return nil
	}
	lamport := c.tick()
	m := &pb.SdsMessage{SenderId: c.cfg.SenderID, MessageId: "sync-" + strconv.FormatUint(rand.Uint64(), 36), ChannelId: c.cfg.ChannelID,
		LamportTimestamp: &lamport, CausalHistory: c.causal(), BloomFilter: c.bloom.Bytes()}
	c.mu.Unlock()
	raw, err := Encode(m)
	if err != nil {
		return err
	}
	if _, err := c.cfg.Publish(ctx, raw); err != nil {
		return fmt.Errorf("sds sync: %w", err)
	}
	return nil
}

func (c *Channel) addHistory(e histEntry) {
	if c.inHistory[e.id] {
		return
	}
	i, _ := slices.BinarySearchFunc(c.history, e, func(a, b histEntry) int {
		if a.lamport != b.lamport {
			return compareU64(a.lamport, b.lamport)
		}
		return strings.Compare(a.id, b.id)
	})
	c.history = slices.Insert(c.history, i, e)
	c.inHistory[e.id] = true
	if len(c.history) > c.cfg.MaxHistory {
		delete(c.inHistory, c.history[0].id)
		c.history = slices.Delete(c.history, 0, 1)
	}
}

func compareU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
