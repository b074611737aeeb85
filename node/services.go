package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/metadata"
	"github.com/wakunode/wakunode/ratelimit"
	"github.com/wakunode/wakunode/store"
)

// startServices mounts metadata and the configured service protocols and attaches the
// consumers (archive, filter) to the message bus.
func (n *Node) startServices(ctx context.Context) error {
	mc := metadata.Config{Cluster: n.cfg.ClusterID, Logger: n.log}
	if n.relay != nil {
		mc.Shards = n.shardIndices
	}
	n.metaSvc = metadata.NewService(n.host, mc)
	n.onStop(func() error { n.metaSvc.Close(); return nil })
	n.metaClient = metadata.NewClient(n.host, mc)

	if n.cfg.Store.Enabled {
		if err := n.startStore(ctx); err != nil {
			return err
		}
		if n.cfg.StoreSync != nil {
			if _, err := n.startStoreSync(ctx, *n.cfg.StoreSync); err != nil {
				return err
			}
		}
	}
	if n.cfg.Filter.Enabled {
		fc := filter.Config{MaxPeers: n.cfg.Filter.MaxPeers, MaxCriteria: n.cfg.Filter.MaxCriteria,
			SubscriptionTimeout: n.cfg.Filter.SubscriptionTimeout, Logger: n.log,
			RateLimiter: n.limiter(ratelimit.Filter), Accounting: meter[filter.Accounting](n.acct, accounting.Filter, false)}
		if n.metrics != nil {
			fc.Metrics = n.metrics.Filter()
		}
		svc := filter.NewService(n.host, fc)
		svc.Start()
		n.filterSvc = svc
		n.onStop(func() error { svc.Stop(); return nil })
		n.onStop(detach(n.bus.add(consumerFunc(svc.Push))))
	}
	if n.cfg.Lightpush {
		if n.relay == nil {
			return errors.New("lightpush service needs relay")
		}
		lc := lightpush.Config{Publisher: n.relay, Validator: n.Validator(),
			RateLimiter: n.limiter(ratelimit.Lightpush), Logger: n.log, Accounting: meter[lightpush.Accounting](n.acct, accounting.Lightpush, false)}
		if n.metrics != nil {
			lc.Metrics = n.metrics.Lightpush()
		}
		svc, err := lightpush.NewService(n.host, lc)
		if err != nil {
			return fmt.Errorf("lightpush: %w", err)
		}
		svc.Start()
		n.onStop(func() error { svc.Stop(); return nil })
	}
	n.storeClient = store.NewClient(n.host, store.ClientConfig{Observer: meter[store.ClientObserver](n.acct, accounting.Store, true)})
	n.lightpushClient = lightpush.NewClient(n.host, lightpush.ClientConfig{Observer: meter[lightpush.ClientObserver](n.acct, accounting.Lightpush, true)})
	fcl := filter.NewClient(n.host, filter.ClientConfig{Logger: n.log, Observer: meter[filter.ClientObserver](n.acct, accounting.Filter, true)})
	n.filterClient = fcl
	n.onStop(func() error { fcl.Close(); return nil })
	return nil
}

func (n *Node) startStore(ctx context.Context) error {
	policies, err := archive.ParseRetention(n.cfg.Store.Retention)
	if err != nil {
		return fmt.Errorf("store retention policy: %w", err)
	}
	ac := archive.Config{URL: n.dbURL(), MaxConns: n.cfg.Store.MaxConns, Migrate: n.cfg.Store.Migrate,
		Vacuum: n.cfg.Store.Vacuum, Retention: policies, QueueBytes: n.cfg.Store.QueueBytes, FsyncCommits: n.cfg.Store.FsyncCommits,
		WriterNice: n.cfg.Store.WriterNice, Busy: n.cfg.StoreWriterBusy, Logger: n.log}
	if n.cfg.Store.SpillBytes > 0 {
		ac.SpillDir, ac.SpillBytes = filepath.Join(n.cfg.DataDir, "store-spill"), n.cfg.Store.SpillBytes
	}
	if n.metrics != nil {
		ac.Metrics = n.metrics.Archive()
	}
	a, err := archive.Open(ctx, ac)
	if err != nil {
		return fmt.Errorf("open message archive: %w", err)
	}
	n.archive = a
	n.onStop(a.Close)
	// Removed from the bus before the archive closes (stops run in reverse).
	n.onStop(detach(n.bus.add(consumerFunc(func(e *message.Envelope) {
		// Ephemeral, out-of-window and queue-full messages are refused (and counted) by Insert.
		_ = a.Insert(e)
	}))))
	sc := store.ServiceConfig{Legacy: true, RateLimiter: n.limiter(ratelimit.StoreV3),
		LegacyRateLimiter: n.limiter(ratelimit.StoreV2), Logger: n.log, Accounting: meter[store.Accounting](n.acct, accounting.Store, false)}
	if n.metrics != nil {
		sc.Metrics = n.metrics.Store()
	}
	svc := store.NewService(n.host, a, sc)
	svc.Start()
	n.storeSvc = svc
	n.onStop(func() error { svc.Stop(); return nil })
	return nil
}

// dbURL resolves a relative sqlite path against the data directory.
func (n *Node) dbURL() string {
	u := n.cfg.Store.DBURL
	if p, ok := strings.CutPrefix(u, "sqlite://"); ok && p != "" && !filepath.IsAbs(p) && p != ":memory:" {
		return "sqlite://" + filepath.Join(n.cfg.DataDir, p)
	}
	return u
}

// limiter builds the per-peer limiter for a protocol, nil when unlimited (a nil *Limiter allows
// everything, so it can be passed to any service as is).
func (n *Node) limiter(p ratelimit.Protocol) *ratelimit.Limiter {
	s := n.cfg.RateLimits.For(p)
	if s.IsUnlimited() {
		return nil
	}
	return ratelimit.NewLimiter(s, nil)
}

func detach(remove func()) func() error { return func() error { remove(); return nil } }

type consumerFunc func(*message.Envelope)

func (f consumerFunc) Deliver(e *message.Envelope) { f(e) }
