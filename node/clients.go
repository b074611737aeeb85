package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/peers"
	"github.com/wakunode/wakunode/store"
	storepb "github.com/wakunode/wakunode/store/pb"
)

// Client-call errors (peers.ServicePeer): no peer given or configured for the protocol, or
// the peer could not be dialled.
var (
	ErrNoServicePeer = peers.ErrNoServicePeer
	ErrDialFailure   = peers.ErrDialFailure
)

// servicePeer resolves the peer a client call goes to (peers.ServicePeer): the explicit
// address, else the configured one (--storenode etc.), else the one the peer manager selects.
// It reads the node's fields directly: store resume calls it during Start.
func (n *Node) servicePeer(ctx context.Context, explicit, configured multiaddr.Multiaddr, proto protocol.ID, pubsubTopic string) (peer.ID, error) {
	return n.peers.ServicePeer(ctx, proto, pubsubTopic, explicit, configured)
}

// Store is the node's store protocol as its users see it: queries answered by the local
// archive or by a store node.
type Store struct{ n *Node }

// Store returns the node's store object (usable once Start has returned).
func (n *Node) Store() *Store { return &Store{n} }

// Query runs a store v3 query: against the local archive when the node stores and no peer is
// given, otherwise against peerAddr or the configured/selected store node.
func (s *Store) Query(ctx context.Context, peerAddr multiaddr.Multiaddr, req *storepb.StoreQueryRequest) (*storepb.StoreQueryResponse, error) {
	n := s.n
	if !n.ready() {
		return nil, ErrNotStarted
	}
	if peerAddr == nil && n.storeSvc != nil {
		return n.storeSvc.Answer(ctx, "", req), nil
	}
	p, err := n.servicePeer(ctx, peerAddr, n.cfg.StoreNode, store.QueryProtocol, req.GetPubsubTopic())
	if err != nil {
		return nil, err
	}
	resp, err := n.storeClient.Query(ctx, p, req)
	var se *store.StatusError
	if errors.As(err, &se) && resp != nil && se.Code != store.StatusBadResponse {
		return resp, nil // a non-200 answer is still an answer; the caller reads its status
	}
	return resp, err
}

// LegacyQuery runs a legacy store v2 query, locally or remotely as Query does.
func (s *Store) LegacyQuery(ctx context.Context, peerAddr multiaddr.Multiaddr, q *storepb.HistoryQuery) (*storepb.HistoryResponse, error) {
	n := s.n
	if !n.ready() {
		return nil, ErrNotStarted
	}
	if peerAddr == nil && n.storeSvc != nil {
		out, _ := n.storeSvc.AnswerLegacy(ctx, "", &storepb.HistoryRPC{Query: q})
		return out.GetResponse(), nil
	}
	p, err := n.servicePeer(ctx, peerAddr, n.cfg.StoreNode, store.LegacyProtocol, q.GetPubsubTopic())
	if err != nil {
		return nil, err
	}
	return n.storeClient.LegacyQuery(ctx, p, q)
}

// Resume runs one pass of store resume now (see store.Resume); --store-resume runs it in the
// background at start.
func (s *Store) Resume(ctx context.Context) (store.ResumeResult, error) {
	if !s.n.ready() {
		return store.ResumeResult{}, ErrNotStarted
	}
	if s.n.archive == nil {
		return store.ResumeResult{}, errors.New("store resume needs the store (--store)")
	}
	return store.Resume(ctx, s.n.resumeConfig())
}

// Lightpush is the node's lightpush client.
type Lightpush struct{ n *Node }

// Lightpush returns the node's lightpush object.
func (n *Node) Lightpush() *Lightpush { return &Lightpush{n} }

