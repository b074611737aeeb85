package wakuv1

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	gethlog "github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/ethereum/go-ethereum/p2p/nat"
)

// Protocol constants (6/WAKU1).
const (
	ProtocolName       = "waku"
	ProtocolVersion    = 1
	NumberOfCodes      = 128
	DefaultMinimumPoW  = 0.2
	DefaultMaxEnvelope = 1 << 20         // status-go DefaultMaxMessageSize
	DefaultMaxPacket   = 1_500_000       // RLPx packet limit checked before decoding
	peerDefaultPoW     = 0.001           // a peer that advertises no PoW requirement (status-go)
	handshakeTimeout   = 5 * time.Second // nwaku
)

// Config is a v1 node's configuration; DefaultConfig fills the defaults.
type Config struct {
	// PrivateKey is the devp2p node key; nil generates one.
	PrivateKey *ecdsa.PrivateKey
	// ListenAddr is the RLPx TCP address, e.g. "0.0.0.0:30303"; "" does not listen.
	ListenAddr string
	// NAT maps the listen port through the gateway (go-ethereum p2p/nat); nil does nothing.
	NAT nat.Interface
	// StaticNodes are kept connected: go-ethereum's dial scheduler redials them when they drop.
	StaticNodes []*enode.Node
	MaxPeers    int
	// Name is the devp2p client id sent in the hello.
	Name string

	// MinPoW is our PoW requirement, advertised and enforced.
	MinPoW float64
	// Topics, when non-nil, is our topic interest (advertised, enforced); nil is a full node
	// (full bloom).
	Topics []Topic
	// LightNode advertises that we do not forward others' envelopes.
	LightNode bool

	MaxEnvelopeSize int // bytes: 20 + len(data)
	MaxPacketSize   int
	SyncAllowance   time.Duration // how far an envelope's sent time may be in the future

	// Pool bounds: a full pool refuses new envelopes (counted as pool_full).
	PoolEntries int
	PoolBytes   int

	// PeerEnvelopeRate and PeerByteRate bound what one peer may send us per second; a peer
	// above either (after a burst of twice the rate) is disconnected.
	PeerEnvelopeRate float64
	PeerByteRate     float64

	// TransmissionCycle is how often peers are sent what they have not seen; new envelopes
	// are also sent at once.
	TransmissionCycle time.Duration
	ExpirationCycle   time.Duration

	Logger *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// DefaultConfig returns status-go's and nwaku's defaults.
func DefaultConfig() Config {
	return Config{
		ListenAddr:        "0.0.0.0:30303",
		MaxPeers:          50,
		Name:              "wakunode v1 bridge",
		MinPoW:            DefaultMinimumPoW,
		MaxEnvelopeSize:   DefaultMaxEnvelope,
		MaxPacketSize:     DefaultMaxPacket,
		SyncAllowance:     DefaultSyncAllowance * time.Second,
		PoolEntries:       100_000,
		PoolBytes:         256 << 20,
		PeerEnvelopeRate:  1000,
		PeerByteRate:      10 << 20,
		TransmissionCycle: 300 * time.Millisecond,
		ExpirationCycle:   time.Second,
	}
}

// Node is a Waku v1 peer.
type Node struct {
	cfg     Config
	log     *slog.Logger
	srv     *p2p.Server
	pool    *pool
	metrics *Metrics

	mu      sync.RWMutex
	own     StatusOptions      // what we advertise; changed by SetPoW/SetTopics
	topics  map[Topic]struct{} // own.TopicInterest as a set; nil without topic interest
	peers   map[enode.ID]*peer
	subs    map[*Subscription]struct{}
	running bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New validates cfg and builds the node; Start opens the server.
func New(cfg Config) (*Node, error) {
	def := DefaultConfig()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	setDefault(&cfg.MaxPeers, def.MaxPeers)
	setDefault(&cfg.MaxEnvelopeSize, def.MaxEnvelopeSize)
	setDefault(&cfg.MaxPacketSize, def.MaxPacketSize)
	setDefault(&cfg.PoolEntries, def.PoolEntries)
	setDefault(&cfg.PoolBytes, def.PoolBytes)
	setDefault(&cfg.SyncAllowance, def.SyncAllowance)
	setDefault(&cfg.TransmissionCycle, def.TransmissionCycle)
	setDefault(&cfg.ExpirationCycle, def.ExpirationCycle)
	setDefault(&cfg.PeerEnvelopeRate, def.PeerEnvelopeRate)
	setDefault(&cfg.PeerByteRate, def.PeerByteRate)
	if cfg.Name == "" {
		cfg.Name = def.Name
	}
	if math.IsNaN(cfg.MinPoW) || math.IsInf(cfg.MinPoW, 0) || cfg.MinPoW < 0 {
		return nil, fmt.Errorf("v1 PoW requirement %v: must be a finite number ≥ 0", cfg.MinPoW)
	}
	if len(cfg.Topics) > MaxTopicInterest {
		return nil, fmt.Errorf("v1 topic interest: %d topics exceed %d", len(cfg.Topics), MaxTopicInterest)
	}
	if cfg.MaxEnvelopeSize > cfg.MaxPacketSize {
		return nil, fmt.Errorf("v1 max envelope size %d exceeds the max packet size %d", cfg.MaxEnvelopeSize, cfg.MaxPacketSize)
	}
	if cfg.PrivateKey == nil {
		k, err := crypto.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("v1 node key: %w", err)
		}
		cfg.PrivateKey = k
	}
	n := &Node{cfg: cfg, log: cfg.Logger, pool: newPool(cfg.PoolEntries, cfg.PoolBytes),
		peers: map[enode.ID]*peer{}, subs: map[*Subscription]struct{}{}}
	n.metrics = newMetrics(n.pool, cfg.Logger)
	pow, light, conf := cfg.MinPoW, cfg.LightNode, false
	n.own = StatusOptions{PoWRequirement: &pow, LightNode: &light, ConfirmationsEnabled: &conf}
	if cfg.Topics != nil {
		n.own.TopicInterest = append([]Topic{}, cfg.Topics...)
		n.topics = topicSet(cfg.Topics)
	} else {
		full := FullBloom()
		n.own.BloomFilter = &full
	}
	return n, nil
}

func topicSet(ts []Topic) map[Topic]struct{} {
	m := make(map[Topic]struct{}, len(ts))
	for _, t := range ts {
		m[t] = struct{}{}
	}
	return m
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Metrics returns the node's collectors.
func (n *Node) Metrics() *Metrics { return n.metrics }

// Start opens the RLPx server and the expiry loop.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.running {
		return errors.New("v1 node already started")
	}
	run := func(p *p2p.Peer, rw p2p.MsgReadWriter) error { return n.runPeer(p, rw) }
	n.srv = &p2p.Server{Config: p2p.Config{
		PrivateKey:  n.cfg.PrivateKey,
		MaxPeers:    n.cfg.MaxPeers,
		NoDiscovery: true,
		Name:        n.cfg.Name,
		StaticNodes: n.cfg.StaticNodes,
		ListenAddr:  n.cfg.ListenAddr,
		NAT:         n.cfg.NAT,
		NoDial:      false,
		Logger:      gethlog.NewLogger(n.cfg.Logger.With("component", "devp2p").Handler()),
		Protocols: []p2p.Protocol{{
			Name: ProtocolName, Version: ProtocolVersion, Length: NumberOfCodes, Run: run,
			PeerInfo: func(id enode.ID) any { return n.peerInfo(id) },
		}},
	}}
	if n.cfg.ListenAddr == "" {
		n.srv.Config.ListenAddr = ""
	}
	if err := n.srv.Start(); err != nil {
		return fmt.Errorf("start v1 devp2p server: %w", err)
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.running = true
	n.wg.Add(1)
	go n.expireLoop()
	n.log.Info("Waku v1 node listening", "enode", n.srv.Self().URLv4(), "addr", n.srv.ListenAddr)
	return nil
}

// Stop closes every peer and the server and waits for the node's goroutines.
func (n *Node) Stop() {
	n.mu.Lock()
	if !n.running {
		n.mu.Unlock()
		return
	}
	n.running = false
	n.cancel()
	srv := n.srv
	n.mu.Unlock()
	srv.Stop() // waits for every peer's Run, which waits for its sender
	n.wg.Wait()
	n.mu.Lock()
	for s := range n.subs {
		s.closeLocked()
	}
	n.mu.Unlock()
}

// Self is our enode (with the bound listen port).
func (n *Node) Self() *enode.Node { return n.srv.Self() }

// AddPeer dials node and keeps it connected (a static peer).
func (n *Node) AddPeer(node *enode.Node) { n.srv.AddPeer(node) }

func (n *Node) expireLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.ExpirationCycle)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
			n.pool.expire(n.cfg.Now().Unix())
		}
	}
}

