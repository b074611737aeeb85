package filter

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/filter/pb"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/message"
)

// Defaults for Config (nwaku's CLI defaults, spec/filter.md and spec/cli.md).
const (
	DefaultMaxPeers            = 1000
	DefaultMaxCriteria         = 1000
	DefaultSubscriptionTimeout = 5 * time.Minute
	DefaultMaintenanceInterval = time.Minute
	DefaultPushTimeout         = 20 * time.Second
	DefaultQueueSize           = 256
	DefaultMaxPushFailures     = 3
)

// Limiter is a per-peer request rate limit (ratelimit.Limiter satisfies it).
type Limiter interface {
	Allow(peer.ID) bool
}

// Config configures the filter service. Zero fields take the defaults above.
type Config struct {
	MaxPeers            int           // distinct subscribed peers; more → 503
	MaxCriteria         int           // (pubsub, content) pairs per peer; more → 503
	SubscriptionTimeout time.Duration // a peer that neither pings nor subscribes for this long is dropped
	MaintenanceInterval time.Duration // how often expired subscriptions are dropped
	PushTimeout         time.Duration // bound on opening and writing one push
	QueueSize           int           // pending pushes per subscriber; beyond it pushes are dropped
	MaxPushFailures     int           // consecutive failed pushes after which a subscriber is dropped
	RateLimiter         Limiter       // nil = no limit; rejected requests get 429
	Metrics             Metrics       // nil = none
	Logger              *slog.Logger  // nil = slog.Default()
	Now                 func() time.Time
	// Accounting is asked on SUBSCRIBE and PING and told of each push; nil = off.
	Accounting Accounting
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxPeers, DefaultMaxPeers)
	def(&c.MaxCriteria, DefaultMaxCriteria)
	def(&c.QueueSize, DefaultQueueSize)
	def(&c.MaxPushFailures, DefaultMaxPushFailures)
	defD(&c.SubscriptionTimeout, DefaultSubscriptionTimeout)
	defD(&c.MaintenanceInterval, DefaultMaintenanceInterval)
	defD(&c.PushTimeout, DefaultPushTimeout)
	if c.Metrics == nil {
		c.Metrics = nopMetrics{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Service is the filter service node side. Start mounts it; Push feeds it accepted messages.
type Service struct {
	h   host.Host
	cfg Config
	log *slog.Logger

	mu    sync.RWMutex
	subs  map[peer.ID]*subscriber
	index map[Criterion]map[peer.ID]*subscriber

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// subscriber is one peer's criteria plus its push queue, drained by its own worker so a slow
// or dead peer never delays the others.
type subscriber struct {
	id       peer.ID
	criteria map[Criterion]struct{}
	lastSeen time.Time
	queue    chan []byte
	done     chan struct{} // closed (under Service.mu) when the subscriber is removed
}

// NewService returns a service on h; call Start to mount it.
func NewService(h host.Host, cfg Config) *Service {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		h: h, cfg: cfg, log: cfg.Logger.With("protocol", "filter"),
		subs: map[peer.ID]*subscriber{}, index: map[Criterion]map[peer.ID]*subscriber{},
		ctx: ctx, cancel: cancel,
	}
}

// Start mounts the subscribe protocol and starts the maintenance loop.
func (s *Service) Start() {
	s.h.SetStreamHandler(SubscribeProtocol, s.handler())
	s.wg.Add(1)
	go s.maintain()
}

// Stop unmounts the protocol, drops every subscription and waits for all goroutines.
func (s *Service) Stop() {
	s.h.RemoveStreamHandler(SubscribeProtocol)
	s.cancel()
	s.mu.Lock()
	for id := range s.subs {
		s.removeLocked(id)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Service) maintain() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.MaintenanceInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.expire(s.cfg.Now())
		}
	}
}

// expire drops subscribers not refreshed within SubscriptionTimeout of now.
func (s *Service) expire(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, sub := range s.subs {
		if now.Sub(sub.lastSeen) > s.cfg.SubscriptionTimeout {
			s.removeLocked(id)
			s.cfg.Metrics.SubscriberDropped("expired")
			n++
		}
	}
	if n > 0 {
		s.log.Debug("expired filter subscribers", "count", n)
	}
	return n
}

func (s *Service) handler() network.StreamHandler {
	sv := &rpc.Server[pb.FilterSubscribeRequest, *pb.FilterSubscribeRequest]{
		MaxRequest: MaxRPCSize, Logger: s.log,
		Handle: func(_ context.Context, p peer.ID, req *pb.FilterSubscribeRequest) proto.Message {
			return s.handleRequest(p, req)
		},
		// Filter has no 413: an oversized request is a bad one.
		Refuse: func(code uint32, desc string) proto.Message {
			if code == rpc.StatusPayloadTooLarge {
				code = StatusBadRequest
			}
			s.cfg.Metrics.Request("invalid", code, 0)
			return response("", code, desc)
		},
	}
	return sv.ServeStream
}

