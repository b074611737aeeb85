package lightpush

import "github.com/libp2p/go-libp2p/core/peer"

// Accounting is the service side of the node's pairwise accounting (set in Config.Accounting;
// nil = off, which costs one nil check per request). Implementations are called from
// concurrent stream handlers.
type Accounting interface {
	// Allow is asked before a push is served; a non-nil error refuses it with 402
	// PAYMENT_REQUIRED (legacy v2: is_success=false) and the error's text.
	Allow(p peer.ID) error
	// Served books messages accepted for publishing on p's behalf.
	Served(p peer.ID, messages int)
}

// ClientObserver hears how lightpush service peers served this client (set in
// ClientConfig.Observer; nil = off). Called from concurrent pushes, so implementations must
// be safe for concurrent use.
type ClientObserver interface {
	// Received books messages p accepted for publishing (p served us).
	Received(p peer.ID, messages int)
	// Failed reports an error, timeout or refusal from p.
	Failed(p peer.ID)
}
