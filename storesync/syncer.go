package storesync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/message"
)

// Protocol IDs.
const (
	ReconciliationProtocol protocol.ID = "/vac/waku/reconciliation/1.0.0"
	TransferProtocol       protocol.ID = "/vac/waku/transfer/1.0.0"
)

// nwaku's defaults (--store-sync-interval, --store-sync-range, --store-sync-relay-jitter).
const (
	DefaultInterval    = 300 * time.Second
	DefaultRange       = 3600 * time.Second
	DefaultRelayJitter = 20 * time.Second
)

// Limits on what a peer can make this node hold or do. nwaku has none of the reconciliation
// ones; ours sit far above what a legitimate session over a million messages needs.
const (
	MaxTransferFrame        = 153_600  // nwaku's per-frame read limit on the transfer stream
	DefaultMaxFrame         = 64 << 20 // our replies stay under half of it
	DefaultMaxRounds        = 64
	DefaultSessionTimeout   = 2 * time.Minute
	DefaultMaxSessions      = 8
	DefaultMaxElements      = 10_000_000
	DefaultQueueSize        = 200_000
	DefaultMaxTransferCount = 1 << 20
	DefaultTransferGrace    = 5 * time.Minute
	maxPeerStates           = 10_000
	loadPage                = 1000
	maxPending              = 100_000
)

// Archive is what store sync needs from the message archive (*archive.Archive satisfies it).
type Archive interface {
	Query(ctx context.Context, q archive.Query) (archive.Page, error)
	// InsertHistorical stores a message whose timestamp may be older than the ±20 s relay rule.
	InsertHistorical(ctx context.Context, e *message.Envelope) error
}

// Config configures a Syncer. Zero fields take nwaku's defaults or the limits above.
type Config struct {
	// PubsubTopics is the sync scope: /waku/2/rs/<cluster>/<shard> for every served shard.
	// Transferred messages on other topics are refused. Empty means all.
	PubsubTopics []string
	// ContentTopics narrows the scope (--content-topic); usually empty.
	ContentTopics []string
	// Interval between sync rounds and prunes; negative disables both (the node still serves).
	Interval    time.Duration
	Range       time.Duration
	RelayJitter time.Duration
	// Validate is the node's message validation (size, shard, RLN...) applied to every message
	// arriving by transfer before the archive sees it; the sync window is checked here too.
	Validate func(*message.Envelope) error
	// SelectPeer picks the peer for a round; nil picks a random known peer that supports
	// ReconciliationProtocol.
	SelectPeer func() (peer.ID, error)

	Threshold, Partitions int
	MaxRanges             int           // per decoded payload
	MaxFrame              int           // bytes per received frame; our replies keep under half
	MaxRounds             int           // frames received per session
	SessionTimeout        time.Duration // bound on one reconciliation session
	MaxSessions           int           // concurrent inbound sessions
	MaxElements           int           // IDs in the index
	QueueSize             int           // pending (peer, hash) transfers
	MaxTransferCount      int           // messages accepted from one peer per session
	TransferGrace         time.Duration // transfers are accepted this long after a session

	Now     func() time.Time
	Logger  *slog.Logger
	Metrics Metrics
}

func (c *Config) defaults() {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	setD(&c.Interval, DefaultInterval)
	setD(&c.Range, DefaultRange)
	setD(&c.RelayJitter, DefaultRelayJitter)
	setD(&c.SessionTimeout, DefaultSessionTimeout)
	setD(&c.TransferGrace, DefaultTransferGrace)
	set(&c.Threshold, DefaultThreshold)
	set(&c.Partitions, DefaultPartitions)
	set(&c.MaxRanges, DefaultMaxRanges)
	set(&c.MaxFrame, DefaultMaxFrame)
	set(&c.MaxRounds, DefaultMaxRounds)
	set(&c.MaxSessions, DefaultMaxSessions)
	set(&c.MaxElements, DefaultMaxElements)
	set(&c.QueueSize, DefaultQueueSize)
	set(&c.MaxTransferCount, DefaultMaxTransferCount)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = nopMetrics{}
	}
}

