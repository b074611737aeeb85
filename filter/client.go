package filter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"

	"github.com/wakunode/wakunode/filter/pb"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/message"
)

// Client defaults.
const (
	DefaultPingInterval = time.Minute
	DefaultBufferSize   = 256
)

// ClientConfig configures a filter client. Zero fields take the defaults above.
type ClientConfig struct {
	PingInterval   time.Duration // keep-alive ping of each service peer; a failed ping re-subscribes
	RequestTimeout time.Duration // bound on one subscribe-protocol exchange without a ctx deadline
	BufferSize     int           // per-subscription channel; a full channel drops pushes
	Logger         *slog.Logger  // nil = slog.Default()
	Now            func() time.Time
	// Observer hears of each push and of failed subscribes and pings; nil = off.
	Observer ClientObserver
}

// Client subscribes to filter service nodes and delivers their pushes on channels.
type Client struct {
	h   host.Host
	cfg ClientConfig
	log *slog.Logger

	mu      sync.RWMutex
	subs    map[peer.ID][]*Subscription
	streams map[network.Stream]struct{} // open push streams, reset by Close
	closed  bool

	kick    chan struct{}
	notifee *network.NotifyBundle
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Subscription is one Subscribe call's criteria; matching messages arrive on C until it is
// unsubscribed or the client is closed, when C is closed.
type Subscription struct {
	Peer          peer.ID
	PubsubTopic   string
	ContentTopics []string
	C             <-chan *message.Envelope

	c      chan *message.Envelope
	topics map[string]struct{}
	closed bool
}

// NewClient mounts the push handler on h and starts the keep-alive loop; Close stops both.
func NewClient(h host.Host, cfg ClientConfig) *Client {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = rpc.DefaultTimeout
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		h: h, cfg: cfg, log: cfg.Logger.With("protocol", "filter-client"),
		subs: map[peer.ID][]*Subscription{}, streams: map[network.Stream]struct{}{}, kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel,
	}
	c.notifee = &network.NotifyBundle{DisconnectedF: func(n network.Network, conn network.Conn) {
		p := conn.RemotePeer()
		if n.Connectedness(p) == network.Connected {
			return
		}
		c.mu.RLock()
		_, ours := c.subs[p]
		c.mu.RUnlock()
		if ours {
			select {
			case c.kick <- struct{}{}:
			default:
			}
		}
	}}
	h.SetStreamHandler(PushProtocol, c.handlePush)
	h.Network().Notify(c.notifee)
	c.wg.Add(1)
	go c.keepAlive()
	return c
}

// Close unmounts the push handler, stops the keep-alive loop and closes every subscription's
// channel. It does not unsubscribe at the service nodes (their subscriptions expire).
func (c *Client) Close() {
	c.h.RemoveStreamHandler(PushProtocol)
	c.h.Network().StopNotify(c.notifee)
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, subs := range c.subs {
		for _, s := range subs {
			s.close()
		}
		delete(c.subs, p)
	}
	for st := range c.streams {
		_ = st.Reset()
	}
	c.closed = true
}

// Peers lists the service peers this client holds subscriptions at, sorted.
func (c *Client) Peers() []peer.ID {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]peer.ID, 0, len(c.subs))
	for p := range c.subs {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// trackStream adds (or removes) an open push stream; adding fails once the client is closed.
func (c *Client) trackStream(st network.Stream, add bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !add {
		delete(c.streams, st)
		return true
	}
	if c.closed {
		return false
	}
	c.streams[st] = struct{}{}
	return true
}

func (s *Subscription) close() {
	if !s.closed {
		s.closed = true
		close(s.c)
	}
}

// Subscribe asks p to push messages on pubsubTopic with any of contentTopics.
func (c *Client) Subscribe(ctx context.Context, p peer.ID, pubsubTopic string, contentTopics ...string) (*Subscription, error) {
	if pubsubTopic == "" || len(contentTopics) == 0 {
		return nil, errors.New("filter subscribe: pubsub topic and content topics are required")
	}
	sub := &Subscription{
		Peer: p, PubsubTopic: pubsubTopic, ContentTopics: slices.Clone(contentTopics),
		c: make(chan *message.Envelope, c.cfg.BufferSize), topics: map[string]struct{}{},
	}
	sub.C = sub.c
	for _, ct := range contentTopics {
		sub.topics[ct] = struct{}{}
	}
	// Register first so that a push racing the response is not lost.
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errors.New("filter subscribe: client closed")
	}
	c.subs[p] = append(c.subs[p], sub)
	c.mu.Unlock()
	if err := c.request(ctx, p, pb.FilterSubscribeRequest_SUBSCRIBE, pubsubTopic, contentTopics); err != nil {
		c.remove(sub)
		return nil, err
	}
	return sub, nil
}

