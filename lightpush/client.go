package lightpush

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/lightpush/pb"
	mpb "github.com/wakunode/wakunode/message/pb"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// Observer hears of each push's success or failure (accounting, reputation); nil = off.
	Observer ClientObserver
}

// Client pushes messages through lightpush service nodes.
type Client struct {
	h   host.Host
	cfg ClientConfig
}

// NewClient returns a client on h configured by cfg (at most one; none = the zero config). A
// ctx without deadline gets rpc.DefaultTimeout per push.
func NewClient(h host.Host, cfg ...ClientConfig) *Client {
	c := &Client{h: h}
	if len(cfg) > 0 {
		c.cfg = cfg[0]
	}
	return c
}

// Push publishes m through p with v3. An empty pubsubTopic is left out of the request so the
// service node derives it by autosharding. It returns the relay peer count the service reports;
// a non-200 answer is a *StatusError. The Observer hears of the outcome (see observe).
func (c *Client) Push(ctx context.Context, p peer.ID, pubsubTopic string, m *mpb.WakuMessage) (int, error) {
	n, err := c.push(ctx, p, pubsubTopic, m)
	c.observe(ctx, p, err)
	return n, err
}

// observe tells the Observer how p served one push: Received(p, 1) when it accepted the
// message, Failed(p) on any error, timeout or refusal (402, 429, 503, 505...). Two outcomes
// say nothing about p and are not reported: the caller cancelled ctx, or p refused the message
// itself as malformed (400, 413, 420), which any honest node would.
func (c *Client) observe(ctx context.Context, p peer.ID, err error) {
	switch {
	case c.cfg.Observer == nil:
	case err == nil:
		c.cfg.Observer.Received(p, 1)
	case errors.Is(ctx.Err(), context.Canceled), IsStatus(err, StatusBadRequest),
		IsStatus(err, StatusPayloadTooLarge), IsStatus(err, StatusInvalidMessage):
	default:
		c.cfg.Observer.Failed(p)
	}
}

func (c *Client) push(ctx context.Context, p peer.ID, pubsubTopic string, m *mpb.WakuMessage) (int, error) {
	req := &pb.LightpushRequest{RequestId: rpc.NewRequestID(), Message: m}
	if pubsubTopic != "" {
		req.PubsubTopic = &pubsubTopic
	}
	resp := &pb.LightpushResponse{}
	if err := rpc.Request(ctx, c.h, p, req, resp, MaxResponseSize, ProtocolV3); err != nil {
		return 0, requestErr("lightpush", err)
	}
	if resp.GetRequestId() != req.RequestId {
		return 0, fmt.Errorf("lightpush: response request id %q, want %q", resp.GetRequestId(), req.RequestId)
	}
	if code := resp.GetStatusCode(); code != StatusOK {
		desc := resp.GetStatusDesc()
		if desc == "" {
			desc = rpc.StatusText(code)
		}
		return 0, &StatusError{Protocol: "lightpush", Code: code, Desc: desc}
	}
	return int(resp.GetRelayPeerCount()), nil
}

// PushLegacy publishes m through p with the legacy v2 protocol; a refusal is a *StatusError
// with Code 0 and the service's info text. The Observer hears of it as of Push.
func (c *Client) PushLegacy(ctx context.Context, p peer.ID, pubsubTopic string, m *mpb.WakuMessage) error {
	err := c.pushLegacy(ctx, p, pubsubTopic, m)
	c.observe(ctx, p, err)
	return err
}

func (c *Client) pushLegacy(ctx context.Context, p peer.ID, pubsubTopic string, m *mpb.WakuMessage) error {
	req := &pb.PushRPC{RequestId: rpc.NewRequestID(), Request: &pb.PushRequest{PubsubTopic: pubsubTopic, Message: m}}
	resp := &pb.PushRPC{}
	if err := rpc.Request(ctx, c.h, p, req, resp, MaxResponseSize, ProtocolLegacy); err != nil {
		return requestErr("lightpush legacy", err)
	}
	if resp.Response == nil {
		return fmt.Errorf("lightpush legacy: response without push response")
	}
	if !resp.Response.GetIsSuccess() {
		return &StatusError{Protocol: "lightpush", Desc: resp.Response.GetInfo()}
	}
	return nil
}

// requestErr names a failed dial with nwaku's "dial_failure", which REST shows and clients
// match on.
func requestErr(proto string, err error) error {
	if errors.Is(err, rpc.ErrDial) {
		return fmt.Errorf("%s: %s: %w", proto, DescDialFailure, err)
	}
	return fmt.Errorf("%s: %w", proto, err)
}
