// Package node composes a Waku v2 node from one Config: the libp2p host, relay, the message bus
// and the protocol services. It wires and owns lifecycle; protocol logic lives in the protocol
// packages.
package node

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	libp2pmetrics "github.com/libp2p/go-libp2p/core/metrics"
	"log/slog"
	"strings"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/metadata"
	"github.com/wakunode/wakunode/metrics"
	"github.com/wakunode/wakunode/peers"
	"github.com/wakunode/wakunode/relay"
	"github.com/wakunode/wakunode/sharding"
	"github.com/wakunode/wakunode/store"
)

// Errors the node reports to its callers (REST maps them to status codes).
var (
	ErrNotStarted     = errors.New("node is not started")
	ErrRelayDisabled  = errors.New("relay is not mounted")
	ErrNoAutosharding = message.ErrNoPubsubTopic // the validation path's refusal
	ErrNotSubscribed  = errors.New("not subscribed to pubsub topic")
	ErrWrongCluster   = message.ErrWrongCluster
	ErrAlreadyStarted = errors.New("node is already started")
)

// Node is a running Waku v2 node.
type Node struct {
	cfg  Config
	log  *slog.Logger
	key  *ecdsa.PrivateKey
	bus  *bus
	auto *sharding.Autosharding

	// mu guards state. The component fields below are written only by Start, before the state
	// leaves stateStarting, and read by the getters only after it has (see ready).
	mu        sync.RWMutex
	state     lifecycle
	startDone chan struct{} // closed when Start's work ends, successfully or not
	stopDone  chan struct{} // closed when Stop has torn everything down

	host    host.Host
	relay   *relay.Relay
	peers   *peers.Manager
	gater   *peers.Gater // the host's connection gater, run by the peer manager
	metrics *metrics.Registry
	enr     *enr.LocalNode

	metaSvc         *metadata.Service
	metaClient      *metadata.Client
	archive         *archive.Archive
	filterSvc       *filter.Service
	storeSvc        *store.Service
	storeClient     *store.Client
	filterClient    *filter.Client
	lightpushClient *lightpush.Client
	acct            *Accounting    // nil when --swap is off
	peerMeta        sync.Map       // peer.ID → metadata.Info from the connection check
	stops           []func() error // run in reverse order by Stop

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks the config; Start brings the node up.
func New(cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	n := &Node{cfg: cfg, log: cfg.Logger, bus: newBus(), startDone: make(chan struct{}), stopDone: make(chan struct{})}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if cfg.NumShardsInNetwork > 0 {
		n.auto = &sharding.Autosharding{Cluster: cfg.ClusterID, NumShards: cfg.NumShardsInNetwork}
	}
	if _, err := natPortMapping(cfg.NAT); err != nil {
		return nil, err
	}
	if strings.HasPrefix(cfg.NAT, "extip:") && extIP(cfg.NAT) == nil {
		return nil, fmt.Errorf("nat %q: not an IP address", cfg.NAT)
	}
	for _, s := range cfg.Shards {
		if s > message.MaxShardIndex {
			return nil, fmt.Errorf("shard %d exceeds %d", s, message.MaxShardIndex)
		}
	}
	if cfg.StoreSync != nil && !cfg.Store.Enabled {
		return nil, errors.New("store sync needs the store (--store)")
	}
	for _, ct := range cfg.ContentTopics {
		if n.auto == nil {
			return nil, fmt.Errorf("content topic %s: %w", ct, ErrNoAutosharding)
		}
		if _, err := n.auto.Shard(ct); err != nil {
			return nil, fmt.Errorf("content topic: %w", err)
		}
	}
	return n, nil
}

func (n *Node) start(ctx context.Context) error {
	key := n.cfg.NodeKey
	if key == nil {
		var err error
		if key, err = loadOrCreateKey(n.cfg.DataDir); err != nil {
			return err
		}
	}
	n.key = key
	lk, err := libp2pKey(key)
	if err != nil {
		return err
	}
	var bandwidth libp2pmetrics.Reporter
	if n.cfg.Registerer != nil {
		n.metrics = metrics.New(n.cfg.Registerer, n.cfg.Version)
		bandwidth = n.metrics.ServiceBytes()
	}
	h, gater, err := newHost(n.cfg, lk, bandwidth)
	if err != nil {
		return err
	}
	n.host, n.gater = h, gater
	n.onStop(h.Close)
	if n.metrics != nil {
		n.metrics.WatchHost(h)
	}

	if err := n.startAccounting(ctx); err != nil {
		return fmt.Errorf("accounting: %w", err)
	}
	if n.cfg.Relay {
		rc := relay.Config{Rules: n.cfg.Rules, Params: n.cfg.RelayParams, Logger: n.log, Clusters: []uint16{n.cfg.ClusterID}}
		rc.ByteAccounting = meter[relay.ByteAccounting](n.acct, accounting.Relay, false)
		if n.metrics != nil {
			rc.Metrics = n.metrics.Relay()
		}
		r, err := relay.New(h, rc, n.bus)
		if err != nil {
			return fmt.Errorf("relay: %w", err)
		}
		n.relay = r
		n.onStop(r.Close)
		for _, t := range n.initialTopics() {
			if err := r.Subscribe(t); err != nil {
				return fmt.Errorf("subscribe %s: %w", t, err)
			}
		}
	}
	if err := n.startServices(ctx); err != nil {
		return err
	}
	if err := n.buildENR(h); err != nil {
		return err
	}
	if err := n.startPeers(); err != nil {
		return err
	}
	if err := n.startDiscovery(); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	if n.cfg.PeerPersistence {
		n.startPeerPersistence()
	}
	if n.cfg.Store.Resume {
		n.startResume()
	}
	n.log.Info("node started", "peerId", h.ID(), "addrs", p2pAddrs(h))
	return nil
}

// initialTopics is the union of --shard and the shards of --content-topic; with neither, as
// in nwaku, every shard of the network (NumShardsInNetwork, at least shard 0).
func (n *Node) initialTopics() []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, s := range n.cfg.Shards {
		add(message.Shard{Cluster: n.cfg.ClusterID, Index: s}.PubsubTopic())
	}
	for _, ct := range n.cfg.ContentTopics {
		if s, err := n.auto.Shard(ct); err == nil {
			add(s.PubsubTopic())
		}
	}
	if len(out) == 0 {
		for i := uint16(0); i < max(1, n.cfg.NumShardsInNetwork); i++ {
			add(message.Shard{Cluster: n.cfg.ClusterID, Index: i}.PubsubTopic())
		}
	}
	return out
}

