package discovery

import (
	"context"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/peerexchange"
	"github.com/wakunode/wakunode/peers"
)

// PeerRequester asks one peer exchange responder for up to n peers (*peerexchange.Client does).
type PeerRequester interface {
	Request(ctx context.Context, p peer.ID, n uint64) ([]peerexchange.Peer, error)
}

// PeerExchangeConfig configures PollPeerExchange.
type PeerExchangeConfig struct {
	Client  PeerRequester
	Targets []peer.ID // the responders (--peer-exchange-node)
	// Interval between rounds (default 1 min); while Known reports fewer than MinKnown peers
	// beyond the targets, rounds come every FastInterval (default 5 s) instead, doubling
	// (up to Interval) after each round that added no peer: a small network that has no more
	// peers to give is not asked every 5 s forever.
	Interval, FastInterval time.Duration
	MinKnown               int           // default 10; also the number of peers asked for
	Known                  func() int    // how many peers we know (the peer manager's count)
	Timeout                time.Duration // per request, default 10 s
	Logger                 *slog.Logger
	Metrics                PeerExchangeMetrics // nil: none
}

// PeerExchangeMetrics receives PollPeerExchange's outcomes.
type PeerExchangeMetrics interface {
	Received(got []peerexchange.Peer) // one answer's peers, before they are emitted
	Failed()                          // a request failed
}

// PollPeerExchange asks the responders for peers at once, then every interval, and emits what
// they return (origin peers.OriginPeerExchange) until ctx ends.
func PollPeerExchange(ctx context.Context, cfg PeerExchangeConfig, out *Stream) {
	interval, fast, minKnown, timeout := cfg.Interval, cfg.FastInterval, cfg.MinKnown, cfg.Timeout
	if interval <= 0 {
		interval = time.Minute
	}
	if fast <= 0 {
		fast = 5 * time.Second
	}
	if minKnown <= 0 {
		minKnown = 10
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	backoff, lastKnown := fast, -1
	for {
		for _, p := range cfg.Targets {
			rctx, cancel := context.WithTimeout(ctx, timeout)
			got, err := cfg.Client.Request(rctx, p, uint64(minKnown))
			cancel()
			if err != nil {
				log.Debug("peer exchange request", "peer", p, "err", err)
				if cfg.Metrics != nil && ctx.Err() == nil {
					cfg.Metrics.Failed()
				}
				continue
			}
			if cfg.Metrics != nil {
				cfg.Metrics.Received(got)
			}
			for _, pe := range got {
				out.EmitRecord(pe.Info, peers.OriginPeerExchange)
			}
		}
		wait := interval
		if cfg.Known != nil {
			known := cfg.Known()
			backoff = nextFastWait(backoff, fast, interval, known > lastKnown)
			lastKnown = known
			if known < minKnown+len(cfg.Targets) {
				wait = backoff
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// nextFastWait is the pause between rounds while peers are short: fast after a round that
// added peers, otherwise twice the previous pause, never above interval.
func nextFastWait(prev, fast, interval time.Duration, grew bool) time.Duration {
	if grew {
		return min(fast, interval)
	}
	return min(2*prev, interval)
}
