package lightpush

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/lightpush/pb"
	"github.com/wakunode/wakunode/message"
	mpb "github.com/wakunode/wakunode/message/pb"
)

// Publisher is the node's relay (*relay.Relay satisfies it): it publishes an envelope that
// passed the validation path and returns the number of relay peers it went to. Errors may wrap
// this package's Err* values to choose the status code; anything else is answered 500.
type Publisher interface {
	PublishEnvelope(ctx context.Context, env *message.Envelope) (relayPeers int, err error)
}

// Limiter is a per-peer request rate limit (ratelimit.Limiter satisfies it).
type Limiter interface {
	Allow(peer.ID) bool
}

// Metrics receives the service's counters; nil in Config means none.
type Metrics interface {
	// Request counts one request by protocol version ("v3" or "v2") and the v3 status code
	// answered (for v2 the code the v3 protocol would have sent).
	Request(version string, status uint32)
}

type nopMetrics struct{}

func (nopMetrics) Request(string, uint32) {}

// Config configures the service.
type Config struct {
	Publisher Publisher // required
	// Validator is the node's one validation path: it resolves the pubsub topic (autosharding
	// when the request names none), checks cluster, served shard and the message rules.
	Validator   message.Validator
	RateLimiter Limiter // nil = no limit; rejected requests get 429
	// RequireRelayPeers answers 505 NO_PEERS_TO_RELAY when the message reached no relay peer.
	// Default false: a node with no relay peers still accepts the message (it is stored and
	// served by filter through the node's message bus) and answers 200 with relay_peer_count
	// 0, because js-waku treats any code but 200 as failure.
	RequireRelayPeers bool
	Timeout           time.Duration // per request; 0 = rpc.DefaultTimeout
	Metrics           Metrics
	Logger            *slog.Logger // nil = slog.Default()
	// Accounting is asked before each push and told of each accepted message; nil = off.
	Accounting Accounting
}

// Service serves both lightpush versions.
type Service struct {
	h   host.Host
	cfg Config
	log *slog.Logger
}

// NewService returns a service on h; Start mounts it.
func NewService(h host.Host, cfg Config) (*Service, error) {
	if cfg.Publisher == nil {
		return nil, errors.New("lightpush: Config.Publisher is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = rpc.DefaultTimeout
	}
	if cfg.Metrics == nil {
		cfg.Metrics = nopMetrics{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{h: h, cfg: cfg, log: cfg.Logger.With("protocol", "lightpush")}, nil
}

// Start mounts v3 and v2.
func (s *Service) Start() {
	v3 := &rpc.Server[pb.LightpushRequest, *pb.LightpushRequest]{
		MaxRequest: MaxRPCSize, Timeout: s.cfg.Timeout, Logger: s.log, Handle: s.handleV3,
		Refuse: func(code uint32, desc string) proto.Message {
			s.cfg.Metrics.Request("v3", code)
			return &pb.LightpushResponse{StatusCode: code, StatusDesc: &desc}
		},
	}
	v2 := &rpc.Server[pb.PushRPC, *pb.PushRPC]{
		MaxRequest: MaxRPCSize, Timeout: s.cfg.Timeout, Logger: s.log, Handle: s.handleLegacy,
		Refuse: func(code uint32, desc string) proto.Message {
			s.cfg.Metrics.Request("v2", code)
			return &pb.PushRPC{Response: &pb.PushResponse{IsSuccess: false, Info: &desc}}
		},
	}
	s.h.SetStreamHandler(ProtocolV3, v3.ServeStream)
	s.h.SetStreamHandler(ProtocolLegacy, v2.ServeStream)
}

// Stop unmounts both protocols. Requests in flight finish within Timeout.
func (s *Service) Stop() {
	s.h.RemoveStreamHandler(ProtocolV3)
	s.h.RemoveStreamHandler(ProtocolLegacy)
}

// handleV3 answers one decoded v3 request.
func (s *Service) handleV3(ctx context.Context, p peer.ID, req *pb.LightpushRequest) proto.Message {
	code, desc, peers := s.push(ctx, p, req.GetPubsubTopic(), req.GetMessage())
	s.cfg.Metrics.Request("v3", code)
	resp := &pb.LightpushResponse{RequestId: req.GetRequestId(), StatusCode: code}
	if desc != "" {
		resp.StatusDesc = &desc
	}
	if code == StatusOK {
		n := uint32(peers)
		resp.RelayPeerCount = &n
	}
	return resp
}

// handleLegacy answers one decoded v2 PushRPC.
func (s *Service) handleLegacy(ctx context.Context, p peer.ID, rpc *pb.PushRPC) proto.Message {
	var code uint32
	var desc string
	if rpc.Request == nil {
		code, desc = StatusBadRequest, "invalid request: no push request"
	} else {
		code, desc, _ = s.push(ctx, p, rpc.Request.GetPubsubTopic(), rpc.Request.GetMessage())
	}
	s.cfg.Metrics.Request("v2", code)
	switch code {
	case StatusOK:
		desc = "OK"
	case StatusNoPeersToRelay:
		desc = DescNotPublished
	}
	return &pb.PushRPC{RequestId: rpc.GetRequestId(), Response: &pb.PushResponse{IsSuccess: code == StatusOK, Info: &desc}}
}

// push is the one request path both versions share: rate limit, accounting, the node's
// validation path, publish. An accepted message is booked as served (the answer itself is not
// waited for: the message was published on p's behalf whether or not p reads the answer).
func (s *Service) push(ctx context.Context, p peer.ID, topic string, m *mpb.WakuMessage) (uint32, string, int) {
	if s.cfg.RateLimiter != nil && !s.cfg.RateLimiter.Allow(p) {
		return StatusTooManyRequests, descRateLimited, 0
	}
	if s.cfg.Accounting != nil {
		if err := s.cfg.Accounting.Allow(p); err != nil {
			s.log.Debug("lightpush refused by accounting", "peer", p, "err", err)
			return StatusPaymentRequired, err.Error(), 0
		}
	}
	if m == nil {
		return StatusBadRequest, "invalid request: message is missing", 0
	}
	env, err := s.cfg.Validator.Validate(topic, m, time.Now().UnixNano())
	if err != nil {
		return StatusFor(err), err.Error(), 0
	}
	peers, err := s.cfg.Publisher.PublishEnvelope(ctx, env)
	if err != nil {
		code := StatusFor(err)
		if code == StatusInternalServerError {
			s.log.Warn("lightpush publish failed", "peer", p, "topic", env.PubsubTopic, "err", err)
		}
		return code, err.Error(), 0
	}
	if peers == 0 && s.cfg.RequireRelayPeers {
		return StatusNoPeersToRelay, ErrNoPeersToRelay.Error(), 0
	}
	if s.cfg.Accounting != nil {
		s.cfg.Accounting.Served(p, 1)
	}
	return StatusOK, "", peers
}
