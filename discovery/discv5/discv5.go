// Package discv5 runs Waku's discv5 (33/WAKU2-DISCV5): go-ethereum's discv5 with the
// "d5waku" protocol ID, a random walk over the DHT, and a filter that keeps only Waku nodes
// (waku2 != 0) of our cluster, optionally on our shards. Accepted nodes go to a sink (the peer
// manager).
package discv5

import (
	"context"
	"crypto/ecdsa"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/p2p/discover"
	"github.com/ethereum/go-ethereum/p2p/enode"

	"github.com/wakunode/wakunode/enr"
)

// ProtocolID is Waku's discv5 static-header protocol ID (enr.md §33/WAKU2-DISCV5).
var ProtocolID = [6]byte{'d', '5', 'w', 'a', 'k', 'u'}

// DefaultUDPPort is --discv5-udp-port's default.
const DefaultUDPPort = 9000

// DefaultWalkInterval is nwaku's pause between two random lookups (its discv5 search loop
// looks up one random target, then sleeps 5 s).
const DefaultWalkInterval = 5 * time.Second

// emptyRetry is the pause after a lookup that found nobody: the table is still filling from
// the bootnodes, and a node should find its first peers in seconds.
const emptyRetry = time.Second

// pingInterval paces the table's liveness pings: go-ethereum pings a node of its "fast" list
// every PingInterval/2 and of its "slow" list every 1.5 PingInterval on average. Its default
// of 3 s is about one ping a second; 10 s is one every 4 s, nwaku's pace (nim-eth revalidates
// one random node after a random wait of up to 10 s).
const pingInterval = 10 * time.Second

// Sink receives each accepted node: its record and its decoded Waku fields. It must not block.
type Sink func(n *enode.Node, info enr.Info)

// Metrics counts discovery results; nil-safe.
type Metrics interface {
	// NodeSeen counts a node yielded by the random walk, accepted or not.
	NodeSeen(accepted bool)
}

// Config configures a Discovery.
type Config struct {
	// PrivateKey is the node key (required; the same key as the libp2p identity).
	PrivateKey *ecdsa.PrivateKey
	// LocalNode is the node's record (required): enr.LocalNode.Enode(). Discovery sets its udp
	// port to the bound port.
	LocalNode *enode.LocalNode
	// ListenIP defaults to 0.0.0.0; UDPPort 0 picks a free port (use DefaultUDPPort).
	ListenIP net.IP
	UDPPort  int
	// Bootnodes seed the table (--discv5-bootstrap-node).
	Bootnodes []*enode.Node
	// Cluster is ours; Shards, when non-empty, keeps only nodes relaying at least one of them.
	Cluster uint16
	Shards  []uint16
	// Sink receives accepted nodes; nil makes the walk a no-op (serve-only discv5).
	Sink Sink
	// NoWalk disables the random walk: the node only answers others (and can Lookup).
	NoWalk bool
	// WalkInterval is the pause between two random lookups (default DefaultWalkInterval).
	WalkInterval time.Duration
	Metrics      Metrics
	Logger       *slog.Logger
}