// ownOptions returns a copy of what we advertise.
func (n *Node) ownOptions() StatusOptions {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.own
}

// SetPoW changes our PoW requirement and tells every peer (Status Update).
func (n *Node) SetPoW(pow float64) error {
	if math.IsNaN(pow) || math.IsInf(pow, 0) || pow < 0 {
		return fmt.Errorf("v1 PoW requirement %v: must be a finite number ≥ 0", pow)
	}
	n.mu.Lock()
	n.own.PoWRequirement = &pow
	n.mu.Unlock()
	return n.broadcastUpdate(&StatusOptions{PoWRequirement: &pow})
}

// SetTopics changes our topic interest (nil: full node, full bloom) and tells every peer.
func (n *Node) SetTopics(topics []Topic) error {
	if len(topics) > MaxTopicInterest {
		return fmt.Errorf("v1 topic interest: %d topics exceed %d", len(topics), MaxTopicInterest)
	}
	u := &StatusOptions{}
	if topics != nil {
		u.TopicInterest = append([]Topic{}, topics...)
	} else {
		full := FullBloom()
		u.BloomFilter = &full
	}
	n.mu.Lock()
	n.own.merge(u)
	n.topics = nil
	if topics != nil {
		n.topics = topicSet(topics)
	}
	n.mu.Unlock()
	return n.broadcastUpdate(u)
}

