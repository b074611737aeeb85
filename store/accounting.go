package store

import "github.com/libp2p/go-libp2p/core/peer"

// Accounting is the service side of the node's pairwise accounting (set in
// ServiceConfig.Accounting; nil = off, which costs one nil check per request).
// Implementations are called from concurrent stream handlers.
type Accounting interface {
	// Allow is asked before a peer's query is served; a non-nil error refuses it with 402
	// PAYMENT_REQUIRED (legacy v2: SERVICE_UNAVAILABLE) and the error's text.
	Allow(p peer.ID) error
	// Served books messages returned to p in one response that was written successfully.
	Served(p peer.ID, messages int)
}

// ClientObserver hears how store peers answered this node's queries (set in
// ClientConfig.Observer; nil = off). Called from concurrent queries (QueryMulti runs one per
// store node), so implementations must be safe for concurrent use.
type ClientObserver interface {
	// Received books messages p returned in one response page (p served us).
	Received(p peer.ID, messages int)
	// Failed reports an error, timeout, refusal or unusable answer from p.
	Failed(p peer.ID)
}
