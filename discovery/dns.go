package discovery

import (
	"context"
	"log/slog"
	"time"

	"github.com/ethereum/go-ethereum/p2p/enode"

	"github.com/wakunode/wakunode/discovery/dnsdisc"
	"github.com/wakunode/wakunode/internal/backoff"
	"github.com/wakunode/wakunode/peers"
)

// TreeSyncer syncs one enrtree:// URL (*dnsdisc.Client does).
type TreeSyncer interface {
	Sync(ctx context.Context, url string) ([]dnsdisc.Node, error)
}

// DNSConfig configures SyncDNS.
type DNSConfig struct {
	Syncer TreeSyncer
	URL    string
	// SeedUDP receives the records that can seed discv5 (nil: none is wanted).
	SeedUDP func(*enode.Node)
	// Backoff is the first wait after a failure; later waits double with full jitter up to
	// MaxBackoff (5 s and 10 min).
	Backoff, MaxBackoff time.Duration
	Logger              *slog.Logger
	Metrics             DNSMetrics // nil: none
}

// DNSMetrics receives SyncDNS's outcomes.
type DNSMetrics interface {
	Discovered(nodes int) // a sync succeeded with this many nodes
	Failed()              // a sync attempt failed (it is retried)
}

// SyncDNS syncs one tree until it succeeds, backing off between failures, and emits each node
// found (origin peers.OriginDNS). It returns the number of nodes, or 0 when ctx ended first.
func SyncDNS(ctx context.Context, cfg DNSConfig, out *Stream) int {
	lo, hi := cfg.Backoff, cfg.MaxBackoff
	if lo <= 0 {
		lo = 5 * time.Second
	}
	if hi <= 0 {
		hi = 10 * time.Minute
	}
	retry := backoff.New(lo, hi)
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	for {
		nodes, err := cfg.Syncer.Sync(ctx, cfg.URL)
		if cfg.Metrics != nil && ctx.Err() == nil {
			if err != nil {
				cfg.Metrics.Failed()
			} else {
				cfg.Metrics.Discovered(len(nodes))
			}
		}
		if err == nil {
			for _, dn := range nodes {
				out.EmitRecord(dn.Info, peers.OriginDNS)
				if cfg.SeedUDP != nil && dn.HasUDP {
					cfg.SeedUDP(dn.Record)
				}
			}
			log.Info("dns discovery", "url", cfg.URL, "nodes", len(nodes))
			return len(nodes)
		}
		wait := retry.Delay()
		log.Warn("dns discovery failed", "url", cfg.URL, "retryIn", wait, "err", err)
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(wait):
		}
	}
}
