package peerexchange

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/peerexchange/pb"
)

// Client asks responders for peers.
type Client struct {
	h host.Host
	// Cluster is ours: records naming another cluster are dropped.
	cluster uint16
}

// NewClient returns a client for a node of cluster.
func NewClient(h host.Host, cluster uint16) *Client { return &Client{h: h, cluster: cluster} }

// Request asks p for up to n peers (0 = DefaultNumPeers) and returns the Waku peers of our
// cluster in the answer. A non-200 answer is a *StatusError.
func (c *Client) Request(ctx context.Context, p peer.ID, n uint64) ([]Peer, error) {
	if n == 0 {
		n = DefaultNumPeers
	}
	req := &pb.PeerExchangeRPC{Query: &pb.PeerExchangeQuery{NumPeers: n}}
	resp := &pb.PeerExchangeRPC{}
	if err := rpc.Request(ctx, c.h, p, req, resp, MaxResponseSize, ProtocolID); err != nil {
		return nil, fmt.Errorf("peer exchange with %s: %w", p, err)
	}
	peers, _, err := DecodeResponse(resp)
	if err != nil {
		return nil, fmt.Errorf("peer exchange with %s: %w", p, err)
	}
	out := peers[:0]
	for _, pe := range peers {
		if pe.Info.Shards != nil && pe.Info.Shards.Cluster != c.cluster {
			continue
		}
		if pe.Info.PeerID == c.h.ID() || uint64(len(out)) >= n {
			continue
		}
		out = append(out, pe)
	}
	return out, nil
}
