package sim

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/relay"
)

// Traffic counts one node's relay traffic as relay.Metrics reports it. RPCBytes is called once
// per data message in every RPC frame, duplicates included (before de-duplication), with that
// message's size; everything else in the frame (subscriptions, IHAVE/IWANT/GRAFT/PRUNE/
// IDONTWANT, protobuf framing) arrives with topic "". So a topic call is one data copy.
type Traffic struct {
	DataInCopies, DataInBytes   atomic.Int64
	DataOutCopies, DataOutBytes atomic.Int64
	CtrlInBytes, CtrlOutBytes   atomic.Int64
	Dropped                     atomic.Int64 // back-pressure drops (relay.Metrics.MessageDropped)
}

var _ relay.Metrics = (*Traffic)(nil)

func (t *Traffic) MessageAccepted(string, int)    {}
func (t *Traffic) MessageRejected(string, string) {}
func (t *Traffic) MessageDropped(string, string)  { t.Dropped.Add(1) }
func (t *Traffic) TopicPeers(string, int, int)    {}

// RPCBytes implements relay.Metrics.
func (t *Traffic) RPCBytes(topic, dir string, n int) {
	switch {
	case topic != "" && dir == relay.DirIn:
		t.DataInCopies.Add(1)
		t.DataInBytes.Add(int64(n))
	case topic != "" && dir == relay.DirOut:
		t.DataOutCopies.Add(1)
		t.DataOutBytes.Add(int64(n))
	case dir == relay.DirIn:
		t.CtrlInBytes.Add(int64(n))
	default:
		t.CtrlOutBytes.Add(int64(n))
	}
}

// BytesIn and BytesOut are the gross totals, data and control.
func (t *Traffic) BytesIn() int64  { return t.DataInBytes.Load() + t.CtrlInBytes.Load() }
func (t *Traffic) BytesOut() int64 { return t.DataOutBytes.Load() + t.CtrlOutBytes.Load() }

// Clock maps message indexes to their publish times; zero means not (yet) published.
type Clock struct{ at []atomic.Int64 }

// NewClock holds n messages.
func NewClock(n int) *Clock { return &Clock{at: make([]atomic.Int64, n)} }

// Published records message i's publish time.
func (c *Clock) Published(i int, t time.Time) { c.at[i].Store(t.UnixNano()) }

// At is message i's publish time, ok=false if unknown.
func (c *Clock) At(i int) (time.Time, bool) {
	if i < 0 || i >= len(c.at) {
		return time.Time{}, false
	}
	ns := c.at[i].Load()
	return time.Unix(0, ns), ns != 0
}

// Receiver is a node's relay.Sink: it records each unique message index it delivers and the
// publish-to-delivery latency. It survives the node's restarts (a fresh relay may deliver a
// message again; it is counted once).
type Receiver struct {
	clock *Clock
	now   func() time.Time

	mu        sync.Mutex
	delivered map[int]bool // index -> delivered
	own       map[int]bool // published here: excluded from latency
	latencies []time.Duration
}

// NewReceiver builds a Receiver reading publish times from clock; now nil means time.Now.
func NewReceiver(clock *Clock, now func() time.Time) *Receiver {
	if now == nil {
		now = time.Now
	}
	return &Receiver{clock: clock, now: now, delivered: map[int]bool{}, own: map[int]bool{}}
}

// MarkOwn notes that message i was published by this node, before publishing it.
func (r *Receiver) MarkOwn(i int) {
	r.mu.Lock()
	r.own[i] = true
	r.mu.Unlock()
}

// Deliver implements relay.Sink.
func (r *Receiver) Deliver(env *message.Envelope) {
	i, ok := PayloadIndex(env.Message.GetPayload())
	if !ok {
		return
	}
	now := r.now()
	pub, known := r.clock.At(i)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.delivered[i] {
		return
	}
	r.delivered[i] = true
	if known && !r.own[i] {
		r.latencies = append(r.latencies, now.Sub(pub))
	}
}

// Has reports whether message i was delivered.
func (r *Receiver) Has(i int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.delivered[i]
}

// Unique is the number of distinct messages delivered (own publications included).
func (r *Receiver) Unique() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.delivered)
}

// Latencies returns a copy of the latencies of messages published elsewhere.
func (r *Receiver) Latencies() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.latencies...)
}

// Payload builds a payload of size bytes (at least 8) carrying message index i.
func Payload(i, size int) []byte {
	b := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(b, uint64(i))
	for j := 8; j < len(b); j++ {
		b[j] = byte(i + j) // not all zeros: keeps the bytes honest if a transport compresses
	}
	return b
}

// PayloadIndex reads the message index from a Payload.
func PayloadIndex(p []byte) (int, bool) {
	if len(p) < 8 {
		return 0, false
	}
	v := binary.BigEndian.Uint64(p)
	if v > 1<<31 {
		return 0, false
	}
	return int(v), true
}
