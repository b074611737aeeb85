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
	"github.com/wakunode/wakunode/store"
	storepb "github.com/wakunode/wakunode/store/pb"
)

// Client-call errors: no peer given or configured for the protocol, or the peer could not be
// dialled (REST maps the latter to PEER_DIAL_FAILURE).
var (
	ErrNoServicePeer = errors.New("no suitable service peer")
	ErrDialFailure   = errors.New("service peer dial failure")
)

// servicePeer resolves the peer a client call goes to: the explicit address, else the
// configured one (--storenode etc.), else the peer the peer manager selects for proto and
// pubsubTopic (identify or ENR capabilities, metadata or ENR shards). It dials if needed.
func (n *Node) servicePeer(ctx context.Context, explicit, configured multiaddr.Multiaddr, proto protocol.ID, pubsubTopic string) (peer.ID, error) {
	addr := explicit
	if addr == nil {
		addr = configured
	}
	var info peer.AddrInfo
	if addr != nil {
		ai, err := peer.AddrInfoFromP2pAddr(addr)
		if err != nil {
			return "", fmt.Errorf("service peer %s: %w", addr, err)
		}
		info = *ai
	} else {
		p, err := n.SelectPeer(proto, pubsubTopic)
		if err != nil {
			return "", fmt.Errorf("%w for %s: %w", ErrNoServicePeer, proto, err)
		}
		info.ID = p // addresses come from the peer store
	}
	if err := n.Host().Connect(ctx, info); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrDialFailure, info.ID, err)
	}
	return info.ID, nil
}

// StoreQuery runs a store v3 query: against the local archive when the node stores and no
// peer is given, otherwise against peerAddr or the configured/selected store node.
func (n *Node) StoreQuery(ctx context.Context, peerAddr multiaddr.Multiaddr, req *storepb.StoreQueryRequest) (*storepb.StoreQueryResponse, error) {
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

// LegacyStoreQuery runs a legacy store v2 query, locally or remotely as StoreQuery does.
func (n *Node) LegacyStoreQuery(ctx context.Context, peerAddr multiaddr.Multiaddr, q *storepb.HistoryQuery) (*storepb.HistoryResponse, error) {
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

// LightpushPublish pushes m through a lightpush service node (v3, or v2 when legacy). With no
// service peer given or configured, a node that serves lightpush itself publishes locally.
// It returns the relay peer count reported.
func (n *Node) LightpushPublish(ctx context.Context, peerAddr multiaddr.Multiaddr, pubsubTopic string, m *pb.WakuMessage, legacy bool) (int, error) {
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

// FilterSubscribe subscribes to content topics at the filter service node (--filternode or
// a selected peer). An empty pubsubTopic is derived by autosharding from the content topics,
// which must then share one shard.
func (n *Node) FilterSubscribe(ctx context.Context, pubsubTopic string, contentTopics []string) (*filter.Subscription, error) {
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

// FilterUnsubscribe ends a subscription made by FilterSubscribe.
func (n *Node) FilterUnsubscribe(ctx context.Context, sub *filter.Subscription) error {
	return n.filterClient.Unsubscribe(ctx, sub)
}

// FilterUnsubscribeAll drops every subscription at the filter service nodes we subscribed at
// (or --filternode).
func (n *Node) FilterUnsubscribeAll(ctx context.Context) error {
	ps, err := n.filterPeers(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range ps {
		errs = append(errs, n.filterClient.UnsubscribeAll(ctx, p))
	}
	return errors.Join(errs...)
}

// FilterPing checks that the filter service nodes still hold our subscriptions.
func (n *Node) FilterPing(ctx context.Context) error {
	ps, err := n.filterPeers(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range ps {
		errs = append(errs, n.filterClient.Ping(ctx, p))
	}
	return errors.Join(errs...)
}

// filterPeers are the peers holding our filter subscriptions; with none, --filternode or the
// peer the manager would choose.
func (n *Node) filterPeers(ctx context.Context) ([]peer.ID, error) {
	if ps := n.filterClient.Peers(); len(ps) > 0 {
		return ps, nil
	}
	p, err := n.servicePeer(ctx, nil, n.cfg.FilterNode, filter.SubscribeProtocol, "")
	if err != nil {
		return nil, err
	}
	return []peer.ID{p}, nil
}

// FilterSubscriptions lists what the filter service serves (nil when not mounted).
func (n *Node) FilterSubscriptions() []filter.PeerSubscription {
	if n.filterSvc == nil {
		return nil
	}
	return n.filterSvc.Subscriptions()
}