// handleRequest answers one decoded request from p; all protocol decisions live here, apart
// from I/O.
func (s *Service) handleRequest(p peer.ID, req *pb.FilterSubscribeRequest) *pb.FilterSubscribeResponse {
	start := time.Now()
	kind := req.GetFilterSubscribeType().String()
	code, desc := s.apply(p, req)
	s.cfg.Metrics.Request(kind, code, time.Since(start))
	return response(req.GetRequestId(), code, desc)
}

func response(id string, code uint32, desc string) *pb.FilterSubscribeResponse {
	return &pb.FilterSubscribeResponse{RequestId: id, StatusCode: code, StatusDesc: &desc}
}

func (s *Service) apply(p peer.ID, req *pb.FilterSubscribeRequest) (uint32, string) {
	if s.cfg.RateLimiter != nil && !s.cfg.RateLimiter.Allow(p) {
		return StatusTooManyRequests, descRateLimited
	}
	switch req.GetFilterSubscribeType() {
	case pb.FilterSubscribeRequest_SUBSCRIBER_PING:
		if err := s.allow(p); err != nil {
			return StatusPaymentRequired, err.Error()
		}
		return s.ping(p)
	case pb.FilterSubscribeRequest_SUBSCRIBE:
		if err := s.allow(p); err != nil {
			return StatusPaymentRequired, err.Error()
		}
		crit, code, desc := criteria(req)
		if code != StatusOK {
			return code, desc
		}
		return s.subscribe(p, crit)
	case pb.FilterSubscribeRequest_UNSUBSCRIBE:
		crit, code, desc := criteria(req)
		if code != StatusOK {
			return code, desc
		}
		return s.unsubscribe(p, crit)
	case pb.FilterSubscribeRequest_UNSUBSCRIBE_ALL:
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.subs[p]; !ok {
			return StatusNotFound, descNoSubscriptions
		}
		s.removeLocked(p)
		return StatusOK, descOK
	default:
		return StatusBadRequest, "unknown filter subscribe type " + req.GetFilterSubscribeType().String()
	}
}

// allow asks Accounting whether p may subscribe or keep its subscription alive. Unsubscribing
// is always allowed: it ends the service.
func (s *Service) allow(p peer.ID) error {
	if s.cfg.Accounting == nil {
		return nil
	}
	err := s.cfg.Accounting.Allow(p)
	if err != nil {
		s.log.Debug("filter request refused by accounting", "peer", p, "err", err)
	}
	return err
}

func criteria(req *pb.FilterSubscribeRequest) ([]Criterion, uint32, string) {
	pt, cts := req.GetPubsubTopic(), req.GetContentTopics()
	if pt == "" || len(cts) == 0 {
		return nil, StatusBadRequest, descMissingCriteria
	}
	if len(cts) > MaxContentTopicsPerRequest {
		return nil, StatusBadRequest, descTooManyTopics
	}
	out := make([]Criterion, 0, len(cts))
	for _, ct := range cts {
		if ct == "" {
			return nil, StatusBadRequest, descMissingCriteria
		}
		out = append(out, Criterion{PubsubTopic: pt, ContentTopic: ct})
	}
	return out, StatusOK, ""
}

func (s *Service) ping(p peer.ID) (uint32, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subs[p]
	if !ok {
		return StatusNotFound, descNoSubscriptions
	}
	sub.lastSeen = s.cfg.Now()
	return StatusOK, descOK
}

func (s *Service) subscribe(p peer.ID, crit []Criterion) (uint32, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subs[p]
	if !ok && len(s.subs) >= s.cfg.MaxPeers {
		return StatusServiceUnavailable, descMaxPeers
	}
	have := 0
	if ok {
		have = len(sub.criteria)
	}
	var cur *subscriber
	if ok {
		cur = sub
	}
	added := len(uniqueNew(cur, crit))
	if have+added > s.cfg.MaxCriteria {
		return StatusServiceUnavailable, descMaxCriteria
	}
	if !ok {
		sub = &subscriber{
			id: p, criteria: map[Criterion]struct{}{},
			queue: make(chan []byte, s.cfg.QueueSize), done: make(chan struct{}),
		}
		s.subs[p] = sub
		s.wg.Add(1)
		go s.worker(sub)
		s.cfg.Metrics.Subscribers(len(s.subs))
	}
	for _, c := range crit {
		sub.criteria[c] = struct{}{}
		m := s.index[c]
		if m == nil {
			m = map[peer.ID]*subscriber{}
			s.index[c] = m
		}
		m[p] = sub
	}
	sub.lastSeen = s.cfg.Now()
	return StatusOK, descOK
}