// Syncer runs store sync for one node: it keeps the ID index (fed by Add, pruned by time),
// answers and initiates reconciliation, pushes what peers lack and takes what they push.
type Syncer struct {
	h   host.Host
	a   Archive
	cfg Config
	log *slog.Logger

	mu sync.Mutex // guards ix; take it with lockIndex
	ix Index

	// Add never waits for a session holding mu (the bus must not stall): what arrives
	// meanwhile waits here, bounded, and enters the index at the next lockIndex.
	pendMu  sync.Mutex
	pending []pendingID

	peersMu sync.Mutex
	peers   map[peer.ID]*peerState

	sessions chan struct{} // inbound reconciliation slots
	send     *sender

	logMu  sync.Mutex
	logged map[string]bool

	inMu     sync.Mutex // guards inbound and stopped
	inbound  map[network.Stream]struct{}
	stopped  bool
	handlers sync.WaitGroup

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// peerState tracks sessions with a peer, which is what makes its transfers acceptable.
type peerState struct {
	active   int
	lastEnd  time.Time
	accepted int // messages taken by transfer since the last session started
}

// New returns a Syncer; Start loads the index and mounts the protocols.
func New(h host.Host, a Archive, cfg Config) *Syncer {
	cfg.defaults()
	s := &Syncer{h: h, a: a, cfg: cfg, log: cfg.Logger.With("protocol", "store-sync"),
		peers: map[peer.ID]*peerState{}, sessions: make(chan struct{}, cfg.MaxSessions), logged: map[string]bool{},
		inbound: map[network.Stream]struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.send = newSender(s)
	return s
}

// Start fills the index from the archive's window, mounts both protocols and starts the
// transfer sender and, with a positive interval, the sync and prune loops.
func (s *Syncer) Start(ctx context.Context) error {
	if err := s.load(ctx); err != nil {
		return err
	}
	s.h.SetStreamHandler(ReconciliationProtocol, s.tracked(s.handleReconciliation))
	s.h.SetStreamHandler(TransferProtocol, s.tracked(s.handleTransfer))
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.send.run(s.ctx) }()
	if s.cfg.Interval > 0 {
		s.wg.Add(2)
		go s.syncLoop()
		go s.pruneLoop()
	}
	return nil
}

// Stop unmounts the protocols, resets inbound streams, ends the loops and the sender and
// closes its streams. Nothing it started is running when it returns.
func (s *Syncer) Stop() {
	s.h.RemoveStreamHandler(ReconciliationProtocol)
	s.h.RemoveStreamHandler(TransferProtocol)
	s.cancel()
	s.inMu.Lock()
	s.stopped = true
	for st := range s.inbound {
		resetStream(st)
	}
	s.inMu.Unlock()
	s.send.closeAll() // unblocks a push stuck in a write
	s.handlers.Wait()
	s.wg.Wait()
	s.send.closeAll()
}

// tracked registers each inbound stream so that Stop can reset it and wait for its handler.
func (s *Syncer) tracked(handle network.StreamHandler) network.StreamHandler {
	return func(st network.Stream) {
		s.inMu.Lock()
		if s.stopped {
			s.inMu.Unlock()
			resetStream(st)
			return
		}
		s.inbound[st] = struct{}{}
		s.handlers.Add(1)
		s.inMu.Unlock()
		defer func() {
			s.inMu.Lock()
			delete(s.inbound, st)
			s.inMu.Unlock()
			s.handlers.Done()
		}()
		handle(st)
	}
}

// load scans the archive for the sync range (nwaku does this at start-up).
func (s *Syncer) load(ctx context.Context) error {
	now := s.cfg.Now().UnixNano()
	start, end := now-int64(s.cfg.Range), now+int64(message.DefaultMaxTimeDrift)
	q := archive.Query{TimeStart: &start, TimeEnd: &end, IncludeData: true, Forward: true, Limit: loadPage}
	for {
		page, err := s.a.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("store sync: load index: %w", err)
		}
		s.lockIndex()
		for _, e := range page.Entries {
			s.insertLocked(ID{Time: e.Timestamp, Hash: e.Hash}, e.PubsubTopic, e.Message.GetContentTopic())
		}
		s.mu.Unlock()
		if page.Cursor == nil {
			return nil
		}
		q.Cursor = page.Cursor
	}
}

// Add feeds a message accepted by relay (or stored by any other door) into the index.
// Ephemeral messages and timestamps outside the retained range are ignored.
func (s *Syncer) Add(e *message.Envelope) {
	if e.Message.GetEphemeral() {
		return
	}
	ts := e.Message.GetTimestamp()
	now := s.cfg.Now().UnixNano()
	if ts < now-int64(s.cfg.Range) || ts > now+int64(message.DefaultMaxTimeDrift) {
		return
	}
	p := pendingID{ID{Time: ts, Hash: e.Hash}, e.PubsubTopic, e.Message.GetContentTopic()}
	if s.mu.TryLock() {
		s.drainPending()
		s.insertLocked(p.id, p.pubsub, p.content)
		s.mu.Unlock()
		return
	}
	s.pendMu.Lock()
	full := len(s.pending) >= maxPending
	if !full {
		s.pending = append(s.pending, p)
	}
	s.pendMu.Unlock()
	if full {
		s.drop("index_busy", "sync index busy and its pending queue full, message not indexed", "limit", maxPending)
	}
}

