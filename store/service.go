package store

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/store/pb"
)

// Querier is the part of the archive the service needs (*archive.Archive satisfies it).
type Querier interface {
	Query(ctx context.Context, q archive.Query) (archive.Page, error)
}

// RateLimiter is a per-peer request limit; a refused request is answered with 429.
type RateLimiter interface {
	Allow(peer.ID) bool
}

// Metrics receives the service's counters; nil in Config is a no-op.
type Metrics interface {
	// Request observes one answered request: protocol ("v3" or "legacy"), the status answered
	// (legacy errors as 200/400/429/503, an accounting refusal as 402) and how long it took.
	Request(protocol string, status uint32, d time.Duration)
}

type nopMetrics struct{}

func (nopMetrics) Request(string, uint32, time.Duration) {}

// ServiceConfig configures the service. Zero fields take the defaults.
type ServiceConfig struct {
	RateLimiter RateLimiter // v3 queries (--rate-limit storev3:); nil = unlimited
	// LegacyRateLimiter is the legacy v2 bucket (--rate-limit storev2:), apart from v3's as in
	// nwaku; nil = unlimited.
	LegacyRateLimiter RateLimiter
	QueryTimeout      time.Duration // bound on one archive query and the stream; default 10 s
	Legacy            bool          // also mount the legacy v2 protocol
	Metrics           Metrics
	Logger            *slog.Logger // nil = slog.Default()
	// Accounting is asked before each peer's query and told what was served; nil = off.
	Accounting Accounting
}

// Service answers store queries from the archive.
type Service struct {
	h   host.Host
	q   Querier
	cfg ServiceConfig
	log *slog.Logger
}

// NewService returns a service over q; Start mounts it on h.
func NewService(h host.Host, q Querier, cfg ServiceConfig) *Service {
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = rpc.DefaultTimeout
	}
	if cfg.Metrics == nil {
		cfg.Metrics = nopMetrics{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{h: h, q: q, cfg: cfg, log: cfg.Logger.With("protocol", "store")}
}

// Start mounts the protocol handlers.
func (s *Service) Start() {
	v3 := &rpc.Server[pb.StoreQueryRequest, *pb.StoreQueryRequest]{
		MaxRequest: MaxRequestSize, Timeout: s.cfg.QueryTimeout, Logger: s.log,
		Handle: func(ctx context.Context, from peer.ID, req *pb.StoreQueryRequest) proto.Message {
			start := time.Now()
			resp := s.Answer(ctx, from, req)
			s.cfg.Metrics.Request("v3", resp.GetStatusCode(), time.Since(start))
			return resp
		},
		Refuse: func(code uint32, desc string) proto.Message {
			code = refusal(code)
			s.cfg.Metrics.Request("v3", code, 0)
			return status(&pb.StoreQueryResponse{}, code, desc)
		},
	}
	if s.cfg.Accounting != nil {
		v3.Written = func(from peer.ID, resp proto.Message) {
			if r := resp.(*pb.StoreQueryResponse); r.GetStatusCode() == StatusOK {
				s.cfg.Accounting.Served(from, len(r.Messages))
			}
		}
	}
	s.h.SetStreamHandler(QueryProtocol, v3.ServeStream)
	if s.cfg.Legacy {
		v2 := &rpc.Server[pb.HistoryRPC, *pb.HistoryRPC]{
			MaxRequest: MaxRequestSize, Timeout: s.cfg.QueryTimeout, Logger: s.log,
			Handle: func(ctx context.Context, from peer.ID, req *pb.HistoryRPC) proto.Message {
				start := time.Now()
				resp, code := s.AnswerLegacy(ctx, from, req)
				s.cfg.Metrics.Request("legacy", code, time.Since(start))
				return resp
			},
			Refuse: func(code uint32, _ string) proto.Message {
				code = refusal(code)
				s.cfg.Metrics.Request("legacy", code, 0)
				return legacyErr("", pb.HistoryResponse_Error(code))
			},
		}
		if s.cfg.Accounting != nil {
			v2.Written = func(from peer.ID, resp proto.Message) {
				if r := resp.(*pb.HistoryRPC).GetResponse(); r != nil && r.Error == pb.HistoryResponse_NONE {
					s.cfg.Accounting.Served(from, len(r.Messages))
				}
			}
		}
		s.h.SetStreamHandler(LegacyProtocol, v2.ServeStream)
	}
}

// refusal maps the codes of a request that never reached the service onto store's: store has
// no 413, an oversized request is a bad one.
func refusal(code uint32) uint32 {
	if code == rpc.StatusPayloadTooLarge {
		return StatusBadRequest
	}
	return code
}

// Stop unmounts them. Handlers already running finish within QueryTimeout (the stream
// deadline); they own no other goroutines.
func (s *Service) Stop() {
	s.h.RemoveStreamHandler(QueryProtocol)
	s.h.RemoveStreamHandler(LegacyProtocol)
}

// Answer runs one decoded v3 request: what the service sends over the wire, and what the node
// answers its own REST queries with (from = "" skips the per-peer rate limit).
func (s *Service) Answer(ctx context.Context, from peer.ID, req *pb.StoreQueryRequest) *pb.StoreQueryResponse {
	id := req.GetRequestId()
	if from != "" && s.cfg.RateLimiter != nil && !s.cfg.RateLimiter.Allow(from) {
		return status(&pb.StoreQueryResponse{RequestId: id}, StatusTooManyRequests, "Request rejected due to too many requests")
	}
	if err := s.allow(from); err != nil {
		return status(&pb.StoreQueryResponse{RequestId: id}, StatusPaymentRequired, err.Error())
	}
	q, err := toArchiveQuery(req)
	if err != nil {
		return status(&pb.StoreQueryResponse{RequestId: id}, StatusBadRequest, err.(*StatusError).Desc)
	}
	page, err := s.q.Query(ctx, q)
	switch {
	case errors.Is(err, archive.ErrUnknownCursor):
		return status(&pb.StoreQueryResponse{RequestId: id}, StatusBadRequest, "unknown pagination cursor")
	case err != nil:
		s.log.Warn("store query failed", "peer", from, "err", err)
		return status(&pb.StoreQueryResponse{RequestId: id}, StatusServiceUnavailable, "archive query failed")
	}
	resp := toResponse(page, q.IncludeData)
	resp.RequestId = id
	return status(resp, StatusOK, "OK")
}

// allow asks Accounting whether a remote peer (not the node's own REST, from = "") is served.
func (s *Service) allow(from peer.ID) error {
	if from == "" || s.cfg.Accounting == nil {
		return nil
	}
	err := s.cfg.Accounting.Allow(from)
	if err != nil {
		s.log.Debug("store query refused by accounting", "peer", from, "err", err)
	}
	return err
}

func status(r *pb.StoreQueryResponse, code uint32, desc string) *pb.StoreQueryResponse {
	r.StatusCode, r.StatusDesc = &code, &desc
	return r
}
