package filter

import "github.com/libp2p/go-libp2p/core/peer"

// Accounting is the service side of the node's pairwise accounting (set in Config.Accounting;
// nil = off, which costs one nil check per request or push). Implementations are called from
// concurrent stream handlers and push workers.
type Accounting interface {
	// Allow is asked on SUBSCRIBE and SUBSCRIBER_PING; a non-nil error refuses the request
	// with 402 PAYMENT_REQUIRED and the error's text.
	Allow(p peer.ID) error
	// Served books messages pushed to p (one per push written to its stream).
	Served(p peer.ID, messages int)
}

// ClientObserver hears how filter service peers serve this client (set in
// ClientConfig.Observer; nil = off). Called concurrently from push handlers, Subscribe and
// Ping callers and the keep-alive loop.
type ClientObserver interface {
	// Received books messages p pushed to us (p served us).
	Received(p peer.ID, messages int)
	// Failed reports a failed subscribe or ping with p (error, timeout or refusal).
	Failed(p peer.ID)
}