type pendingID struct {
	id              ID
	pubsub, content string
}

// lockIndex takes the index lock and applies what Add left pending.
func (s *Syncer) lockIndex() {
	s.mu.Lock()
	s.drainPending()
}

func (s *Syncer) drainPending() {
	s.pendMu.Lock()
	ps := s.pending
	s.pending = nil
	s.pendMu.Unlock()
	for _, p := range ps {
		s.insertLocked(p.id, p.pubsub, p.content)
	}
}

// indexLocker is lockIndex as a sync.Locker, for sessions.
type indexLocker struct{ s *Syncer }

func (l indexLocker) Lock()   { l.s.lockIndex() }
func (l indexLocker) Unlock() { l.s.mu.Unlock() }

func (s *Syncer) insertLocked(id ID, pubsub, content string) {
	if s.ix.Len() >= s.cfg.MaxElements {
		s.drop("index_full", "sync index full, message not indexed", "limit", s.cfg.MaxElements)
		return
	}
	s.ix.Insert(id, pubsub, content)
}

// Len is the number of IDs in the index.
func (s *Syncer) Len() int {
	s.lockIndex()
	defer s.mu.Unlock()
	return s.ix.Len()
}

// Prune removes IDs older than the range and forgets peers whose grace has passed.
func (s *Syncer) Prune() {
	now := s.cfg.Now()
	s.lockIndex()
	s.ix.Prune(ID{Time: now.UnixNano() - int64(s.cfg.Range)})
	n := s.ix.Len()
	s.mu.Unlock()
	s.cfg.Metrics.Cached(n)
	s.peersMu.Lock()
	for p, st := range s.peers {
		if st.active == 0 && now.Sub(st.lastEnd) > s.cfg.TransferGrace {
			delete(s.peers, p)
		}
	}
	s.peersMu.Unlock()
}

func (s *Syncer) syncLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		p, err := s.selectPeer()
		if err != nil {
			s.log.Debug("store sync round skipped", "err", err)
			continue
		}
		if _, err := s.Sync(s.ctx, p); err != nil && s.ctx.Err() == nil {
			s.log.Info("store sync round failed", "peer", p, "err", err)
		}
	}
}

// pruneLoop prunes first 1.5 intervals after start, then every interval (offset from syncs).
func (s *Syncer) pruneLoop() {
	defer s.wg.Done()
	timer := time.NewTimer(s.cfg.Interval * 3 / 2)
	defer timer.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-timer.C:
		}
		s.Prune()
		timer.Reset(s.cfg.Interval)
	}
}

func (s *Syncer) selectPeer() (peer.ID, error) {
	if s.cfg.SelectPeer != nil {
		return s.cfg.SelectPeer()
	}
	var candidates []peer.ID
	for _, p := range s.h.Peerstore().Peers() {
		if p == s.h.ID() {
			continue
		}
		if ps, err := s.h.Peerstore().SupportsProtocols(p, ReconciliationProtocol); err == nil && len(ps) > 0 {
			candidates = append(candidates, p)
		}
	}
	if len(candidates) == 0 {
		return "", errors.New("no suitable peer found for sync")
	}
	return candidates[rand.IntN(len(candidates))], nil
}

// beginSession marks a session with p; transfers from p are accepted until TransferGrace
// after the last one ends. It refuses when too many peers are tracked.
func (s *Syncer) beginSession(p peer.ID) bool {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	st := s.peers[p]
	if st == nil {
		if len(s.peers) >= maxPeerStates {
			return false
		}
		st = &peerState{}
		s.peers[p] = st
	}
	st.active++
	st.accepted = 0
	return true
}

func (s *Syncer) endSession(p peer.ID) {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	if st := s.peers[p]; st != nil {
		st.active--
		st.lastEnd = s.cfg.Now()
	}
}

// drop counts a refusal and logs its cause once.
func (s *Syncer) drop(reason, msg string, args ...any) {
	s.cfg.Metrics.Dropped(reason)
	s.logMu.Lock()
	first := !s.logged[reason]
	s.logged[reason] = true
	s.logMu.Unlock()
	if first {
		s.log.Warn(msg, append(args, "cause", reason, "note", "logged once per cause; see metrics")...)
	}
}

func resetStream(st network.Stream) { _ = st.Reset() }
