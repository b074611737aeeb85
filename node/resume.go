package node

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/store"
)

// resumeConfig wires store.Resume to this node: its archive, store client, store node and the
// topics it relays. Fields are read directly, not through the getters, because resume starts
// during Start.
func (n *Node) resumeConfig() store.ResumeConfig {
	return store.ResumeConfig{
		Archive: n.archive,
		Pager:   n.storeClient,
		Peer: func(ctx context.Context) (peer.ID, error) {
			return n.servicePeer(ctx, nil, n.cfg.StoreNode, store.QueryProtocol, "")
		},
		Validator: n.Validator(),
		Logger:    n.log,
	}
}

// startResume runs store resume in the background (--store-resume): what the node missed while
// down is fetched from the store node, so short outages leave no gap.
func (n *Node) startResume() {
	cfg := n.resumeConfig()
	n.goOwned(func(ctx context.Context) { store.RunResume(ctx, cfg) })
}
