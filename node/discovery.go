package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/discovery/discv5"
	"github.com/wakunode/wakunode/discovery/dnsdisc"
	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/peerexchange"
	"github.com/wakunode/wakunode/peers"
	"github.com/wakunode/wakunode/ratelimit"
)

// DiscoveryConfig configures ambient peer discovery (discv5, DNS, peer exchange) and the peer
// manager's limits. Start from DefaultDiscoveryConfig; Config.MaxConnections is the total.
type DiscoveryConfig struct {
	// RelayRatio:ServiceRatio splits MaxConnections (--relay-service-ratio, 60:40).
	RelayRatio, ServiceRatio int
	// MaxRelayPeers overrides the relay share when > 0 (--max-relay-peers).
	MaxRelayPeers int
	// IPColocationLimit is the most peers sharing one IP (--ip-colocation-limit, nwaku's 5);
	// 0 removes the limit.
	IPColocationLimit int
	// PeerStoreCapacity bounds the remembered candidates (--peer-store-capacity; 0 = 1000).
	PeerStoreCapacity int

	// Discv5 enables discv5 (--discv5-discovery) on Discv5UDPPort (--discv5-udp-port, 9000;
	// 0 picks a free port), bootstrapped from Discv5Bootnodes (--discv5-bootstrap-node, ENRs).
	Discv5          bool
	Discv5UDPPort   int
	Discv5Bootnodes []string
	// Discv5TableIPLimit and Discv5BucketIPLimit (--discv5-table-ip-limit 10,
	// --discv5-bucket-ip-limit 2) are accepted for compatibility: go-ethereum's table applies
	// exactly these limits (per /24) as constants and does not let us change them.
	Discv5TableIPLimit, Discv5BucketIPLimit int
	// Discv5ENRAutoUpdate (--discv5-enr-auto-update) lets discv5 set the record's ip/udp from
	// what its peers agree they see (the configured address becomes a fallback).
	Discv5ENRAutoUpdate bool

	// DNSDiscovery (--dns-discovery) syncs DNSDiscoveryURLs (--dns-discovery-url, enrtree://)
	// through DNSNameServer (--dns-addrs-name-server; empty = system resolver).
	DNSDiscovery     bool
	DNSDiscoveryURLs []string
	DNSNameServer    string

	// PeerExchange serves /vac/waku/peer-exchange/2.0.0-alpha1 (--peer-exchange, default on)
	// from the records discv5 finds.
	PeerExchange bool
	// PeerExchangeNodes are asked for peers (--peer-exchange-node), every
	// PeerExchangeInterval (default 1 min; sooner while we know few peers).
	PeerExchangeNodes    []multiaddr.Multiaddr
	PeerExchangeInterval time.Duration
}

// DefaultDiscoveryConfig returns nwaku's defaults (cli.md): discv5 and DNS off, peer exchange
// served, 60:40, colocation limit 5, discv5 on UDP 9000 with limits 10 and 2.
func DefaultDiscoveryConfig() DiscoveryConfig {
	return DiscoveryConfig{
		RelayRatio: 60, ServiceRatio: 40,
		IPColocationLimit:  peers.DefaultColocationLimit,
		Discv5UDPPort:      discv5.DefaultUDPPort,
		Discv5TableIPLimit: 10, Discv5BucketIPLimit: 2,
		PeerExchange: true,
	}
}

// startDiscovery sets the peer manager's policy and starts the discovery sources that feed it:
// peer exchange service, discv5, DNS discovery and the peer exchange client.
func (n *Node) startDiscovery() error {
	dc := n.cfg.Discovery
	n.peers.SetPolicy(peers.Policy{
		Cluster: n.cfg.ClusterID, MaxConnections: n.cfg.MaxConnections,
		RelayRatio: dc.RelayRatio, ServiceRatio: dc.ServiceRatio, MaxRelayPeers: dc.MaxRelayPeers,
		IPColocationLimit: dc.IPColocationLimit, PeerStoreCapacity: dc.PeerStoreCapacity,
		Dlo: n.cfg.RelayParams.Dlo,
	})
	if n.relay != nil {
		n.peers.SetRelay(n.relay, n.cfg.RelayParams.Dlo)
	}

	var px *peerexchange.Service
	if dc.PeerExchange {
		px = peerexchange.NewService(n.host, peerexchange.ServiceConfig{
			InMesh: n.inMesh, RateLimiter: n.limiter(ratelimit.PeerExchange), Logger: n.log})
		px.Start()
		n.onStop(func() error { px.Stop(); return nil })
	}

	var d5 *discv5.Discovery
	if dc.Discv5 {
		var err error
		if d5, err = n.startDiscv5(dc, px); err != nil {
			return err
		}
	}
	if dc.DNSDiscovery && len(dc.DNSDiscoveryURLs) > 0 {
		c := dnsdisc.NewClient(dnsdisc.Config{NameServer: dc.DNSNameServer, Cluster: n.cfg.ClusterID, Logger: n.log})
		for _, url := range dc.DNSDiscoveryURLs {
			n.goOwned(func(ctx context.Context) { n.syncDNS(ctx, c, url, d5) })
		}
	}
	if len(dc.PeerExchangeNodes) > 0 {
		var targets []peer.ID
		for _, a := range dc.PeerExchangeNodes {
			ai, err := peer.AddrInfoFromP2pAddr(a)
			if err != nil {
				return fmt.Errorf("peer exchange node %s: %w", a, err)
			}
			n.peers.AddCandidate(*ai, peers.OriginStatic, nil)
			targets = append(targets, ai.ID)
		}
		interval := dc.PeerExchangeInterval
		if interval <= 0 {
			interval = time.Minute
		}
		pc := peerexchange.NewClient(n.host, n.cfg.ClusterID)
		n.goOwned(func(ctx context.Context) { n.peerExchangeLoop(ctx, pc, targets, interval) })
	}
	return nil
}

