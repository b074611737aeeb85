package relay

import (
	"sort"
	"sync"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// tracer is the pubsub RawTracer: it keeps the mesh as the router reports it (Graft/Prune/Leave/
// RemovePeer) and turns router events into Metrics calls. Its methods run on the pubsub event
// loop or the validation workers, so they only take a short lock or count.
type tracer struct {
	m Metrics
	// onRemove, when set before the router starts, hears of every peer the router drops.
	onRemove func(peer.ID)
	// serves, when set before the router starts, tells whether a topic is one relay serves;
	// bytes of inbound messages on other topics count under "" (see rpcBytes).
	serves func(topic string) bool

	mu   sync.Mutex
	mesh map[string]map[peer.ID]struct{}
}

var _ pubsub.RawTracer = (*tracer)(nil)

func newTracer(m Metrics) *tracer {
	return &tracer{m: m, mesh: make(map[string]map[peer.ID]struct{})}
}

func (t *tracer) meshPeers(topic string) []peer.ID {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]peer.ID, 0, len(t.mesh[topic]))
	for p := range t.mesh[topic] {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (t *tracer) meshSize(topic string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.mesh[topic])
}

func (t *tracer) Join(topic string) {
	t.mu.Lock()
	if t.mesh[topic] == nil {
		t.mesh[topic] = make(map[peer.ID]struct{})
	}
	t.mu.Unlock()
}

func (t *tracer) Leave(topic string) {
	t.mu.Lock()
	delete(t.mesh, topic)
	t.mu.Unlock()
}

func (t *tracer) Graft(p peer.ID, topic string) {
	t.mu.Lock()
	if m := t.mesh[topic]; m != nil {
		m[p] = struct{}{}
	}
	t.mu.Unlock()
}

func (t *tracer) Prune(p peer.ID, topic string) {
	t.mu.Lock()
	delete(t.mesh[topic], p)
	t.mu.Unlock()
}

// RemovePeer: the router drops a disconnected peer from every mesh without Prune events.
func (t *tracer) RemovePeer(p peer.ID) {
	t.mu.Lock()
	for _, m := range t.mesh {
		delete(m, p)
	}
	t.mu.Unlock()
	if t.onRemove != nil {
		t.onRemove(p)
	}
}

func (t *tracer) AddPeer(peer.ID, protocol.ID)     {}
func (t *tracer) ValidateMessage(*pubsub.Message)  {}
func (t *tracer) DuplicateMessage(*pubsub.Message) {}
func (t *tracer) ThrottlePeer(peer.ID)             {}

// DeliverMessage fires once per remote message accepted for the first time; local
// publications are counted by the validator.
func (t *tracer) DeliverMessage(msg *pubsub.Message) {
	t.m.MessageAccepted(msg.GetTopic(), len(msg.Data))
}

func (t *tracer) RejectMessage(msg *pubsub.Message, reason string) {
	topic := msg.GetTopic()
	switch reason {
	case pubsub.RejectValidationFailed:
		// Counted with its precise reason by the validator.
	case pubsub.RejectValidationIgnored:
		// The validator ignores only a duplicate by Waku hash: not a rejection.
	case pubsub.RejectValidationQueueFull:
		t.m.MessageDropped(topic, DropValidationQueue)
	case pubsub.RejectValidationThrottled:
		t.m.MessageDropped(topic, DropValidationBusy)
	case pubsub.RejectMissingSignature, pubsub.RejectUnexpectedSignature,
		pubsub.RejectUnexpectedAuthInfo, pubsub.RejectInvalidSignature:
		t.m.MessageRejected(topic, ReasonSignature)
	default:
		t.m.MessageRejected(topic, ReasonOther)
	}
}

func (t *tracer) UndeliverableMessage(msg *pubsub.Message) {
	t.m.MessageDropped(msg.GetTopic(), DropSlowSubscriber)
}

func (t *tracer) DropRPC(rpc *pubsub.RPC, _ peer.ID) {
	if len(rpc.Publish) == 0 {
		t.m.MessageDropped("", DropOutboundQueue)
		return
	}
	for _, m := range rpc.Publish {
		t.m.MessageDropped(m.GetTopic(), DropOutboundQueue)
	}
}

// RecvRPC runs before pubsub drops the messages of topics we do not serve, so a peer could
// name any number of topics here: only served topics get their own label.
func (t *tracer) RecvRPC(rpc *pubsub.RPC)            { t.rpcBytes(rpc, DirIn, t.serves) }
func (t *tracer) SendRPC(rpc *pubsub.RPC, _ peer.ID) { t.rpcBytes(rpc, DirOut, nil) }

// rpcBytes attributes each published message to its topic and the rest of the frame
// (subscriptions, control, framing, and messages on topics keep refuses) to "". A run of
// messages on one topic, the usual batch, is reported once.
func (t *tracer) rpcBytes(rpc *pubsub.RPC, dir string, keep func(string) bool) {
	if _, ok := t.m.(nopMetrics); ok {
		return // Size() walks the whole RPC; skip it when nobody listens
	}
	total := rpc.Size()
	var last, label string // last topic seen and its label
	sum := 0
	for _, m := range rpc.Publish {
		if tp := m.GetTopic(); tp != last {
			if sum > 0 {
				t.m.RPCBytes(label, dir, sum)
				total -= sum
			}
			last, label, sum = tp, tp, 0
			if keep != nil && !keep(tp) {
				label = ""
			}
		}
		if label != "" {
			sum += m.Size()
		}
	}
	if sum > 0 {
		t.m.RPCBytes(label, dir, sum)
		total -= sum
	}
	if total > 0 {
		t.m.RPCBytes("", dir, total)
	}
}
