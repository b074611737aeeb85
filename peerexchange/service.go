package peerexchange

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/peerexchange/pb"
)

// Limiter is a per-peer request rate limit (ratelimit.Limiter satisfies it).
type Limiter interface {
	Allow(peer.ID) bool
}

// Metrics counts answered requests by status and the peers each answer carried; nil-safe.
type Metrics interface {
	Request(status uint32, peersSent int)
}

// ServiceConfig configures the responder.
type ServiceConfig struct {
	// CacheSize bounds the ENR cache the answers are drawn from (default 60, the spec's
	// minimum recommendation; use a tenth of the expected requests per refresh if larger).
	CacheSize int
	// TTL drops cached records not seen again by discovery for this long (default 30 min).
	TTL time.Duration
	// InMesh reports our relay mesh peers. Handing them out enables neighbourhood
	// surveillance: they go last, only when the other cached peers do not fill the answer,
	// and never with StrictMesh (the RFC's MUST NOT).
	InMesh      func(peer.ID) bool
	StrictMesh  bool
	RateLimiter Limiter // nil = no limit; rejected requests get 429
	Timeout     time.Duration
	Metrics     Metrics
	Logger      *slog.Logger
}

type cached struct {
	id   peer.ID
	rec  []byte
	seen time.Time
}

// Service answers peer exchange requests from a cache that discovery fills through Add.
type Service struct {
	h   host.Host
	cfg ServiceConfig
	log *slog.Logger

	mu    sync.Mutex
	cache map[enode.ID]*cached
}

// NewService creates the responder; Start mounts it.
func NewService(h host.Host, cfg ServiceConfig) *Service {
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = MaxPeers
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 30 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = rpc.DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{h: h, cfg: cfg, log: cfg.Logger, cache: map[enode.ID]*cached{}}
}

// Start mounts the protocol handler.
func (s *Service) Start() { s.h.SetStreamHandler(ProtocolID, s.handler()) }

// Stop unmounts it; libp2p waits for no handler, each returns at its stream deadline.
func (s *Service) Stop() { s.h.RemoveStreamHandler(ProtocolID) }

// Add caches a Waku node found by discovery. When the cache is full the stalest entry goes.
func (s *Service) Add(n *enode.Node, info enr.Info) {
	b, err := EncodeENR(n)
	if err != nil {
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cache[n.ID()]; ok {
		c.rec, c.seen = b, now
		return
	}
	if len(s.cache) >= s.cfg.CacheSize {
		var oldest enode.ID
		var ot time.Time
		for id, c := range s.cache {
			if ot.IsZero() || c.seen.Before(ot) {
				oldest, ot = id, c.seen
			}
		}
		delete(s.cache, oldest)
	}
	s.cache[n.ID()] = &cached{id: info.PeerID, rec: b, seen: now}
}

// Len is the number of cached records.
func (s *Service) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cache)
}

func (s *Service) handler() network.StreamHandler {
	sv := &rpc.Server[pb.PeerExchangeRPC, *pb.PeerExchangeRPC]{
		MaxRequest: MaxRequestSize, Timeout: s.cfg.Timeout, Logger: s.log,
		Handle: func(_ context.Context, from peer.ID, req *pb.PeerExchangeRPC) proto.Message {
			return s.counted(s.answer(from, req))
		},
		// Undecodable or oversized requests get 400 (the protocol has no 413), a request the
		// resource manager has no memory for 503.
		Refuse: func(code uint32, desc string) proto.Message {
			if code == rpc.StatusPayloadTooLarge {
				code = StatusBadRequest
			}
			return s.counted(statusResponse(code, desc))
		},
	}
	return sv.ServeStream
}

func (s *Service) counted(resp *pb.PeerExchangeRPC) *pb.PeerExchangeRPC {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Request(resp.GetResponse().GetStatusCode(), len(resp.GetResponse().GetPeerInfos()))
	}
	return resp
}

// answer builds the response: a random sample of cached records, none of them the requester
// or one of our mesh peers.
func (s *Service) answer(from peer.ID, req *pb.PeerExchangeRPC) *pb.PeerExchangeRPC {
	if req.Query == nil || req.Response != nil {
		return statusResponse(StatusBadRequest, "request must contain only a query")
	}
	want := req.GetQuery().GetNumPeers()
	if want == 0 {
		return statusResponse(StatusBadRequest, "num_peers must be positive")
	}
	if s.cfg.RateLimiter != nil && !s.cfg.RateLimiter.Allow(from) {
		return statusResponse(StatusTooManyRequests, "rate limit exceeded")
	}
	want = min(want, MaxPeers)
	now := time.Now()
	var pool, mesh [][]byte
	s.mu.Lock()
	for id, c := range s.cache {
		if now.Sub(c.seen) > s.cfg.TTL {
			delete(s.cache, id)
			continue
		}
		if c.id == from || c.id == s.h.ID() {
			continue
		}
		if s.cfg.InMesh != nil && s.cfg.InMesh(c.id) {
			if !s.cfg.StrictMesh {
				mesh = append(mesh, c.rec)
			}
			continue
		}
		pool = append(pool, c.rec)
	}
	s.mu.Unlock()
	shuffle(pool)
	shuffle(mesh)
	pool = append(pool, mesh...)
	if len(pool) == 0 {
		return statusResponse(StatusServiceUnavailable, "no suitable peers")
	}
	if uint64(len(pool)) > want {
		pool = pool[:want]
	}
	resp := statusResponse(StatusSuccess, "")
	for _, b := range pool {
		resp.Response.PeerInfos = append(resp.Response.PeerInfos, &pb.PeerInfo{Enr: b})
	}
	return resp
}

func shuffle(b [][]byte) { rand.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] }) }
