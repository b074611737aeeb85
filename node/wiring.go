package node

import (
	"context"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/metadata"
	"github.com/wakunode/wakunode/peers"
	"github.com/wakunode/wakunode/relay"
)

// startPeers starts the peer manager: connection verification, static peers, keep-alive.
func (n *Node) startPeers() error {
	var static []peer.AddrInfo
	for _, a := range n.cfg.StaticNodes {
		info, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			return fmt.Errorf("static node %s: %w", a, err)
		}
		static = append(static, *info)
	}
	pc := peers.Config{Static: static, KeepAlive: n.cfg.KeepAlive, Verify: n.verifyPeer, Logger: n.log, Gater: n.gater}
	if n.metrics != nil {
		pc.Metrics = n.metrics.Peers()
	}
	// Forget a peer's metadata once its last connection is gone.
	forget := &network.NotifyBundle{DisconnectedF: func(net network.Network, c network.Conn) {
		if net.Connectedness(c.RemotePeer()) != network.Connected {
			n.peerMeta.Delete(c.RemotePeer())
		}
	}}
	n.host.Network().Notify(forget)
	n.onStop(func() error { n.host.Network().StopNotify(forget); return nil })
	m := peers.New(n.host, pc)
	n.peers = m // before Start: verifyPeer reads it
	if n.acct != nil {
		m.SetRanker(n.acct.tracker) // service peers by reputation
	}
	if err := m.Start(); err != nil {
		return fmt.Errorf("peer manager: %w", err)
	}
	n.onStop(m.Close)
	return nil
}

// verifyPeer runs the metadata connection check (metadata.Checker) on every new peer. Its
// answer is kept for the admin API, and its shards go to the peer manager, so shard choice
// follows metadata and not only the ENR.
func (n *Node) verifyPeer(ctx context.Context, p peer.ID, protos []protocol.ID) error {
	c := metadata.Checker{
		Cluster: n.cfg.ClusterID, Known: n.metaSvc.Remote, Query: n.metaClient.Query,
		Record: func(p peer.ID, info metadata.Info, shards *enr.RelayShards) {
			n.peerMeta.Store(p, info)
			if shards != nil {
				n.peers.SetShards(p, *shards)
			}
		},
	}
	return c.Check(ctx, p, slices.Contains(protos, relay.ProtocolID))
}