// Unsubscribe closes sub and asks its peer to stop pushing the content topics no other
// subscription of this client still needs.
func (c *Client) Unsubscribe(ctx context.Context, sub *Subscription) error {
	if !c.remove(sub) {
		return nil
	}
	c.mu.RLock()
	var drop []string
	for _, ct := range sub.ContentTopics {
		if !c.wantedLocked(sub.Peer, sub.PubsubTopic, ct) && !slices.Contains(drop, ct) {
			drop = append(drop, ct)
		}
	}
	c.mu.RUnlock()
	if len(drop) == 0 {
		return nil
	}
	return c.request(ctx, sub.Peer, pb.FilterSubscribeRequest_UNSUBSCRIBE, sub.PubsubTopic, drop)
}

// UnsubscribeAll closes every subscription with p and asks p to drop them all.
func (c *Client) UnsubscribeAll(ctx context.Context, p peer.ID) error {
	c.mu.Lock()
	for _, s := range c.subs[p] {
		s.close()
	}
	delete(c.subs, p)
	c.mu.Unlock()
	return c.request(ctx, p, pb.FilterSubscribeRequest_UNSUBSCRIBE_ALL, "", nil)
}

// Ping checks that p still holds a subscription for us (and refreshes it there).
func (c *Client) Ping(ctx context.Context, p peer.ID) error {
	return c.request(ctx, p, pb.FilterSubscribeRequest_SUBSCRIBER_PING, "", nil)
}

func (c *Client) remove(sub *Subscription) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	subs := c.subs[sub.Peer]
	i := slices.Index(subs, sub)
	if i < 0 {
		return false
	}
	subs = slices.Delete(subs, i, i+1)
	if len(subs) == 0 {
		delete(c.subs, sub.Peer)
	} else {
		c.subs[sub.Peer] = subs
	}
	sub.close()
	return true
}

func (c *Client) wantedLocked(p peer.ID, pubsubTopic, ct string) bool {
	for _, s := range c.subs[p] {
		if _, ok := s.topics[ct]; ok && s.PubsubTopic == pubsubTopic {
			return true
		}
	}
	return false
}

// request sends one subscribe-protocol request, splitting content topics into requests of at
// most MaxContentTopicsPerRequest. A failed SUBSCRIBE or PING is reported to the Observer as
// Failed (a ping's 404 too: p lost our subscription), but not one the caller cancelled, nor a
// 400 (our criteria were bad), nor an UNSUBSCRIBE (a 404 there is no fault of p's).
func (c *Client) request(ctx context.Context, p peer.ID, typ pb.FilterSubscribeRequest_FilterSubscribeType, pubsubTopic string, cts []string) error {
	err := c.exchange(ctx, p, typ, pubsubTopic, cts)
	if err != nil && c.cfg.Observer != nil && !errors.Is(ctx.Err(), context.Canceled) && !IsStatus(err, StatusBadRequest) &&
		(typ == pb.FilterSubscribeRequest_SUBSCRIBE || typ == pb.FilterSubscribeRequest_SUBSCRIBER_PING) {
		c.cfg.Observer.Failed(p)
	}
	return err
}

