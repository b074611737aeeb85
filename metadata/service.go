package metadata

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/metadata/pb"
)

// Config is the local side's metadata, shared by Service and Client.
type Config struct {
	// Cluster is the local cluster ID, always sent.
	Cluster uint16
	// Shards returns the shards currently relayed (read on every exchange, so it follows
	// subscription changes). nil for a node without relay: it sends no shards.
	Shards func() []uint16
	// Timeout bounds one served exchange; 0 means rpc.DefaultTimeout.
	Timeout time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

func (c Config) shards() []uint16 {
	if c.Shards == nil {
		return nil
	}
	return c.Shards()
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c.Logger
}

// Service answers metadata requests with the local cluster and shards, and keeps what each
// requester reported about itself until it disconnects.
type Service struct {
	h       host.Host
	cfg     Config
	log     *slog.Logger
	notifee *network.NotifyBundle

	mu     sync.RWMutex
	remote map[peer.ID]Info
}

// NewService mounts the handler on h.
func NewService(h host.Host, cfg Config) *Service {
	if cfg.Timeout <= 0 {
		cfg.Timeout = rpc.DefaultTimeout
	}
	s := &Service{h: h, cfg: cfg, log: cfg.logger(), remote: make(map[peer.ID]Info)}
	// Forget a peer once its last connection is gone; this runs inline, no goroutine.
	s.notifee = &network.NotifyBundle{DisconnectedF: func(n network.Network, c network.Conn) {
		if p := c.RemotePeer(); n.Connectedness(p) != network.Connected {
			s.mu.Lock()
			delete(s.remote, p)
			s.mu.Unlock()
		}
	}}
	h.Network().Notify(s.notifee)
	h.SetStreamHandler(ProtocolID, s.handler())
	return s
}

func (s *Service) handler() network.StreamHandler {
	sv := &rpc.Server[pb.WakuMetadataRequest, *pb.WakuMetadataRequest]{
		MaxRequest: MaxMessageSize, Timeout: s.cfg.Timeout, Logger: s.log,
		Handle: func(_ context.Context, p peer.ID, req *pb.WakuMetadataRequest) proto.Message {
			s.remember(p, requestInfo(req))
			return newResponse(s.cfg.Cluster, s.cfg.shards())
		},
		// The response has no status field. A request we cannot read still gets our metadata
		// (public, and what the peer needs to decide about us); nothing of it is kept.
		Refuse: func(uint32, string) proto.Message { return newResponse(s.cfg.Cluster, s.cfg.shards()) },
	}
	return sv.ServeStream
}

func (s *Service) remember(p peer.ID, info Info) {
	s.mu.Lock()
	s.remote[p] = info
	s.mu.Unlock()
}

// Remote returns what peer p reported in its last request, if it sent one on its current
// connection.
func (s *Service) Remote(p peer.ID) (Info, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	info, ok := s.remote[p]
	return info, ok
}

// Close removes the handler and the notifee.
func (s *Service) Close() {
	s.h.RemoveStreamHandler(ProtocolID)
	s.h.Network().StopNotify(s.notifee)
	s.mu.Lock()
	clear(s.remote)
	s.mu.Unlock()
}

// Client queries peers' metadata, sending the local cluster and shards in the request.
type Client struct {
	h   host.Host
	cfg Config
}

// NewClient returns a client for h.
func NewClient(h host.Host, cfg Config) *Client { return &Client{h: h, cfg: cfg} }

// Query asks p for its metadata. The result is not verified; see Verify.
func (c *Client) Query(ctx context.Context, p peer.ID) (Info, error) {
	resp := &pb.WakuMetadataResponse{}
	req := newRequest(c.cfg.Cluster, c.cfg.shards())
	if err := rpc.Request(ctx, c.h, p, req, resp, MaxMessageSize, ProtocolID); err != nil {
		return Info{}, fmt.Errorf("metadata query %s: %w", p, err)
	}
	return responseInfo(resp), nil
}
