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

	"github.com/wakunode/wakunode/discovery"
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

// startDiscovery sets the peer manager's policy and starts the discovery sources. Every source
// emits into one candidate stream, which one goroutine drains into the peer manager: static
// peer exchange responders, discv5, DNS trees and the peer exchange client. The peer exchange
// service serves what discv5 finds.
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
	candidates := discovery.NewStream(0)
	n.goOwned(func(ctx context.Context) {
		candidates.Run(ctx, func(c discovery.Candidate) { n.peers.AddCandidate(c.Peer, c.Origin, c.Record) })
	})

	var px *peerexchange.Service
	if dc.PeerExchange {
		pc := peerexchange.ServiceConfig{InMesh: n.inMesh, RateLimiter: n.limiter(ratelimit.PeerExchange), Logger: n.log}
		if n.metrics != nil {
			pc.Metrics = n.metrics.PeerExchange()
		}
		px = peerexchange.NewService(n.host, pc)
		px.Start()
		n.onStop(func() error { px.Stop(); return nil })
	}

	var d5 *discv5.Discovery
	if dc.Discv5 {
		var err error
		if d5, err = n.startDiscv5(dc, px, candidates); err != nil {
			return err
		}
	}
	if dc.DNSDiscovery && len(dc.DNSDiscoveryURLs) > 0 {
		c := dnsdisc.NewClient(dnsdisc.Config{NameServer: dc.DNSNameServer, Cluster: n.cfg.ClusterID, Logger: n.log})
		for _, url := range dc.DNSDiscoveryURLs {
			cfg := discovery.DNSConfig{Syncer: c, URL: url, Logger: n.log}
			if n.metrics != nil {
				cfg.Metrics = n.metrics.DNS()
			}
			if d5 != nil {
				cfg.SeedUDP = func(rec *enode.Node) { d5.UDP().AddKnownNode(rec) }
			}
			n.goOwned(func(ctx context.Context) { discovery.SyncDNS(ctx, cfg, candidates) })
		}
	}
	if len(dc.PeerExchangeNodes) > 0 {
		var targets []peer.ID
		for _, a := range dc.PeerExchangeNodes {
			ai, err := peer.AddrInfoFromP2pAddr(a)
			if err != nil {
				return fmt.Errorf("peer exchange node %s: %w", a, err)
			}
			// Straight to the manager, not through the stream: the first poll dials it at once.
			n.peers.AddCandidate(*ai, peers.OriginStatic, nil)
			targets = append(targets, ai.ID)
		}
		cfg := discovery.PeerExchangeConfig{Client: peerexchange.NewClient(n.host, n.cfg.ClusterID),
			Targets: targets, Interval: dc.PeerExchangeInterval, Known: n.peers.Len, Logger: n.log}
		if n.metrics != nil {
			cfg.Metrics = n.metrics.PeerExchangeClient(n.host.Peerstore())
		}
		n.goOwned(func(ctx context.Context) { discovery.PollPeerExchange(ctx, cfg, candidates) })
	}
	return nil
}

func (n *Node) startDiscv5(dc DiscoveryConfig, px *peerexchange.Service, candidates *discovery.Stream) (*discv5.Discovery, error) {
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
			candidates.EmitRecord(info, peers.OriginDiscv5)
			if px != nil {
				px.Add(rec, info)
			}
		},
	}
	if n.metrics != nil {
		cfg.Metrics = n.metrics.Discv5()
	}
	d, err := discv5.Start(cfg)
	if err != nil {
		return nil, err
	}
	n.onStop(d.Close)
	return d, nil
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

// SelectPeer chooses a peer serving proto, on pubsubTopic's shard when it is given (for the
// filter, lightpush and store clients).
func (n *Node) SelectPeer(proto protocol.ID, pubsubTopic string) (peer.ID, error) {
	if !n.ready() || n.peers == nil {
		return "", ErrNotStarted
	}
	return n.peers.SelectPeer(proto, pubsubTopic)
}
