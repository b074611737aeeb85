// Package peers is the only code that decides whom to dial or drop. Every discovery source
// (static, DNS, discv5, peer exchange) feeds one stream of candidates through AddCandidate;
// the manager verifies every new connection (metadata: cluster and shards), keeps static peers
// connected with backoff, keeps each subscribed shard's mesh fed, enforces the connection
// limits (total, relay:service ratio, IP colocation), chooses service peers for the clients
// and pings connected peers so idle connections stay up.
package peers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"

	"github.com/wakunode/wakunode/internal/backoff"
)

// Peer origins as the REST API reports them (rest-api.md §5).
const (
	OriginUnknown      = "UnknownOrigin"
	OriginStatic       = "Static"
	OriginDiscv5       = "Discv5"
	OriginDNS          = "Dns"
	OriginPeerExchange = "PeerExchange"
)

// Verifier decides whether an identified peer may stay connected; an error disconnects it.
// protos are the protocols the peer advertised through identify.
type Verifier func(ctx context.Context, p peer.ID, protos []protocol.ID) error

// Metrics counts the manager's decisions; nil-safe.
type Metrics interface {
	PeerRejected(reason string)
	DialResult(ok bool)
}

// Relay is the manager's view of gossipsub: the subscribed topics and who is on them.
type Relay interface {
	Topics() []string
	TopicPeers(topic string) []peer.ID
	MeshPeers(topic string) []peer.ID
	// Graylisted lists the peers whose gossipsub score fell below the graylist threshold.
	Graylisted() map[peer.ID]float64
	// GraylistChanged is signalled when Graylisted may have grown (nil: never).
	GraylistChanged() <-chan struct{}
}

// Config configures a Manager. Zero values take the documented defaults.
type Config struct {
	// Verify runs once per identified connection; nil accepts every peer.
	Verify Verifier
	// VerifyTimeout bounds one verification (default 10 s).
	VerifyTimeout time.Duration
	// Static peers are kept connected for the manager's life and never pruned.
	Static []peer.AddrInfo
	// KeepAlive is the ping interval for connected peers; 0 disables pings.
	KeepAlive time.Duration
	// Backoff bounds for redialing static peers and candidates (defaults 1 s and 1 min).
	MinBackoff, MaxBackoff time.Duration

	// Policy holds the limits; SetPolicy changes them at runtime.
	Policy
	// Relay, when set, makes the manager keep each subscribed topic at Policy.Dlo or more peers.
	Relay Relay
	// MaxFailures forgets a non-static candidate after this many failed dials (default 5).
	MaxFailures int
	// Interval between maintenance passes (default DefaultInterval). A pass also runs when a
	// peer disconnects, a dial fails, a static peer's redial falls due and the relay signals
	// a graylisted peer.
	Interval time.Duration
	// Gater is the host's connection gater (libp2p.ConnectionGater): the manager bans through
	// it and SetPolicy sets its colocation limit (until then it keeps its own). nil: the
	// manager makes one with Policy's limit, which only the manager's own dials obey.
	Gater *Gater
	// GraylistBackoff is how long a peer disconnected for a gossipsub score below the graylist
	// threshold stays banned (default DefaultGraylistBackoff).
	GraylistBackoff time.Duration
	// PingConcurrency bounds keep-alive pings in flight (default 16).
	PingConcurrency int

	Metrics Metrics
	Logger  *slog.Logger
}

// Policy is whom the manager keeps. Zero values take the documented defaults.
type Policy struct {
	// Cluster is ours: candidates whose ENR names another cluster are never kept.
	Cluster uint16
	// MaxConnections bounds connected peers (default 50).
	MaxConnections int
	// RelayRatio:ServiceRatio splits MaxConnections (default 60:40, --relay-service-ratio).
	RelayRatio, ServiceRatio int
	// MaxRelayPeers overrides the relay share when > 0 (--max-relay-peers).
	MaxRelayPeers int
	// IPColocationLimit is the most connected peers sharing one IP; 0 means no limit.
	// nwaku's default is DefaultColocationLimit.
	IPColocationLimit int
	// PeerStoreCapacity bounds the remembered candidates (default 1000).
	PeerStoreCapacity int
	// Dlo is the gossipsub low watermark the manager feeds topics to (default 4).
	Dlo int
}

// DefaultColocationLimit is nwaku's --ip-colocation-limit default.
const DefaultColocationLimit = 5

// DefaultGraylistBackoff matches gossipsub's RetainScore (relay.md): a banned peer that
// comes back any sooner would still carry the score that got it banned.
const DefaultGraylistBackoff = 10 * time.Minute

// DefaultInterval spaces the maintenance passes that nothing asked for. At 1 s, with the
// relay's 1 s score snapshot, they were half the wake-ups of an idle node (21 context switches
// a second, 11 with both at 5 s); what a pass must answer quickly (a disconnect, a failed dial,
// a static redial falling due, a graylisted peer) wakes the loop itself.
const DefaultInterval = 5 * time.Second

