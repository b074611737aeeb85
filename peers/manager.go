// Package peers is the only code that decides whom to dial or drop: it verifies every new
// connection (metadata: cluster and shards), keeps static peers connected with backoff, pings
// connected peers so idle connections stay up, and remembers where each peer came from.
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
)

// Verifier decides whether an identified peer may stay connected; an error disconnects it.
// protos are the protocols the peer advertised through identify.
type Verifier func(ctx context.Context, p peer.ID, protos []protocol.ID) error

// Metrics counts the manager's decisions; nil-safe.
type Metrics interface {
	PeerRejected(reason string)
	DialResult(ok bool)
}

// Config configures a Manager.
type Config struct {
	// Verify runs once per identified connection; nil accepts every peer.
	Verify Verifier
	// VerifyTimeout bounds one verification (default 10 s).
	VerifyTimeout time.Duration
	// Static peers are kept connected for the manager's life.
	Static []peer.AddrInfo
	// KeepAlive is the ping interval for connected peers; 0 disables pings.
	KeepAlive time.Duration
	// Backoff bounds for redialing static peers (defaults 1 s and 1 min).
	MinBackoff, MaxBackoff time.Duration
	Metrics                Metrics
	Logger                 *slog.Logger
}

// Manager watches the host's connections. Start it once; Close stops every goroutine.
type Manager struct {
	h   host.Host
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	origins map[peer.ID]string
	static  map[peer.ID]*staticPeer

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sub    event.Subscription
}

type staticPeer struct {
	info    peer.AddrInfo
	backoff time.Duration
	next    time.Time
}

// New creates a manager for h.
func New(h host.Host, cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.VerifyTimeout <= 0 {
		cfg.VerifyTimeout = 10 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	m := &Manager{h: h, cfg: cfg, log: cfg.Logger, origins: map[peer.ID]string{}, static: map[peer.ID]*staticPeer{}, wake: make(chan struct{}, 1)}
	for _, s := range cfg.Static {
		m.static[s.ID] = &staticPeer{info: s, backoff: cfg.MinBackoff}
		m.origins[s.ID] = "Static"
	}
	return m
}

// Start subscribes to identify events and starts the maintenance loops.
func (m *Manager) Start() error {
	sub, err := m.h.EventBus().Subscribe([]interface{}{new(event.EvtPeerIdentificationCompleted), new(event.EvtPeerConnectednessChanged)})
	if err != nil {
		return err
	}
	m.sub = sub
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.wg.Add(2)
	go m.eventLoop()
	go m.maintainLoop()
	return nil
}

// Close stops the manager and waits for its goroutines.
func (m *Manager) Close() error {
	if m.cancel == nil {
		return nil
	}
	m.cancel()
	err := m.sub.Close()
	m.wg.Wait()
	return err
}

// SetOrigin records how we learned of p (Static, Discv5, Dns, PeerExchange).
func (m *Manager) SetOrigin(p peer.ID, origin string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.origins[p]; !ok {
		m.origins[p] = origin
	}
}

// Origin reports how we learned of p, or "UnknownOrigin".
func (m *Manager) Origin(p peer.ID) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o, ok := m.origins[p]; ok {
		return o
	}
	return "UnknownOrigin"
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
					go m.verify(e.Peer, e.Conn, e.Protocols)
				}
			case event.EvtPeerConnectednessChanged:
				if e.Connectedness != network.Connected && m.isStatic(e.Peer) {
					m.poke()
				}
			}
		}
	}
}

// verify runs the verifier for one identified connection. Each runs in its own goroutine so a
// slow peer never holds up others; all are tracked by wg.
func (m *Manager) verify(p peer.ID, c network.Conn, protos []protocol.ID) {
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
	_ = m.h.Network().ClosePeer(p)
	m.h.Peerstore().RemovePeer(p)
	_ = c
}

func (m *Manager) isStatic(p peer.ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.static[p]
	return ok
}

func (m *Manager) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// maintainLoop redials static peers with exponential backoff and pings connected peers.
func (m *Manager) maintainLoop() {
	defer m.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastPing := time.Now()
	for {
		m.dialStatic()
		if m.cfg.KeepAlive > 0 && time.Since(lastPing) >= m.cfg.KeepAlive {
			lastPing = time.Now()
			m.pingAll()
		}
		select {
		case <-m.ctx.Done():
			return
		case <-tick.C:
		case <-m.wake:
		}
	}
}

func (m *Manager) dialStatic() {
	now := time.Now()
	m.mu.Lock()
	var due []*staticPeer
	for _, s := range m.static {
		if m.h.Network().Connectedness(s.info.ID) != network.Connected && !now.Before(s.next) {
			due = append(due, s)
		}
	}
	m.mu.Unlock()
	for _, s := range due {
		ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
		err := m.h.Connect(ctx, s.info)
		cancel()
		if m.cfg.Metrics != nil {
			m.cfg.Metrics.DialResult(err == nil)
		}
		m.mu.Lock()
		if err != nil {
			s.next = time.Now().Add(s.backoff)
			s.backoff = min(s.backoff*2, m.cfg.MaxBackoff)
			m.log.Debug("static peer dial failed", "peer", s.info.ID, "retryIn", s.backoff, "err", err)
		} else {
			s.backoff = m.cfg.MinBackoff
			s.next = time.Time{}
		}
		m.mu.Unlock()
		if m.ctx.Err() != nil {
			return
		}
	}
}

func (m *Manager) pingAll() {
	for _, p := range m.h.Network().Peers() {
		ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
		res := <-ping.Ping(ctx, m.h, p)
		cancel()
		if res.Error != nil && m.ctx.Err() == nil {
			m.log.Debug("keep-alive ping failed", "peer", p, "err", res.Error)
		}
	}
}
