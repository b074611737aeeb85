package node

import (
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/message"
)

// buildENR creates the node's record: waku2 capabilities, ip/tcp, the addresses ip/tcp cannot
// express (ws, wss, dns4, --ext-multiaddr), and the relay shards. Discovery adds the discv5
// UDP port when it starts.
func (n *Node) buildENR(h host.Host) error {
	ip, tcpPort := enrIPPort(h)
	var extra []multiaddr.Multiaddr
	for _, a := range h.Addrs() {
		if isWebsocket(a) || isDNS(a) {
			extra = append(extra, a)
		}
	}
	ln, err := enr.Build(enr.BuildConfig{
		PrivateKey: n.key, IP: ip, AutoUpdateIP: n.cfg.Discovery.Discv5ENRAutoUpdate, TCPPort: tcpPort,
		Multiaddrs: extra, Caps: n.capabilities(), Shards: n.relayShards(), Logger: n.log, Discv5: n.cfg.Discovery.Discv5,
	})
	if err != nil {
		return fmt.Errorf("build ENR: %w", err)
	}
	n.enr = ln
	n.onStop(func() error { ln.Close(); return nil })
	return nil
}

// ENR is the node's record in text form ("enr:...").
func (n *Node) ENR() string {
	if !n.ready() || n.enr == nil {
		return ""
	}
	return n.enr.String()
}

// LocalENR is the node's record (nil before Start).
func (n *Node) LocalENR() *enr.LocalNode {
	if !n.ready() {
		return nil
	}
	return n.enr
}

func (n *Node) capabilities() enr.Capabilities {
	var c enr.Capabilities
	if n.cfg.Relay {
		c |= enr.Relay
	}
	if n.cfg.Store.Enabled {
		c |= enr.Store
		if n.cfg.StoreSync != nil {
			c |= enr.Sync
		}
	}
	if n.cfg.Filter.Enabled {
		c |= enr.Filter
	}
	if n.cfg.Lightpush {
		c |= enr.Lightpush
	}
	return c
}

// relayShards lists the shards of our cluster we relay on, for the ENR and metadata.
func (n *Node) relayShards() *enr.RelayShards {
	idx := n.shardIndices()
	if len(idx) == 0 {
		return nil
	}
	return &enr.RelayShards{Cluster: n.cfg.ClusterID, Shards: idx}
}

func (n *Node) shardIndices() []uint16 {
	var topics []string
	if n.relay != nil {
		topics = n.relay.Topics()
	}
	var out []uint16
	for _, t := range topics {
		if s, err := message.ParseShard(t); err == nil && s.Cluster == n.cfg.ClusterID {
			out = append(out, s.Index)
		}
	}
	slices.Sort(out)
	return out
}

// refreshENRShards bumps the record when the relay subscriptions change.
func (n *Node) refreshENRShards() {
	if n.enr == nil {
		return
	}
	if err := n.enr.SetShards(n.relayShards()); err != nil {
		n.log.Warn("update ENR shards", "err", err)
	}
}

// enrIPPort picks the announced TCP address among the non-websocket IPv4 ones: a public address
// (e.g. --nat=extip) over a private one over loopback.
func enrIPPort(h host.Host) (net.IP, uint16) {
	var best net.IP
	var port uint16
	for _, a := range h.Addrs() {
		if isWebsocket(a) {
			continue
		}
		ipStr, err1 := a.ValueForProtocol(multiaddr.P_IP4)
		pStr, err2 := a.ValueForProtocol(multiaddr.P_TCP)
		if err1 != nil || err2 != nil {
			continue
		}
		ip := net.ParseIP(ipStr)
		p, err := strconv.ParseUint(pStr, 10, 16)
		if ip == nil || err != nil {
			continue
		}
		if best == nil || ipRank(ip) > ipRank(best) {
			best, port = ip, uint16(p)
		}
	}
	return best, port
}

func isWebsocket(a multiaddr.Multiaddr) bool {
	for _, c := range a {
		switch c.Protocol().Code {
		case multiaddr.P_WS, multiaddr.P_WSS:
			return true
		}
	}
	return false
}

func isDNS(a multiaddr.Multiaddr) bool {
	for _, c := range a {
		switch c.Protocol().Code {
		case multiaddr.P_DNS, multiaddr.P_DNS4, multiaddr.P_DNS6, multiaddr.P_DNSADDR:
			return true
		}
	}
	return false
}

func ipRank(ip net.IP) int {
	switch {
	case ip.IsLoopback():
		return 0
	case ip.IsPrivate() || ip.IsLinkLocalUnicast():
		return 1
	}
	return 2
}
