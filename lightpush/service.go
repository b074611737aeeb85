package lightpush

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"
	"github.com/libp2p/go-msgio/pbio"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/lightpush/pb"
	mpb "github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/sharding"
)

// DefaultTimeout bounds one request, publish included.
const DefaultTimeout = 10 * time.Second

// Publisher is the node's relay: Publish runs the node's one validation path and publishes.
// It returns the number of relay peers the message went to. Errors should wrap the message
// package's validation errors or this package's Err* values to get the right status code;
// anything else is answered 500.
type Publisher interface {
	Publish(ctx context.Context, pubsubTopic string, m *mpb.WakuMessage) (relayPeers int, err error)
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
	// PubsubTopics lists the served pubsub topics; a request for another gets 421. nil leaves
	// the decision to the Publisher (which may return ErrUnsupportedTopic).
	PubsubTopics func() []string
	// Autosharding, when set, derives the pubsub topic from the content topic when the
	// request has none; without it such a request gets 400.
	Autosharding *sharding.Autosharding
	RateLimiter  Limiter // nil = no limit; rejected requests get 429
	// RequireRelayPeers answers 505 NO_PEERS_TO_RELAY when the message reached no relay peer.
	// Default false: a node with no relay peers still accepts the message (it is stored and
	// served by filter through the node's message bus) and answers 200 with relay_peer_count
	// 0, because js-waku treats any code but 200 as failure.
	RequireRelayPeers bool
	Timeout           time.Duration // per request; 0 = DefaultTimeout
	Metrics           Metrics
	Logger            *slog.Logger // nil = slog.Default()
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
	if cfg.Autosharding != nil && cfg.Autosharding.NumShards == 0 {
		return nil, errors.New("lightpush: autosharding needs NumShards > 0")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
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
	s.h.SetStreamHandler(ProtocolV3, s.stream(s.handleV3))
	s.h.SetStreamHandler(ProtocolLegacy, s.stream(s.handleLegacy))
}

// Stop unmounts both protocols. Requests in flight finish within Timeout.
func (s *Service) Stop() {
	s.h.RemoveStreamHandler(ProtocolV3)
	s.h.RemoveStreamHandler(ProtocolLegacy)
}

func (s *Service) stream(handle func(context.Context, peer.ID, []byte) proto.Message) network.StreamHandler {
	return func(st network.Stream) {
		defer st.Close()
		_ = st.SetDeadline(time.Now().Add(s.cfg.Timeout))
		b, err := msgio.NewVarintReaderSize(st, MaxRPCSize).ReadMsg()
		if err != nil {
			s.log.Debug("read lightpush request", "peer", st.Conn().RemotePeer(), "err", err)
			_ = st.Reset()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
		defer cancel()
		resp := handle(ctx, st.Conn().RemotePeer(), b)
		if err := pbio.NewDelimitedWriter(st).WriteMsg(resp); err != nil {
			s.log.Debug("write lightpush response", "err", err)
			_ = st.Reset()
		}
	}
}

// handleV3 answers one encoded v3 request.
func (s *Service) handleV3(ctx context.Context, p peer.ID, b []byte) proto.Message {
	req := &pb.LightpushRequest{}
	var code uint32
	var desc string
	var peers int
	if err := proto.Unmarshal(b, req); err != nil {
		code, desc = StatusBadRequest, fmt.Sprintf("decode request: %v", err)
	} else {
		code, desc, peers = s.push(ctx, p, req.GetPubsubTopic(), req.GetMessage())
	}
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

// handleLegacy answers one encoded v2 PushRPC.
func (s *Service) handleLegacy(ctx context.Context, p peer.ID, b []byte) proto.Message {
	rpc := &pb.PushRPC{}
	var code uint32
	var desc string
	switch err := proto.Unmarshal(b, rpc); {
	case err != nil:
		code, desc = StatusBadRequest, fmt.Sprintf("decode request: %v", err)
	case rpc.Request == nil:
		code, desc = StatusBadRequest, "invalid request: no push request"
	default:
		code, desc, _ = s.push(ctx, p, rpc.Request.GetPubsubTopic(), rpc.Request.GetMessage())
	}
	s.cfg.Metrics.Request("v2", code)
	ok := code == StatusOK
	if ok {
		desc = "OK"
	}
	return &pb.PushRPC{RequestId: rpc.GetRequestId(), Response: &pb.PushResponse{IsSuccess: ok, Info: &desc}}
}

// push is the one request path both versions share.
func (s *Service) push(ctx context.Context, p peer.ID, topic string, m *mpb.WakuMessage) (uint32, string, int) {
	if s.cfg.RateLimiter != nil && !s.cfg.RateLimiter.Allow(p) {
		return StatusTooManyRequests, descRateLimited, 0
	}
	if m == nil {
		return StatusBadRequest, "invalid request: message is missing", 0
	}
	if topic == "" {
		if s.cfg.Autosharding == nil {
			return StatusBadRequest, "invalid request: pubsub topic is required (autosharding is off)", 0
		}
		sh, err := s.cfg.Autosharding.Shard(m.GetContentTopic())
		if err != nil {
			return StatusBadRequest, fmt.Sprintf("invalid request: cannot derive pubsub topic: %v", err), 0
		}
		topic = sh.PubsubTopic()
	}
	if s.cfg.PubsubTopics != nil && !slices.Contains(s.cfg.PubsubTopics(), topic) {
		return StatusUnsupportedPubsubTopic, fmt.Sprintf("pubsub topic %s is not served by this node", topic), 0
	}
	peers, err := s.cfg.Publisher.Publish(ctx, topic, m)
	if err != nil {
		code := classify(err)
		if code == StatusInternalServerError {
			s.log.Warn("lightpush publish failed", "peer", p, "topic", topic, "err", err)
		}
		return code, err.Error(), 0
	}
	if peers == 0 && s.cfg.RequireRelayPeers {
		return StatusNoPeersToRelay, ErrNoPeersToRelay.Error(), 0
	}
	return StatusOK, "", peers
}