func (n *Node) broadcastUpdate(u *StatusOptions) error {
	raw, err := u.EncodeRLP()
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range n.peerList() {
		errs = append(errs, p.sendRaw(statusUpdateCode, raw))
	}
	return errors.Join(errs...)
}

func (n *Node) peerList() []*peer {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*peer, 0, len(n.peers))
	for _, p := range n.peers {
		out = append(out, p)
	}
	return out
}

// Post validates a local envelope (sealed by the caller), adds it to the pool and sends it to
// the peers that want it. Local subscribers are not told about it. ErrDuplicate means the
// pool already holds the identical envelope.
func (n *Node) Post(e *Envelope) error {
	raw, err := e.Encode()
	if err != nil {
		return err
	}
	env, err := DecodeEnvelope(raw) // a private copy with its hash, as a peer would see it
	if err != nil {
		return err
	}
	if cause, err := n.check(env); err != nil {
		return fmt.Errorf("post v1 envelope (%s): %w", cause, err)
	}
	if err := n.pool.add(env, raw, enode.ID{}); err != nil {
		return err
	}
	n.kickPeers()
	return nil
}

// check is the one validation of an envelope, whoever sent it: size, ttl, expiry, sent time,
// PoW and our topic interest. It computes and caches the hash and PoW before the envelope is
// shared.
func (n *Node) check(e *Envelope) (cause string, err error) {
	e.Hash()
	pow := e.PoW()
	now := n.cfg.Now()
	n.mu.RLock()
	minPoW, bloom, topics := *n.own.PoWRequirement, n.own.BloomFilter, n.topics
	n.mu.RUnlock()
	switch {
	case e.Size() > n.cfg.MaxEnvelopeSize:
		return DropTooLarge, fmt.Errorf("envelope of %d bytes exceeds %d", e.Size(), n.cfg.MaxEnvelopeSize)
	case e.TTL == 0:
		return DropInvalid, errors.New("ttl is 0")
	case int64(e.Expiry) < now.Unix():
		return DropExpired, fmt.Errorf("expired at %d", e.Expiry)
	case e.Sent() > now.Add(n.cfg.SyncAllowance).Unix():
		return DropFuture, fmt.Errorf("sent time %d is in the future", e.Sent())
	case pow < minPoW:
		return DropLowPoW, fmt.Errorf("PoW %g below %g", pow, minPoW)
	}
	if topics != nil {
		if _, ok := topics[e.Topic]; !ok {
			return DropTopicMismatch, fmt.Errorf("topic %s not in our interest", e.Topic)
		}
		return "", nil
	}
	if bloom != nil {
		eb := e.Bloom()
		if !bloom.Contains(&eb) {
			return DropBloomMismatch, fmt.Errorf("topic %s not in our bloom", e.Topic)
		}
	}
	return "", nil
}

func (n *Node) kickPeers() {
	for _, p := range n.peerList() {
		p.kick()
	}
}

// deliver hands a new envelope from a peer to the subscribers.
func (n *Node) deliver(e *Envelope) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	for s := range n.subs {
		select {
		case s.ch <- e:
		default:
			s.dropped.Add(1)
			n.metrics.drop(DropSubscriber, "topic", e.Topic.String())
		}
	}
}
