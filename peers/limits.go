package peers

import (
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/wakunode/wakunode/message"
)

// RelayProtocol marks a relay peer (identify); the rest of our connections are service peers.
const RelayProtocol = "/vac/waku/relay/2.0.0"

func (m *Manager) isRelayPeer(p peer.ID) bool {
	ok, _ := m.h.Peerstore().SupportsProtocols(p, RelayProtocol)
	return len(ok) > 0
}

// remoteIP is the IP of p's first live connection, "" if none.
func (m *Manager) remoteIP(p peer.ID) string {
	for _, c := range m.h.Network().ConnsToPeer(p) {
		if ip, err := manet.ToIP(c.RemoteMultiaddr()); err == nil {
			return ip.String()
		}
	}
	return ""
}

// enforceLimits prunes relay peers above the relay share and service peers above the service
// share. Static peers and peers in one of our meshes are pruned last (never, if possible).
func (m *Manager) enforceLimits() {
	m.mu.Lock()
	rl, pol := m.relay, m.pol
	m.mu.Unlock()
	inMesh := map[peer.ID]bool{}
	if rl != nil {
		for _, t := range rl.Topics() {
			for _, p := range rl.MeshPeers(t) {
				inMesh[p] = true
			}
		}
	}
	var relayPeers, servicePeers []peer.ID
	for _, p := range m.h.Network().Peers() {
		if m.isStatic(p) {
			continue
		}
		if m.isRelayPeer(p) {
			relayPeers = append(relayPeers, p)
		} else {
			servicePeers = append(servicePeers, p)
		}
	}
	m.prune(relayPeers, pol.maxRelay(), inMesh)
	m.prune(servicePeers, pol.maxService(), inMesh)
}

// prune closes the connections of the excess peers. Idle ones go first, the longest
// connected first (a flood of idle connections cannot hold the slots newcomers need); then
// busy or just-connected ones, newest first; mesh peers last.
func (m *Manager) prune(ps []peer.ID, limit int, inMesh map[peer.ID]bool) {
	excess := len(ps) - limit
	if excess <= 0 {
		return
	}
	now := time.Now()
	opened := map[peer.ID]time.Time{}
	rank := map[peer.ID]int{}
	for _, p := range ps {
		busy := false
		for _, c := range m.h.Network().ConnsToPeer(p) {
			if o := c.Stat().Opened; o.After(opened[p]) {
				opened[p] = o
			}
			busy = busy || c.Stat().NumStreams > 0
		}
		switch {
		case inMesh[p]:
			rank[p] = 2
		case busy || now.Sub(opened[p]) < settleTime:
			rank[p] = 1
		}
	}
	slices.SortFunc(ps, func(a, b peer.ID) int {
		if rank[a] != rank[b] {
			return rank[a] - rank[b]
		}
		if rank[a] == 0 {
			return opened[a].Compare(opened[b])
		}
		return opened[b].Compare(opened[a])
	})
	for _, p := range ps[:excess] {
		m.log.Debug("pruning peer above connection limit", "peer", p, "limit", limit, "idle", rank[p] == 0)
		m.backOff(p, m.cfg.MaxBackoff)
		_ = m.h.Network().ClosePeer(p)
	}
}

// settleTime is how long a freshly dialed peer counts as pending before it must show up on
// one of our topics.
const settleTime = 5 * time.Second

// feedTopics dials candidates on each subscribed topic that has fewer than Dlo peers, within
// the relay share. Candidates known to relay the topic's shard go first, then those whose
// shards are unknown. Dials run in the background; the loop never waits for them.
func (m *Manager) feedTopics() {
	m.mu.Lock()
	rl, pol := m.relay, m.pol
	dlo := pol.Dlo
	m.mu.Unlock()
	if rl == nil {
		return
	}
	relayCount := 0
	ipCount := map[string]int{}
	for _, p := range m.h.Network().Peers() {
		if m.isRelayPeer(p) {
			relayCount++
		}
		ipCount[m.remoteIP(p)]++
	}
	topics := rl.Topics()
	onTopic := map[peer.ID]bool{}
	have := map[string]int{}
	for _, t := range topics {
		ps := rl.TopicPeers(t)
		have[t] = len(ps)
		for _, p := range ps {
			onTopic[p] = true
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	pending := 0
	for id, r := range m.known {
		if r.dialing || (!onTopic[id] && now.Sub(r.dialedAt) < settleTime && m.h.Network().Connectedness(id) == network.Connected) {
			pending++
		}
	}
	budget := pol.maxRelay() - relayCount - pending
	for _, topic := range topics {
		need := dlo - have[topic] - pending
		if need <= 0 || budget <= 0 {
			continue
		}
		shard, err := message.ParseShard(topic)
		if err != nil {
			continue
		}
		var match, unknown []peer.ID
		for id, r := range m.known {
			if r.bad || r.dialing || now.Before(r.next) || (r.hasCaps && !r.caps.Has(relayCap)) {
				continue
			}
			if m.h.Network().Connectedness(id) == network.Connected {
				continue
			}
			if lim := pol.IPColocationLimit; lim > 0 && m.addrIPCount(id, ipCount) >= lim {
				continue
			}
			switch {
			case r.shards == nil:
				unknown = append(unknown, id)
			case r.shards.Cluster == shard.Cluster && r.shards.Contains(shard.Index):
				match = append(match, id)
			}
		}
		for _, id := range append(match, unknown...) {
			if need <= 0 || budget <= 0 {
				break
			}
			need--
			budget--
			m.known[id].dialing = true
			m.wg.Add(1)
			go m.dial(id)
		}
	}
}

// addrIPCount is how many connected peers share the IP of p's first known address.
func (m *Manager) addrIPCount(p peer.ID, ipCount map[string]int) int {
	for _, a := range m.h.Peerstore().Addrs(p) {
		if ip, err := manet.ToIP(a); err == nil {
			return ipCount[ip.String()]
		}
	}
	return 0
}
