package store

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"
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
	// (legacy errors as 200/400/429/503) and how long the answer took.
	Request(protocol string, status uint32, d time.Duration)
}

type nopMetrics struct{}

func (nopMetrics) Request(string, uint32, time.Duration) {}

// ServiceConfig configures the service. Zero fields take the defaults.
type ServiceConfig struct {
	RateLimiter  RateLimiter   // nil = unlimited
	QueryTimeout time.Duration // bound on one archive query and the stream; default 10 s
	Legacy       bool          // also mount the legacy v2 protocol
	Metrics      Metrics
	Logger       *slog.Logger // nil = slog.Default()
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
	s.h.SetStreamHandler(QueryProtocol, s.handleV3)
	if s.cfg.Legacy {
		s.h.SetStreamHandler(LegacyProtocol, s.handleLegacy)
	}
}

// Stop unmounts them. Handlers already running finish within QueryTimeout (the stream
// deadline); they own no other goroutines.
func (s *Service) Stop() {
	s.h.RemoveStreamHandler(QueryProtocol)
	s.h.RemoveStreamHandler(LegacyProtocol)
}

// serve reads one request of at most MaxRequestSize, answers it and closes the stream. Bytes
// that are not a protobuf still get an answer (answer decides); an oversized, truncated or
// missing request resets the stream.
func (s *Service) serve(st network.Stream, answer func(ctx context.Context, from peer.ID, raw []byte) proto.Message) {
	_ = st.SetDeadline(time.Now().Add(s.cfg.QueryTimeout))
	raw, err := msgio.NewVarintReaderSize(st, MaxRequestSize).ReadMsg()
	if err != nil {
		s.log.Debug("store request unreadable", "peer", st.Conn().RemotePeer(), "err", err)
		_ = st.Reset()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.QueryTimeout)
	defer cancel()
	if err := rpc.Write(st, answer(ctx, st.Conn().RemotePeer(), raw)); err != nil {
		s.log.Debug("store response not sent", "err", err)
		_ = st.Reset()
		return
	}
	_ = st.Close()
}

func (s *Service) handleV3(st network.Stream) { s.serve(st, s.answerV3) }

// answerV3 decodes, validates, rate-limits and runs one v3 request. Every response carries a
// status code and echoes the request id.
func (s *Service) answerV3(ctx context.Context, from peer.ID, raw []byte) proto.Message {
	start := time.Now()
	resp := s.queryV3(ctx, from, raw)
	s.cfg.Metrics.Request("v3", resp.GetStatusCode(), time.Since(start))
	return resp
}

func (s *Service) queryV3(ctx context.Context, from peer.ID, raw []byte) *pb.StoreQueryResponse {
	req := &pb.StoreQueryRequest{}
	if err := proto.Unmarshal(raw, req); err != nil {
		return status(&pb.StoreQueryResponse{}, StatusBadRequest, "malformed request: "+err.Error())
	}
	return s.Answer(ctx, from, req)
}

// Answer runs one decoded v3 request: what the service sends over the wire, and what the node
// answers its own REST queries with (from = "" skips the per-peer rate limit).
func (s *Service) Answer(ctx context.Context, from peer.ID, req *pb.StoreQueryRequest) *pb.StoreQueryResponse {
	id := req.GetRequestId()
	if from != "" && s.cfg.RateLimiter != nil && !s.cfg.RateLimiter.Allow(from) {
		return status(&pb.StoreQueryResponse{RequestId: id}, StatusTooManyRequests, "Request rejected due to too many requests")
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

func status(r *pb.StoreQueryResponse, code uint32, desc string) *pb.StoreQueryResponse {
	r.StatusCode, r.StatusDesc = &code, &desc
	return r
}