// minPassGap keeps passes that events ask for apart, so a burst of disconnects is one pass.
const minPassGap = 100 * time.Millisecond

// pingTimeout bounds one keep-alive ping.
const pingTimeout = 10 * time.Second

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.VerifyTimeout <= 0 {
		c.VerifyTimeout = 10 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
	c.Policy.setDefaults()
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.GraylistBackoff <= 0 {
		c.GraylistBackoff = DefaultGraylistBackoff
	}
	if c.PingConcurrency <= 0 {
		c.PingConcurrency = 16
	}
	if c.Gater == nil {
		c.Gater = NewGater(c.Policy.IPColocationLimit)
	}
}

func (c *Policy) setDefaults() {
	if c.MaxConnections <= 0 {
		c.MaxConnections = 50
	}
	if c.RelayRatio <= 0 && c.ServiceRatio <= 0 {
		c.RelayRatio, c.ServiceRatio = 60, 40
	}
	if c.PeerStoreCapacity <= 0 {
		c.PeerStoreCapacity = 1000
	}
	if c.Dlo <= 0 {
		c.Dlo = 4
	}
}

// maxRelay and maxService split MaxConnections by the ratio (or MaxRelayPeers).
func (c *Policy) maxRelay() int {
	if c.MaxRelayPeers > 0 {
		return min(c.MaxRelayPeers, c.MaxConnections)
	}
	return c.MaxConnections * c.RelayRatio / max(1, c.RelayRatio+c.ServiceRatio)
}

func (c *Policy) maxService() int { return max(0, c.MaxConnections-c.maxRelay()) }

// Manager watches the host's connections. Start it once; Close stops every goroutine.
type Manager struct {
	h   host.Host
	cfg Config
	log *slog.Logger

	gater *Gater
	watch network.Notifiee

	mu    sync.Mutex
	known map[peer.ID]*record
	relay Relay
	pol   Policy

	wake   chan struct{}
	dials  chan struct{}   // semaphore bounding concurrent candidate dials
	retry  backoff.Factory // one dial-retry schedule per failing peer
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sub    event.Subscription

	ranker Ranker // under mu; SetRanker (select.go), nil = random choice
}

// New creates a manager for h.
func New(h host.Host, cfg Config) *Manager {
	cfg.setDefaults()
	m := &Manager{h: h, cfg: cfg, log: cfg.Logger, known: map[peer.ID]*record{}, relay: cfg.Relay, pol: cfg.Policy,
		gater: cfg.Gater, wake: make(chan struct{}, 1), dials: make(chan struct{}, 8),
		retry: backoff.NewFactory(cfg.MinBackoff, cfg.MaxBackoff)}
	if cfg.Metrics != nil {
		m.gater.onRefuse(cfg.Metrics.PeerRejected)
	}
	for _, s := range cfg.Static {
		r := m.recordLocked(s.ID, true)
		r.origin, r.static = OriginStatic, true
		h.Peerstore().AddAddrs(s.ID, s.Addrs, permanentTTL)
	}
	return m
}

// SetRelay attaches gossipsub after construction; dlo <= 0 keeps the configured Dlo.
func (m *Manager) SetRelay(r Relay, dlo int) {
	m.mu.Lock()
	m.relay = r
	if dlo > 0 {
		m.pol.Dlo = dlo
	}
	m.mu.Unlock()
	m.poke()
}

// SetPolicy replaces the limits (zero fields take the defaults); they apply from the next
// maintenance pass.
func (m *Manager) SetPolicy(p Policy) {
	p.setDefaults()
	m.mu.Lock()
	m.pol = p
	m.mu.Unlock()
	m.gater.setLimit(p.IPColocationLimit)
	m.poke()
}

func (m *Manager) policy() Policy {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pol
}

// Start subscribes to identify and connection events and starts the maintenance loops.
func (m *Manager) Start() error {
	sub, err := m.h.EventBus().Subscribe([]interface{}{new(event.EvtPeerIdentificationCompleted), new(event.EvtPeerConnectednessChanged)})
	if err != nil {
		return err
	}
	m.sub = sub
	m.watch = m.gater.watch(m.h.Network())
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.wg.Add(2)
	go m.eventLoop()
	go m.maintainLoop()
	if m.cfg.KeepAlive > 0 {
		m.wg.Add(1)
		go m.pingLoop()
	}
	return nil
}

// Close stops the manager and waits for its goroutines (dials in flight included).
func (m *Manager) Close() error {
	if m.cancel == nil {
		return nil
	}
	m.cancel()
	err := m.sub.Close()
	m.wg.Wait()
	m.h.Network().StopNotify(m.watch)
	return err
}

func (m *Manager) eventLoop() {
	defer m.wg.Done()
	for {
		select {
		case <-m.ctx.Done():
			return
		case ev, ok := <-m.sub.Out():
			if !ok {
				return
			}
			switch e := ev.(type) {
			case event.EvtPeerIdentificationCompleted:
				if m.cfg.Verify != nil {
					m.wg.Add(1)
					go m.verify(e.Peer, e.Protocols)
				}
			case event.EvtPeerConnectednessChanged:
				if e.Connectedness != network.Connected { // a static to redial, a topic to refill
					m.poke()
				}
			}
		}
	}
}

