package store

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/store/pb"
)

// ClientConfig configures a Client. Zero fields take the defaults.
type ClientConfig struct {
	// MaxResponseSize bounds one response; default DefaultMaxResponseSize.
	MaxResponseSize int
	// Observer hears each peer's answers (accounting, reputation); nil = off.
	Observer ClientObserver
}

// Client queries store nodes.
type Client struct {
	h   host.Host
	cfg ClientConfig
}

// NewClient returns a client dialing from h.
func NewClient(h host.Host, cfg ClientConfig) *Client {
	if cfg.MaxResponseSize <= 0 {
		cfg.MaxResponseSize = DefaultMaxResponseSize
	}
	return &Client{h: h, cfg: cfg}
}

// Query sends one v3 request to p (req is not modified; a missing request_id is generated).
// A response whose status is not 200 is returned together with a *StatusError; a response
// with the wrong request_id or no status is a StatusBadResponse error. The Observer hears
// Received for a 200 page and Failed for anything else (see observe).
func (c *Client) Query(ctx context.Context, p peer.ID, req *pb.StoreQueryRequest) (*pb.StoreQueryResponse, error) {
	resp, err := c.query(ctx, p, req)
	c.observe(ctx, p, len(resp.GetMessages()), err)
	return resp, err
}

// observe tells the Observer how p answered: Received with the page's messages on success,
// Failed on any error, timeout or non-200 status (a 429 or 402 refusal included). Two outcomes
// say nothing about p and are not reported: the caller cancelled ctx, or p answered 400 to a
// request any honest node would refuse (a bad cursor, too many content topics).
func (c *Client) observe(ctx context.Context, p peer.ID, messages int, err error) {
	switch {
	case c.cfg.Observer == nil:
	case err == nil:
		c.cfg.Observer.Received(p, messages)
	case errors.Is(ctx.Err(), context.Canceled), IsStatus(err, StatusBadRequest):
	default:
		c.cfg.Observer.Failed(p)
	}
}

func (c *Client) query(ctx context.Context, p peer.ID, req *pb.StoreQueryRequest) (*pb.StoreQueryResponse, error) {
	req = proto.CloneOf(req)
	if req.RequestId == "" {
		req.RequestId = rpc.NewRequestID()
	}
	resp := &pb.StoreQueryResponse{}
	if err := rpc.Request(ctx, c.h, p, req, resp, c.cfg.MaxResponseSize, QueryProtocol); err != nil {
		return nil, fmt.Errorf("store query %s: %w", p, err)
	}
	if resp.RequestId != req.RequestId {
		return resp, &StatusError{Protocol: "store", Code: StatusBadResponse, Desc: fmt.Sprintf("request_id %q, want %q", resp.RequestId, req.RequestId)}
	}
	if resp.StatusCode == nil {
		return resp, &StatusError{Protocol: "store", Code: StatusBadResponse, Desc: "response has no status_code"}
	}
	if resp.GetStatusCode() != StatusOK {
		return resp, &StatusError{Protocol: "store", Code: resp.GetStatusCode(), Desc: resp.GetStatusDesc()}
	}
	return resp, nil
}

// Pages runs req and follows pagination cursors until the last page (or the first error,
// yielded last). Each page keeps every other field of req unchanged, as store.md requires.
func (c *Client) Pages(ctx context.Context, p peer.ID, req *pb.StoreQueryRequest) iter.Seq2[*pb.StoreQueryResponse, error] {
	return func(yield func(*pb.StoreQueryResponse, error) bool) {
		req := proto.CloneOf(req)
		for {
			req.RequestId = rpc.NewRequestID()
			resp, err := c.Query(ctx, p, req)
			if err != nil {
				yield(resp, err)
				return
			}
			if !yield(resp, nil) || resp.PaginationCursor == nil {
				return
			}
			req.PaginationCursor = resp.PaginationCursor
		}
	}
}

// LegacyQuery sends one legacy v2 query to p. A response error other than NONE is returned
// with a *StatusError (INVALID_CURSOR as 400). The Observer hears of it as of Query.
func (c *Client) LegacyQuery(ctx context.Context, p peer.ID, q *pb.HistoryQuery) (*pb.HistoryResponse, error) {
	resp, err := c.legacyQuery(ctx, p, q)
	c.observe(ctx, p, len(resp.GetMessages()), err)
	return resp, err
}

func (c *Client) legacyQuery(ctx context.Context, p peer.ID, q *pb.HistoryQuery) (*pb.HistoryResponse, error) {
	req := &pb.HistoryRPC{RequestId: rpc.NewRequestID(), Query: q}
	out := &pb.HistoryRPC{}
	if err := rpc.Request(ctx, c.h, p, req, out, c.cfg.MaxResponseSize, LegacyProtocol); err != nil {
		return nil, fmt.Errorf("legacy store query %s: %w", p, err)
	}
	resp := out.GetResponse()
	switch {
	case out.RequestId != req.RequestId:
		return resp, &StatusError{Protocol: "store", Code: StatusBadResponse, Desc: fmt.Sprintf("request_id %q, want %q", out.RequestId, req.RequestId)}
	case resp == nil:
		return nil, &StatusError{Protocol: "store", Code: StatusBadResponse, Desc: "no response"}
	case resp.Error == pb.HistoryResponse_NONE:
		return resp, nil
	case resp.Error == pb.HistoryResponse_INVALID_CURSOR:
		return resp, &StatusError{Protocol: "store", Code: StatusBadRequest, Desc: "invalid cursor"}
	default:
		return resp, &StatusError{Protocol: "store", Code: uint32(resp.Error), Desc: resp.Error.String()}
	}
}

// LegacyPages runs q and follows its cursors until the last page or the first error.
func (c *Client) LegacyPages(ctx context.Context, p peer.ID, q *pb.HistoryQuery) iter.Seq2[*pb.HistoryResponse, error] {
	return func(yield func(*pb.HistoryResponse, error) bool) {
		q := proto.CloneOf(q)
		if q.PagingInfo == nil {
			q.PagingInfo = &pb.PagingInfo{}
		}
		for {
			resp, err := c.LegacyQuery(ctx, p, q)
			if err != nil {
				yield(resp, err)
				return
			}
			if !yield(resp, nil) || resp.GetPagingInfo().GetCursor() == nil {
				return
			}
			q.PagingInfo.Cursor = resp.PagingInfo.Cursor
		}
	}
}