// Host is the libp2p host (nil before Start).
func (n *Node) Host() host.Host {
	if !n.ready() {
		return nil
	}
	return n.host
}

// ID is the node's peer id.
func (n *Node) ID() peer.ID { return n.Host().ID() }

// ClusterID is the cluster the node belongs to.
func (n *Node) ClusterID() uint16 { return n.cfg.ClusterID }

// ListenAddrs are the announced addresses, each ending in /p2p/<id>.
func (n *Node) ListenAddrs() []multiaddr.Multiaddr {
	h := n.Host()
	if h == nil {
		return nil
	}
	return p2pAddrs(h)
}

func p2pAddrs(h host.Host) []multiaddr.Multiaddr {
	p2p, err := multiaddr.NewComponent("p2p", h.ID().String())
	if err != nil {
		return nil
	}
	var out []multiaddr.Multiaddr
	for _, a := range h.Addrs() {
		out = append(out, a.Encapsulate(p2p))
	}
	return out
}

// Connect dials a multiaddr that ends in /p2p/<id>.
func (n *Node) Connect(ctx context.Context, addr multiaddr.Multiaddr) error {
	h := n.Host()
	if h == nil {
		return ErrNotStarted
	}
	info, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return fmt.Errorf("peer address %s: %w", addr, err)
	}
	if err := h.Connect(ctx, *info); err != nil {
		return fmt.Errorf("connect %s: %w", addr, err)
	}
	return nil
}

// PubsubTopicFor resolves the topic a message goes to: the given one, or by autosharding.
func (n *Node) PubsubTopicFor(pubsubTopic, contentTopic string) (string, error) {
	if pubsubTopic != "" {
		return pubsubTopic, nil
	}
	if n.auto == nil {
		return "", ErrNoAutosharding
	}
	s, err := n.auto.Shard(contentTopic)
	if err != nil {
		return "", err
	}
	return s.PubsubTopic(), nil
}

// Publish is n.Relay().Publish: the application's door into relay.
func (n *Node) Publish(ctx context.Context, pubsubTopic string, m *pb.WakuMessage) (*message.Envelope, error) {
	return n.Relay().Publish(ctx, pubsubTopic, m)
}

func (n *Node) relayOrErr() (*relay.Relay, error) {
	if !n.ready() || n.host == nil {
		return nil, ErrNotStarted
	}
	if n.relay == nil {
		return nil, ErrRelayDisabled
	}
	return n.relay, nil
}

// Subscribe delivers every accepted message for which match returns true (nil = all) on a
// channel of the given capacity. A reader that falls behind loses messages (counted).
func (n *Node) Subscribe(match func(*message.Envelope) bool, capacity int) *Subscription {
	if capacity <= 0 {
		capacity = 1024
	}
	ch := make(chan *message.Envelope, capacity)
	s := &Subscription{C: ch, ch: ch, match: match}
	s.remove = n.bus.add(s)
	return s
}

// AddConsumer attaches a service (archive, filter, REST cache) to the message bus.
func (n *Node) AddConsumer(c Consumer) (remove func()) { return n.bus.add(c) }