// Discovery is a running discv5 node. Close stops it.
type Discovery struct {
	cfg  Config
	log  *slog.Logger
	conn *countingConn
	udp  *discover.UDPv5

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Start binds the UDP socket, joins the DHT through the bootnodes and starts the random walk.
func Start(cfg Config) (*Discovery, error) {
	if cfg.PrivateKey == nil || cfg.LocalNode == nil {
		return nil, errors.New("discv5: private key and local node are required")
	}
	if cfg.WalkInterval <= 0 {
		cfg.WalkInterval = DefaultWalkInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ip := cfg.ListenIP
	if ip == nil {
		ip = net.IPv4zero
	}
	uconn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: cfg.UDPPort})
	if err != nil {
		return nil, fmt.Errorf("discv5: listen udp %s:%d: %w", ip, cfg.UDPPort, err)
	}
	conn := &countingConn{UDPConn: uconn}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	cfg.LocalNode.SetFallbackUDP(port)
	if ip.IsLoopback() || !ip.IsUnspecified() {
		cfg.LocalNode.SetFallbackIP(ip)
	}
	pid := ProtocolID
	udp, err := discover.ListenV5(conn, cfg.LocalNode, discover.Config{
		PrivateKey:   cfg.PrivateKey,
		Bootnodes:    cfg.Bootnodes,
		V5ProtocolID: &pid,
		PingInterval: pingInterval,
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("discv5: %w", err)
	}
	d := &Discovery{cfg: cfg, log: cfg.Logger, conn: conn, udp: udp}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	if cfg.Sink != nil && !cfg.NoWalk {
		d.wg.Add(1)
		go d.walk()
	}
	d.log.Info("discv5 started", "udp", conn.LocalAddr(), "enr", udp.Self().String(), "bootnodes", len(cfg.Bootnodes))
	return d, nil
}

// walk looks up a random target every WalkInterval (emptyRetry while the table is still
// empty) and hands every new (or updated) accepted record to the sink. It replaces
// go-ethereum's RandomNodes iterator, which starts the next lookup as soon as the last one
// ends: on a responsive network that is a lookup every few milliseconds, 40 KB/s of UDP each
// way for an idle node (BenchmarkIdleTraffic).
func (d *Discovery) walk() {
	defer d.wg.Done()
	seen := map[enode.ID]uint64{}
	next := time.NewTimer(0)
	defer next.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-next.C:
		}
		var target enode.ID
		_, _ = crand.Read(target[:])
		found := d.udp.Lookup(target)
		for _, n := range found {
			info, ok := Accept(n, d.cfg.Cluster, d.cfg.Shards)
			if d.cfg.Metrics != nil {
				d.cfg.Metrics.NodeSeen(ok)
			}
			if !ok {
				continue
			}
			if seq, known := seen[n.ID()]; known && seq >= n.Seq() {
				continue
			}
			if len(seen) > 10000 {
				clear(seen)
			}
			seen[n.ID()] = n.Seq()
			d.log.Debug("discv5 found waku node", "peer", info.PeerID, "caps", info.Caps)
			d.cfg.Sink(n, info)
		}
		if len(found) == 0 {
			next.Reset(emptyRetry)
		} else {
			next.Reset(d.cfg.WalkInterval)
		}
	}
}

// Accept applies Waku's discv5 filter: a secp256k1 record with waku2 != 0, and, when it names
// relay shards, our cluster (and at least one of shards, when shards is non-empty). Nodes of
// another cluster are never accepted.
func Accept(n *enode.Node, cluster uint16, shards []uint16) (enr.Info, bool) {
	info, err := enr.Decode(n)
	if err != nil || info.Caps == 0 || len(info.Addrs) == 0 {
		return info, false
	}
	if info.Shards == nil {
		return info, true
	}
	if info.Shards.Cluster != cluster {
		return info, false
	}
	if len(shards) == 0 {
		return info, true
	}
	for _, s := range shards {
		if info.Shards.Contains(s) {
			return info, true
		}
	}
	return info, false
}

// Self is our current record.
func (d *Discovery) Self() *enode.Node { return d.udp.Self() }

// LocalAddr is the bound UDP address.
func (d *Discovery) LocalAddr() *net.UDPAddr { return d.conn.LocalAddr().(*net.UDPAddr) }

// Table lists the nodes in our DHT table, Waku or not, of any cluster.
func (d *Discovery) Table() []*enode.Node { return d.udp.AllNodes() }

// UDP exposes go-ethereum's discv5 instance (lookups, pings) for tools and measurements.
func (d *Discovery) UDP() *discover.UDPv5 { return d.udp }

// Close stops the walk and the UDP listener and waits for the goroutines.
func (d *Discovery) Close() error {
	d.once.Do(func() {
		d.cancel()
		d.udp.Close()
		d.wg.Wait()
	})
	return nil
}