func (n *Node) startDiscv5(dc DiscoveryConfig, px *peerexchange.Service) (*discv5.Discovery, error) {
	if n.enr == nil {
		return nil, errors.New("discv5 needs the node's ENR")
	}
	var boot []*enode.Node
	for _, s := range dc.Discv5Bootnodes {
		b, err := enr.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("discv5 bootstrap node: %w", err)
		}
		boot = append(boot, b)
	}
	cfg := discv5.Config{
		PrivateKey: n.key, LocalNode: n.enr.Enode(), UDPPort: dc.Discv5UDPPort,
		ListenIP: net.ParseIP(n.cfg.ListenAddress), Bootnodes: boot, Cluster: n.cfg.ClusterID, Logger: n.log,
		Sink: func(rec *enode.Node, info enr.Info) {
			n.addCandidate(info, peers.OriginDiscv5)
			if px != nil {
				px.Add(rec, info)
			}
		},
	}
	d, err := discv5.Start(cfg)
	if err != nil {
		return nil, err
	}
	n.onStop(d.Close)
	return d, nil
}

// addCandidate hands a record's peer to the manager.
func (n *Node) addCandidate(info enr.Info, origin string) {
	ais, err := peer.AddrInfosFromP2pAddrs(info.Addrs...)
	if err != nil || len(ais) == 0 {
		return
	}
	for _, ai := range ais {
		if ai.ID == info.PeerID {
			n.peers.AddCandidate(ai, origin, &info)
		}
	}
}

// inMesh reports whether p is in our relay mesh on any topic (peer exchange hands those out last).
func (n *Node) inMesh(p peer.ID) bool {
	if n.relay == nil {
		return false
	}
	for _, t := range n.relay.Topics() {
		for _, q := range n.relay.MeshPeers(t) {
			if q == p {
				return true
			}
		}
	}
	return false
}

// syncDNS syncs one tree until it succeeds, backing off between failures, and feeds the
// manager (and discv5, with the records that have udp).
func (n *Node) syncDNS(ctx context.Context, c *dnsdisc.Client, url string, d5 *discv5.Discovery) {
	wait := 5 * time.Second
	for {
		nodes, err := c.Sync(ctx, url)
		if err == nil {
			for _, dn := range nodes {
				n.addCandidate(dn.Info, peers.OriginDNS)
				if d5 != nil && dn.HasUDP {
					d5.UDP().AddKnownNode(dn.Record)
				}
			}
			n.log.Info("dns discovery", "url", url, "nodes", len(nodes))
			return
		}
		n.log.Warn("dns discovery failed", "url", url, "retryIn", wait, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Minute)
	}
}

// peerExchangeLoop asks the configured responders for peers: at once, then every interval
// (every 5 s while the manager knows fewer than minKnown peers).
func (n *Node) peerExchangeLoop(ctx context.Context, c *peerexchange.Client, targets []peer.ID, interval time.Duration) {
	const minKnown = 10
	for {
		for _, p := range targets {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			got, err := c.Request(rctx, p, minKnown)
			cancel()
			if err != nil {
				n.log.Debug("peer exchange request", "peer", p, "err", err)
				continue
			}
			for _, pe := range got {
				n.addCandidate(pe.Info, peers.OriginPeerExchange)
			}
		}
		wait := interval
		if n.peers.Len() < minKnown+len(targets) {
			wait = min(wait, 5*time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// SelectPeer chooses a peer serving proto, on pubsubTopic's shard when it is given (for the
// filter, lightpush and store clients).
func (n *Node) SelectPeer(proto protocol.ID, pubsubTopic string) (peer.ID, error) {
	if !n.ready() || n.peers == nil {
		return "", ErrNotStarted
	}
	return n.peers.SelectPeer(proto, pubsubTopic)
}
