package rest

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	storepb "github.com/wakunode/wakunode/store/pb"
)

// flatFake is the one-object API the fakes implement (fakeNode, and wrappers that override a
// method); backendOf splits it into the protocol objects the server takes.
type flatFake interface {
	Node
	RelaySubscribeAnyCluster(topic string) error
	RelayUnsubscribe(topic string) error
	RelayTopics() []string
	IsSubscribed(topic string) bool
	Publish(ctx context.Context, pubsubTopic string, m *pb.WakuMessage) (*message.Envelope, error)
	RelayTopicPeers(topic string) ([]peer.ID, error)
	RelayMeshPeers(topic string) ([]peer.ID, error)
	StoreQuery(ctx context.Context, a multiaddr.Multiaddr, req *storepb.StoreQueryRequest) (*storepb.StoreQueryResponse, error)
	LegacyStoreQuery(ctx context.Context, a multiaddr.Multiaddr, q *storepb.HistoryQuery) (*storepb.HistoryResponse, error)
	LightpushPublish(ctx context.Context, a multiaddr.Multiaddr, topic string, m *pb.WakuMessage, legacy bool) (int, error)
	FilterSubscribe(ctx context.Context, pubsubTopic string, cts []string) (*filter.Subscription, error)
	FilterUnsubscribe(ctx context.Context, sub *filter.Subscription) error
	FilterUnsubscribeAll(ctx context.Context) error
	FilterPing(ctx context.Context) error
	FilterSubscriptions() []filter.PeerSubscription
}

func backendOf(f flatFake) Backend {
	return Backend{Node: f, Relay: fakeRelay{f}, Store: fakeStore{f}, Lightpush: fakeLightpush{f}, Filter: fakeFilter{f}}
}

type fakeRelay struct{ f flatFake }

func (r fakeRelay) Publish(ctx context.Context, t string, m *pb.WakuMessage) (*message.Envelope, error) {
	return r.f.Publish(ctx, t, m)
}
func (r fakeRelay) Subscribe(t string) error               { return r.f.RelaySubscribeAnyCluster(t) }
func (r fakeRelay) SubscribeAnyCluster(t string) error     { return r.f.RelaySubscribeAnyCluster(t) }
func (r fakeRelay) Unsubscribe(t string) error             { return r.f.RelayUnsubscribe(t) }
func (r fakeRelay) Topics() []string                       { return r.f.RelayTopics() }
func (r fakeRelay) IsSubscribed(t string) bool             { return r.f.IsSubscribed(t) }
func (r fakeRelay) TopicPeers(t string) ([]peer.ID, error) { return r.f.RelayTopicPeers(t) }
func (r fakeRelay) MeshPeers(t string) ([]peer.ID, error)  { return r.f.RelayMeshPeers(t) }

type fakeStore struct{ f flatFake }

func (s fakeStore) Query(ctx context.Context, a multiaddr.Multiaddr, req *storepb.StoreQueryRequest) (*storepb.StoreQueryResponse, error) {
	return s.f.StoreQuery(ctx, a, req)
}
func (s fakeStore) LegacyQuery(ctx context.Context, a multiaddr.Multiaddr, q *storepb.HistoryQuery) (*storepb.HistoryResponse, error) {
	return s.f.LegacyStoreQuery(ctx, a, q)
}

type fakeLightpush struct{ f flatFake }

func (l fakeLightpush) Publish(ctx context.Context, a multiaddr.Multiaddr, t string, m *pb.WakuMessage, legacy bool) (int, error) {
	return l.f.LightpushPublish(ctx, a, t, m, legacy)
}

type fakeFilter struct{ f flatFake }

func (x fakeFilter) Subscribe(ctx context.Context, t string, cts []string) (*filter.Subscription, error) {
	return x.f.FilterSubscribe(ctx, t, cts)
}
func (x fakeFilter) Unsubscribe(ctx context.Context, sub *filter.Subscription) error {
	return x.f.FilterUnsubscribe(ctx, sub)
}
func (x fakeFilter) UnsubscribeAll(ctx context.Context) error { return x.f.FilterUnsubscribeAll(ctx) }
func (x fakeFilter) Ping(ctx context.Context) error           { return x.f.FilterPing(ctx) }
func (x fakeFilter) Served() []filter.PeerSubscription        { return x.f.FilterSubscriptions() }