// verify runs the verifier for one identified connection. Each runs in its own goroutine so a
// slow peer never holds up others; all are tracked by wg.
func (m *Manager) verify(p peer.ID, protos []protocol.ID) {
	defer m.wg.Done()
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.VerifyTimeout)
	defer cancel()
	err := m.cfg.Verify(ctx, p, protos)
	if err == nil || m.ctx.Err() != nil {
		return
	}
	m.log.Info("disconnecting peer", "peer", p, "reason", err)
	if m.cfg.Metrics != nil {
		m.cfg.Metrics.PeerRejected(err.Error())
	}
	m.reject(p)
	_ = m.h.Network().ClosePeer(p)
	m.h.Peerstore().RemovePeer(p)
}

func (m *Manager) isStatic(p peer.ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.known[p]
	return r != nil && r.static
}

func (m *Manager) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// maintainLoop drops graylisted peers, redials static peers, enforces the limits and feeds
// the topics. Nothing in it waits on a peer: dials and pings run in their own goroutines.
func (m *Manager) maintainLoop() {
	defer m.wg.Done()
	timer := time.NewTimer(m.cfg.Interval)
	defer timer.Stop()
	for {
		m.dropGraylisted()
		due := m.dialStatic()
		m.enforceLimits()
		m.feedTopics()
		wait := m.cfg.Interval
		if !due.IsZero() {
			wait = max(min(wait, time.Until(due)), 0)
		}
		timer.Reset(wait)
		var graylist <-chan struct{}
		m.mu.Lock()
		if m.relay != nil {
			graylist = m.relay.GraylistChanged()
		}
		m.mu.Unlock()
		select {
		case <-m.ctx.Done():
			return
		case <-timer.C:
		case <-graylist:
		case <-m.wake:
			select {
			case <-m.ctx.Done():
				return
			case <-time.After(minPassGap):
			}
		}
	}
}

// dialStatic dials every disconnected static peer whose backoff has passed and returns when
// the next one falls due (zero: none waits). Dials run concurrently so one unreachable static
// peer never delays the others or the loop.
func (m *Manager) dialStatic() (next time.Time) {
	now := time.Now()
	m.mu.Lock()
	var due []peer.ID
	for id, r := range m.known {
		if !r.static || r.dialing || m.h.Network().Connectedness(id) == network.Connected {
			continue
		}
		if now.Before(r.next) {
			if next.IsZero() || r.next.Before(next) {
				next = r.next
			}
			continue
		}
		r.dialing = true
		due = append(due, id)
	}
	m.mu.Unlock()
	for _, id := range due {
		m.wg.Add(1)
		go m.dial(id)
	}
	return next
}

// pingLoop pings every connected peer each KeepAlive, PingConcurrency at a time, so one
// unresponsive peer costs one slot for pingTimeout, not the whole round.
func (m *Manager) pingLoop() {
	defer m.wg.Done()
	tick := time.NewTicker(m.cfg.KeepAlive)
	defer tick.Stop()
	slots := make(chan struct{}, m.cfg.PingConcurrency)
	var round sync.WaitGroup
	defer round.Wait()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-tick.C:
		}
		round.Wait() // a round never overlaps the previous one
		for _, p := range m.h.Network().Peers() {
			select {
			case slots <- struct{}{}:
			case <-m.ctx.Done():
				return
			}
			round.Add(1)
			go func() {
				defer round.Done()
				defer func() { <-slots }()
				ctx, cancel := context.WithTimeout(m.ctx, pingTimeout)
				defer cancel()
				if res := <-ping.Ping(ctx, m.h, p); res.Error != nil && m.ctx.Err() == nil {
					m.log.Debug("keep-alive ping failed", "peer", p, "err", res.Error)
				}
			}()
		}
	}
}

// dropGraylisted disconnects the peers gossipsub scored below the graylist threshold and bans
// them for GraylistBackoff: nwaku disconnects such peers (disconnectBadPeers); the ban keeps
// them from reconnecting straight away with the score they left with.
func (m *Manager) dropGraylisted() {
	m.mu.Lock()
	rl := m.relay
	m.mu.Unlock()
	if rl == nil {
		return
	}
	for p, score := range rl.Graylisted() {
		if m.h.Network().Connectedness(p) != network.Connected {
			continue
		}
		until := time.Now().Add(m.cfg.GraylistBackoff)
		m.log.Info("disconnecting peer below the gossipsub graylist threshold", "peer", p, "score", score, "bannedFor", m.cfg.GraylistBackoff)
		if m.cfg.Metrics != nil {
			m.cfg.Metrics.PeerRejected("graylisted")
		}
		m.gater.Ban(p, until)
		m.mu.Lock()
		if r := m.known[p]; r != nil {
			r.next = until
		}
		m.mu.Unlock()
		_ = m.h.Network().ClosePeer(p)
	}
}