func (c *Client) exchange(ctx context.Context, p peer.ID, typ pb.FilterSubscribeRequest_FilterSubscribeType, pubsubTopic string, cts []string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.RequestTimeout)
		defer cancel()
	}
	for first := true; first || len(cts) > 0; first = false {
		req := &pb.FilterSubscribeRequest{RequestId: rpc.NewRequestID(), FilterSubscribeType: typ}
		if pubsubTopic != "" {
			req.PubsubTopic = &pubsubTopic
		}
		n := min(len(cts), MaxContentTopicsPerRequest)
		req.ContentTopics, cts = cts[:n], cts[n:]
		resp := &pb.FilterSubscribeResponse{}
		if err := rpc.Request(ctx, c.h, p, req, resp, MaxResponseSize, SubscribeProtocol); err != nil {
			return fmt.Errorf("filter %s: %w", typ, err)
		}
		if resp.GetStatusCode() != StatusOK {
			desc := resp.GetStatusDesc()
			if desc == "" {
				desc = rpc.StatusText(resp.GetStatusCode())
			}
			return fmt.Errorf("filter %s to %s: %w", typ, p, &StatusError{Protocol: "filter", Code: resp.GetStatusCode(), Desc: desc})
		}
	}
	return nil
}

func (c *Client) handlePush(st network.Stream) {
	defer st.Close()
	p := st.Conn().RemotePeer()
	c.mu.RLock()
	_, ours := c.subs[p]
	c.mu.RUnlock()
	if !ours {
		c.log.Debug("push from a peer we did not subscribe to", "peer", p)
		_ = st.Reset()
		return
	}
	// Services keep one push stream open for all pushes (as nwaku does); it ends when the
	// service closes it, the connection goes, or Close resets it.
	if !c.trackStream(st, true) {
		_ = st.Reset()
		return
	}
	defer c.trackStream(st, false)
	r := msgio.NewVarintReaderSize(st, MaxRPCSize)
	for {
		b, err := readFrame(st, r)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.log.Debug("filter push", "peer", p, "err", err)
				_ = st.Reset()
			}
			return
		}
		c.deliver(p, b)
	}
}

func (c *Client) deliver(p peer.ID, b []byte) {
	topic, hasTopic, raw, err := decodePush(b)
	if err != nil || !hasTopic {
		c.log.Debug("dropping filter push", "peer", p, "err", err, "has_pubsub_topic", hasTopic)
		return
	}
	env, err := message.Decode(topic, raw, c.cfg.Now().UnixNano())
	if err != nil {
		c.log.Debug("dropping filter push", "peer", p, "err", err)
		return
	}
	if c.cfg.Observer != nil { // p pushed a message to a subscriber of its: served, even if unwanted now
		c.cfg.Observer.Received(p, 1)
	}
	ct := env.Message.GetContentTopic()
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, s := range c.subs[p] {
		if _, ok := s.topics[ct]; !ok || s.PubsubTopic != topic || s.closed {
			continue
		}
		select {
		case s.c <- env:
		default:
			c.log.Debug("filter subscription buffer full, dropping", "content_topic", ct)
		}
	}
}

// keepAlive pings every service peer each PingInterval and re-subscribes when the ping fails
// or the peer is gone; a disconnect triggers an immediate attempt.
func (c *Client) keepAlive() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.refresh(true)
		case <-c.kick:
			c.refresh(false)
		}
	}
}

func (c *Client) refresh(ping bool) {
	c.mu.RLock()
	peers := make([]peer.ID, 0, len(c.subs))
	for p := range c.subs {
		peers = append(peers, p)
	}
	c.mu.RUnlock()
	for _, p := range peers {
		if c.ctx.Err() != nil {
			return
		}
		connected := c.h.Network().Connectedness(p) == network.Connected
		if connected && !ping {
			continue
		}
		if connected {
			err := c.Ping(c.ctx, p)
			if err == nil {
				continue
			}
			c.log.Debug("filter ping failed, re-subscribing", "peer", p, "err", err)
		}
		if err := c.resubscribe(p); err != nil {
			c.log.Info("filter re-subscribe failed", "peer", p, "err", err)
		}
	}
}

// resubscribe sends the union of this client's criteria with p again.
func (c *Client) resubscribe(p peer.ID) error {
	c.mu.RLock()
	byTopic := map[string][]string{}
	for _, s := range c.subs[p] {
		for ct := range s.topics {
			if !slices.Contains(byTopic[s.PubsubTopic], ct) {
				byTopic[s.PubsubTopic] = append(byTopic[s.PubsubTopic], ct)
			}
		}
	}
	c.mu.RUnlock()
	for pt, cts := range byTopic {
		if err := c.request(c.ctx, p, pb.FilterSubscribeRequest_SUBSCRIBE, pt, cts); err != nil {
			return err
		}
	}
	return nil
}
