package node

import (
	"context"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/message"
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
	pc := peers.Config{Static: static, KeepAlive: n.cfg.KeepAlive, Verify: n.verifyPeer, Logger: n.log}
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
	if err := m.Start(); err != nil {
		return fmt.Errorf("peer manager: %w", err)
	}
	n.peers = m
	n.onStop(m.Close)
	return nil
}

// verifyPeer is the metadata check nwaku runs on every new peer: query its cluster and shards
// and refuse another cluster, or a relay peer without valid shards. Light clients that report
// no shards are kept.
func (n *Node) verifyPeer(ctx context.Context, p peer.ID, protos []protocol.ID) error {
	info, ok := n.metaSvc.Remote(p)
	if !ok || !info.HasCluster {
		var err error
		if info, err = n.metaClient.Query(ctx, p); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
	}
	n.peerMeta.Store(p, info)
	if info.HasCluster && info.Cluster <= 0xffff && len(info.Shards) > 0 {
		rs := enr.RelayShards{Cluster: uint16(info.Cluster)}
		for _, s := range info.Shards {
			if s <= message.MaxShardIndex {
				rs.Shards = append(rs.Shards, uint16(s))
			}
		}
		n.peers.SetShards(p, rs) // shard choice then follows metadata, not only the ENR
	}
	return metadata.Verify(n.cfg.ClusterID, info, slices.Contains(protos, relay.ProtocolID))
}
