package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/storesync"
)

// StoreSyncConfig is --store-sync-interval, --store-sync-range and --store-sync-relay-jitter
// (zero values take nwaku's 300 s, 3600 s and 20 s; a negative interval never initiates a
// round, as nwaku's 0). Config.StoreSync set starts it right after the store (New refuses it
// without the store) and sets the waku2 sync bit (enr.Sync).
type StoreSyncConfig struct {
	Interval, Range, RelayJitter time.Duration
}

// startStoreSync mounts /vac/waku/reconciliation/1.0.0 and /vac/waku/transfer/1.0.0 over the
// archive: the index is loaded from the archive, fed by every message on the bus and the
// scope is the relayed shards of our cluster plus --content-topic, as in nwaku.
func (n *Node) startStoreSync(ctx context.Context, sc StoreSyncConfig) (*storesync.Syncer, error) {
	if n.archive == nil {
		return nil, errors.New("store sync needs the store (--store)")
	}
	var topics []string
	for _, s := range n.shardIndices() {
		topics = append(topics, fmt.Sprintf("/waku/2/rs/%d/%d", n.cfg.ClusterID, s))
	}
	// Transferred messages pass the node's one validation path (rules, cluster, served shard);
	// the sync window (hours back) is checked by storesync itself.
	cfg := storesync.Config{
		PubsubTopics: topics, ContentTopics: n.cfg.ContentTopics,
		Interval: sc.Interval, Range: sc.Range, RelayJitter: sc.RelayJitter,
		Validate:   n.Validator().CheckEnvelope,
		SelectPeer: n.storeSyncPeer,
		Logger:     n.log,
	}
	if n.metrics != nil {
		cfg.Metrics = n.metrics.StoreSync()
	}
	s := storesync.New(n.host, n.archive, cfg)
	if err := s.Start(ctx); err != nil {
		return nil, fmt.Errorf("store sync: %w", err)
	}
	n.onStop(func() error { s.Stop(); return nil })
	// Removed from the bus before the syncer stops (stops run in reverse).
	n.onStop(detach(n.bus.add(consumerFunc(s.Add))))
	return s, nil
}

// storeSyncPeer is --storenode when set (nwaku puts it in both sync service slots), else a
// peer the peer manager knows to serve reconciliation.
func (n *Node) storeSyncPeer() (peer.ID, error) {
	if n.cfg.StoreNode != nil {
		ai, err := peer.AddrInfoFromP2pAddr(n.cfg.StoreNode)
		if err != nil {
			return "", fmt.Errorf("store sync peer %s: %w", n.cfg.StoreNode, err)
		}
		n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, time.Hour)
		return ai.ID, nil
	}
	return n.SelectPeer(storesync.ReconciliationProtocol, "")
}