func uniqueNew(sub *subscriber, crit []Criterion) map[Criterion]struct{} {
	out := map[Criterion]struct{}{}
	for _, c := range crit {
		if sub != nil {
			if _, ok := sub.criteria[c]; ok {
				continue
			}
		}
		out[c] = struct{}{}
	}
	return out
}

func (s *Service) unsubscribe(p peer.ID, crit []Criterion) (uint32, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subs[p]
	if !ok {
		return StatusNotFound, descNoSubscriptions
	}
	removed := 0
	for _, c := range crit {
		if _, ok := sub.criteria[c]; !ok {
			continue
		}
		removed++
		delete(sub.criteria, c)
		s.unindexLocked(c, p)
	}
	if removed == 0 {
		return StatusNotFound, descNotSubscribed
	}
	if len(sub.criteria) == 0 {
		s.removeLocked(p)
	}
	return StatusOK, descOK
}

func (s *Service) unindexLocked(c Criterion, p peer.ID) {
	if m := s.index[c]; m != nil {
		delete(m, p)
		if len(m) == 0 {
			delete(s.index, c)
		}
	}
}

// removeLocked drops every criterion of p and stops its worker.
func (s *Service) removeLocked(p peer.ID) {
	sub, ok := s.subs[p]
	if !ok {
		return
	}
	for c := range sub.criteria {
		s.unindexLocked(c, p)
	}
	delete(s.subs, p)
	close(sub.done)
	s.cfg.Metrics.Subscribers(len(s.subs))
}

// Push queues e for every subscriber whose criteria match. It never blocks: a subscriber whose
// queue is full misses the message (counted as a drop). The envelope is shared read-only.
func (s *Service) Push(e *message.Envelope) {
	if e == nil || e.Message == nil {
		return
	}
	c := Criterion{PubsubTopic: e.PubsubTopic, ContentTopic: e.Message.GetContentTopic()}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.index[c]
	if len(m) == 0 {
		return
	}
	b := encodePush(e)
	for _, sub := range m {
		select {
		case sub.queue <- b:
		default:
			s.cfg.Metrics.PushDropped("queue_full")
		}
	}
}

func (s *Service) worker(sub *subscriber) {
	defer s.wg.Done()
	var drains sync.WaitGroup // the push stream's drain goroutine
	var ps *pushStream
	defer func() {
		if ps != nil {
			ps.close()
		}
		drains.Wait()
	}()
	failures := 0
	for {
		select {
		case <-sub.done:
			return
		case b := <-sub.queue:
			var err error
			if ps != nil && ps.dead.Load() {
				ps.close()
				ps = nil
			}
			if ps == nil {
				ps, err = s.openPush(sub.id, &drains)
			}
			if err == nil {
				err = ps.write(b, s.cfg.PushTimeout)
			}
			if err != nil {
				if ps != nil {
					ps.close()
					ps = nil
				}
				failures++
				s.cfg.Metrics.PushDropped("failed")
				s.log.Debug("filter push failed", "peer", sub.id, "failures", failures, "err", err)
				if failures >= s.cfg.MaxPushFailures {
					s.dropFailing(sub)
					return
				}
				continue
			}
			failures = 0
			s.cfg.Metrics.Pushed()
			if s.cfg.Accounting != nil {
				s.cfg.Accounting.Served(sub.id, 1)
			}
		}
	}
}

func (s *Service) dropFailing(sub *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs[sub.id] != sub { // already removed or replaced
		return
	}
	s.removeLocked(sub.id)
	s.cfg.Metrics.SubscriberDropped("push_failures")
	s.log.Info("dropped filter subscriber after failed pushes", "peer", sub.id)
}

// PeerSubscription is one peer's criteria, for the REST admin API.
type PeerSubscription struct {
	Peer     peer.ID
	Criteria []Criterion
	LastSeen time.Time
}

// Subscriptions returns a snapshot sorted by peer, then criterion.
func (s *Service) Subscriptions() []PeerSubscription {
	s.mu.RLock()
	out := make([]PeerSubscription, 0, len(s.subs))
	for id, sub := range s.subs {
		cs := make([]Criterion, 0, len(sub.criteria))
		for c := range sub.criteria {
			cs = append(cs, c)
		}
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].PubsubTopic != cs[j].PubsubTopic {
				return cs[i].PubsubTopic < cs[j].PubsubTopic
			}
			return cs[i].ContentTopic < cs[j].ContentTopic
		})
		out = append(out, PeerSubscription{Peer: id, Criteria: cs, LastSeen: sub.lastSeen})
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Peer < out[j].Peer })
	return out
}
