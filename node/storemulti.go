package node

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/store"
	storepb "github.com/wakunode/wakunode/store/pb"
)

// QueryMulti runs req on every store node of addrs (multiaddrs ending in /p2p/<id>) at once
// and merges their histories by message hash (store.Client.QueryMulti): at most limit
// messages, with what each node contributed. It fails only when every node failed.
func (s *Store) QueryMulti(ctx context.Context, addrs []multiaddr.Multiaddr, req *storepb.StoreQueryRequest, limit int) (*store.MultiResult, error) {
	n := s.n
	if !n.ready() {
		return nil, ErrNotStarted
	}
	if len(addrs) > store.MaxMultiNodes {
		return nil, fmt.Errorf("store multi-query: %d nodes, at most %d", len(addrs), store.MaxMultiNodes)
	}
	ids := make([]peer.ID, 0, len(addrs))
	for _, a := range addrs {
		ai, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			return nil, fmt.Errorf("store node %s: %w", a, err)
		}
		// Short-lived: a caller's list must not grow the peerstore for good.
		n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.TempAddrTTL)
		ids = append(ids, ai.ID)
	}
	return n.storeClient.QueryMulti(ctx, ids, req, limit)
}
