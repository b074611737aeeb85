package relay

import (
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// ByteAccounting books the message bytes relay exchanges with each peer (set in
// Config.ByteAccounting; nil = no tracer is installed at all). Its methods are called from
// pubsub's event loop and validation workers, concurrently, and must not block.
type ByteAccounting interface {
	// Sent books bytes of messages sent to p.
	Sent(p peer.ID, bytes int)
	// Received books bytes of messages received from p.
	Received(p peer.ID, bytes int)
}

// byteTracer is the pubsub RawTracer that feeds ByteAccounting. It counts message bytes
// (len(Data), the serialized WakuMessage: what the ledger prices), not whole RPC frames:
// control traffic (IHAVE/IWANT/GRAFT/PRUNE, subscriptions) is overhead both ends pay alike,
// and pubsub's RecvRPC does not say which peer an RPC came from.
//   - Sent: every message in an RPC queued to p (SendRPC), forwards, local publishes and
//     IWANT answers alike; an RPC dropped on a full queue (DropRPC) is not booked.
//   - Received: every message from p that reached the seen check: a new one
//     (ValidateMessage), a duplicate (DuplicateMessage), or one our full validation queue
//     dropped. Messages refused for their form before that (signature policy, blacklist,
//     self-origin) or on a topic we neither join nor relay are not credited to their sender.
//
// Both ends book the same messages, so a balanced link nets to zero. All methods but these
// are no-ops.
type byteTracer struct {
	acct ByteAccounting
	self peer.ID
}

var _ pubsub.RawTracer = byteTracer{}

// byteTracerOptions installs the tracer when acct is set and nothing at all when it is nil.
func byteTracerOptions(self peer.ID, acct ByteAccounting) []pubsub.Option {
	if acct == nil {
		return nil
	}
	return []pubsub.Option{pubsub.WithRawTracer(byteTracer{acct: acct, self: self})}
}

func (t byteTracer) SendRPC(rpc *pubsub.RPC, p peer.ID) {
	n := 0
	for _, m := range rpc.GetPublish() {
		n += len(m.GetData())
	}
	if n > 0 {
		t.acct.Sent(p, n)
	}
}

func (t byteTracer) received(m *pubsub.Message) {
	if m.ReceivedFrom != t.self && m.ReceivedFrom != "" { // a local publish is validated too
		t.acct.Received(m.ReceivedFrom, len(m.GetData()))
	}
}

func (t byteTracer) ValidateMessage(m *pubsub.Message)  { t.received(m) }
func (t byteTracer) DuplicateMessage(m *pubsub.Message) { t.received(m) }
func (t byteTracer) RejectMessage(m *pubsub.Message, reason string) {
	if reason == pubsub.RejectValidationQueueFull {
		t.received(m)
	}
}

func (byteTracer) AddPeer(peer.ID, protocol.ID)         {}
func (byteTracer) RemovePeer(peer.ID)                   {}
func (byteTracer) Join(string)                          {}
func (byteTracer) Leave(string)                         {}
func (byteTracer) Graft(peer.ID, string)                {}
func (byteTracer) Prune(peer.ID, string)                {}
func (byteTracer) DeliverMessage(*pubsub.Message)       {}
func (byteTracer) ThrottlePeer(peer.ID)                 {}
func (byteTracer) RecvRPC(*pubsub.RPC)                  {}
func (byteTracer) DropRPC(*pubsub.RPC, peer.ID)         {}
func (byteTracer) UndeliverableMessage(*pubsub.Message) {}