// Publish pushes m through a lightpush service node (v3, or v2 when legacy). With no service
// peer given or configured, a node that serves lightpush itself publishes locally, through
// the same topic check its lightpush service applies. It returns the relay peer count reported.
func (l *Lightpush) Publish(ctx context.Context, peerAddr multiaddr.Multiaddr, pubsubTopic string, m *pb.WakuMessage, legacy bool) (int, error) {
	n := l.n
	if !n.ready() {
		return 0, ErrNotStarted
	}
	if peerAddr == nil && n.cfg.LightpushNode == nil && n.cfg.Lightpush {
		env, err := n.Validator().Validate(pubsubTopic, m, time.Now().UnixNano())
		if err != nil {
			return 0, err
		}
		return n.relay.PublishEnvelope(ctx, env)
	}
	proto := lightpush.ProtocolV3
	if legacy {
		proto = lightpush.ProtocolLegacy
	}
	p, err := n.servicePeer(ctx, peerAddr, n.cfg.LightpushNode, proto, pubsubTopic)
	if err != nil {
		return 0, err
	}
	if legacy {
		return 0, n.lightpushClient.PushLegacy(ctx, p, pubsubTopic, m)
	}
	return n.lightpushClient.Push(ctx, p, pubsubTopic, m)
}

// Filter is the node's filter protocol as its users see it: the client's subscriptions at a
// filter service node, and what the node's own filter service serves.
type Filter struct{ n *Node }

// Filter returns the node's filter object.
func (n *Node) Filter() *Filter { return &Filter{n} }

// Subscribe subscribes to content topics at the filter service node (--filternode or a
// selected peer). An empty pubsubTopic is derived by autosharding from the content topics,
// which must then share one shard.
func (f *Filter) Subscribe(ctx context.Context, pubsubTopic string, contentTopics []string) (*filter.Subscription, error) {
	n := f.n
	if !n.ready() {
		return nil, ErrNotStarted
	}
	if len(contentTopics) == 0 {
		return nil, errors.New("no content topics")
	}
	if pubsubTopic == "" {
		for _, ct := range contentTopics {
			t, err := n.PubsubTopicFor("", ct)
			if err != nil {
				return nil, err
			}
			if pubsubTopic != "" && t != pubsubTopic {
				return nil, fmt.Errorf("content topics map to different shards (%s, %s): subscribe separately", pubsubTopic, t)
			}
			pubsubTopic = t
		}
	}
	p, err := n.servicePeer(ctx, nil, n.cfg.FilterNode, filter.SubscribeProtocol, pubsubTopic)
	if err != nil {
		return nil, err
	}
	return n.filterClient.Subscribe(ctx, p, pubsubTopic, contentTopics...)
}

// Unsubscribe ends a subscription made by Subscribe.
func (f *Filter) Unsubscribe(ctx context.Context, sub *filter.Subscription) error {
	if !f.n.ready() {
		return ErrNotStarted
	}
	return f.n.filterClient.Unsubscribe(ctx, sub)
}

// UnsubscribeAll drops every subscription at the filter service nodes we subscribed at (or
// --filternode).
func (f *Filter) UnsubscribeAll(ctx context.Context) error {
	return f.eachPeer(ctx, f.n.filterClient.UnsubscribeAll)
}

// Ping checks that the filter service nodes still hold our subscriptions.
func (f *Filter) Ping(ctx context.Context) error { return f.eachPeer(ctx, f.n.filterClient.Ping) }

// eachPeer calls do for the peers holding our subscriptions; with none, --filternode or the
// peer the manager would choose.
func (f *Filter) eachPeer(ctx context.Context, do func(context.Context, peer.ID) error) error {
	n := f.n
	if !n.ready() {
		return ErrNotStarted
	}
	ps := n.filterClient.Peers()
	if len(ps) == 0 {
		p, err := n.servicePeer(ctx, nil, n.cfg.FilterNode, filter.SubscribeProtocol, "")
		if err != nil {
			return err
		}
		ps = []peer.ID{p}
	}
	var errs []error
	for _, p := range ps {
		errs = append(errs, do(ctx, p))
	}
	return errors.Join(errs...)
}

// Served lists what the node's filter service serves (nil when not mounted).
func (f *Filter) Served() []filter.PeerSubscription {
	if !f.n.ready() || f.n.filterSvc == nil {
		return nil
	}
	return f.n.filterSvc.Subscriptions()
}
