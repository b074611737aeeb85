package node

import (
	"context"
	"slices"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/metadata"
)

// Health reports the node and each mounted protocol the way nwaku's /health does.
func (n *Node) Health(ctx context.Context) HealthReport {
	n.mu.RLock()
	state := n.state
	n.mu.RUnlock()
	switch state {
	case stateStopping, stateStopped:
		return HealthReport{NodeHealth: HealthShuttingDown}
	case stateNew, stateStarting:
		return HealthReport{NodeHealth: HealthInitializing}
	}
	status := func(on bool) string {
		if on {
			return HealthReady
		}
		return HealthNotMounted
	}
	r := HealthReport{NodeHealth: HealthReady, Protocols: []ProtocolHealth{
		{Protocol: "Relay", Status: status(n.relay != nil)},
		{Protocol: "Store", Status: status(n.archive != nil)},
		{Protocol: "Filter", Status: status(n.filterSvc != nil)},
		{Protocol: "Lightpush", Status: status(n.cfg.Lightpush)},
	}}
	if n.relay != nil && len(n.relay.Topics()) == 0 {
		r.Protocols[0] = ProtocolHealth{Protocol: "Relay", Status: HealthNotReady, Desc: "not subscribed to any shard"}
	}
	if h := n.archive; h != nil && !h.Health().OK { // database failing: messages wait in the archive queue
		r.Protocols[1] = ProtocolHealth{Protocol: "Store", Status: HealthNotReady, Desc: h.Health().Reason}
	}
	return r
}

// Peers lists every peer in the peer store (ourselves excluded), connected ones first.
func (n *Node) Peers() []PeerInfo {
	h := n.Host()
	if h == nil {
		return nil
	}
	ps := h.Peerstore()
	var out []PeerInfo
	for _, p := range ps.Peers() {
		if p == h.ID() {
			continue
		}
		info := PeerInfo{ID: p.String(), Connected: NotConnected, Origin: OriginUnknown}
		if addrs := ps.Addrs(p); len(addrs) > 0 {
			if full, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: p, Addrs: addrs[:1]}); err == nil {
				info.Multiaddr = full[0].String()
			}
		}
		if protos, err := ps.GetProtocols(p); err == nil {
			for _, pr := range protos {
				info.Protocols = append(info.Protocols, string(pr))
			}
			slices.Sort(info.Protocols)
		}
		if av, err := ps.Get(p, "AgentVersion"); err == nil {
			info.Agent, _ = av.(string)
		}
		if h.Network().Connectedness(p) == network.Connected {
			info.Connected = Connected
		}
		if n.peers != nil {
			info.Origin = n.peers.Origin(p)
		}
		if m, ok := n.peerMeta.Load(p); ok {
			for _, s := range m.(metadata.Info).Shards {
				info.Shards = append(info.Shards, uint16(s))
			}
		}
		if n.relay != nil {
			if s, ok := n.relay.PeerScore(p); ok {
				info.Score = &s
			}
		}
		out = append(out, info)
	}
	slices.SortStableFunc(out, func(a, b PeerInfo) int {
		if (a.Connected == Connected) != (b.Connected == Connected) {
			if a.Connected == Connected {
				return -1
			}
			return 1
		}
		return 0
	})
	return out
}
