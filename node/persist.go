package node

import (
	"context"
	"path/filepath"
	"time"
)

const (
	peersFile        = "peers.json"
	peerSaveInterval = 5 * time.Minute
)

// startPeerPersistence reloads the peers known before a restart as candidates and saves them
// every few minutes and at stop (--peer-persistence), in DataDir/peers.json.
func (n *Node) startPeerPersistence() {
	path := filepath.Join(n.cfg.DataDir, peersFile)
	if got, err := n.peers.Load(path); err != nil {
		n.log.Warn("peer persistence: not loaded", "err", err)
		n.nodeError("peer_persistence_load_failure")
	} else {
		n.log.Info("peer persistence: loaded peers", "peers", got)
	}
	save := func() {
		if err := n.peers.Save(path); err != nil {
			n.log.Warn("peer persistence: not saved", "err", err)
			n.nodeError("peer_persistence_save_failure")
		}
	}
	n.goOwned(func(ctx context.Context) {
		t := time.NewTicker(peerSaveInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				save()
			}
		}
	})
	// Stops run in reverse: this one runs before the peer manager and the host close.
	n.onStop(func() error { save(); return nil })
}

// nodeError counts a failure the node logs and carries on after (waku_node_errors_total).
func (n *Node) nodeError(kind string) {
	if n.metrics != nil {
		n.metrics.NodeError(kind)
	}
}
