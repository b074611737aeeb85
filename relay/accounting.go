package relay

import "github.com/libp2p/go-libp2p/core/peer"

// ByteAccounting books the message bytes relay exchanges with each peer (set in
// Config.ByteAccounting; nil = no tracer is installed at all). Its methods are called from
// pubsub's event loop and validation workers, concurrently, and must not block.
type ByteAccounting interface {
	// Sent books bytes of messages sent to p.
	Sent(p peer.ID, bytes int)
	// Received books bytes of messages received from p.
	Received(p peer.ID, bytes int)
}
