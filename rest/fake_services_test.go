package rest

import (
	"context"
	"errors"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
	storepb "github.com/wakunode/wakunode/store/pb"
)

// fakeServices is fakeNode's client-protocol state; every field is guarded by fakeNode.mu.
type fakeServices struct {
	storeFn  func(multiaddr.Multiaddr, *storepb.StoreQueryRequest) (*storepb.StoreQueryResponse, error)
	legacyFn func(multiaddr.Multiaddr, *storepb.HistoryQuery) (*storepb.HistoryResponse, error)
	storeReq *storepb.StoreQueryRequest
	legacyQ  *storepb.HistoryQuery
	addr     multiaddr.Multiaddr

	pushErr    error
	pushPeers  int
	pushed     []*pb.WakuMessage
	pushTopic  string
	pushLegacy bool

	filterErr   error // returned by every filter client call while set
	filterSubs  map[*filter.Subscription]chan *message.Envelope
	unsubCalls  int
	pings       int
	serviceSubs []filter.PeerSubscription // nil: service not mounted

	relayDisabled bool
	topicPeers    map[string][]peer.ID
	meshPeers     map[string][]peer.ID
}

func (f *fakeNode) StoreQuery(_ context.Context, a multiaddr.Multiaddr, req *storepb.StoreQueryRequest) (*storepb.StoreQueryResponse, error) {
	f.mu.Lock()
	f.svc.storeReq, f.svc.addr = req, a
	fn := f.svc.storeFn
	f.mu.Unlock()
	if fn != nil {
		return fn(a, req)
	}
	ok, desc := uint32(200), "OK"
	return &storepb.StoreQueryResponse{RequestId: req.RequestId, StatusCode: &ok, StatusDesc: &desc}, nil
}

func (f *fakeNode) LegacyStoreQuery(_ context.Context, a multiaddr.Multiaddr, q *storepb.HistoryQuery) (*storepb.HistoryResponse, error) {
	f.mu.Lock()
	f.svc.legacyQ, f.svc.addr = q, a
	fn := f.svc.legacyFn
	f.mu.Unlock()
	if fn != nil {
		return fn(a, q)
	}
	return &storepb.HistoryResponse{}, nil
}

func (f *fakeNode) LightpushPublish(_ context.Context, _ multiaddr.Multiaddr, topic string, m *pb.WakuMessage, legacy bool) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.svc.pushErr != nil {
		return 0, f.svc.pushErr
	}
	f.svc.pushed = append(f.svc.pushed, m)
	f.svc.pushTopic, f.svc.pushLegacy = topic, legacy
	return f.svc.pushPeers, nil
}

// FilterSubscribe behaves as the node's: autosharding for an empty topic, a channel per
// subscription that Unsubscribe closes.
func (f *fakeNode) FilterSubscribe(_ context.Context, pubsubTopic string, cts []string) (*filter.Subscription, error) {
	if pubsubTopic == "" {
		t, err := f.PubsubTopicFor("", cts[0])
		if err != nil {
			return nil, err
		}
		pubsubTopic = t
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.svc.filterErr != nil {
		return nil, f.svc.filterErr
	}
	ch := make(chan *message.Envelope, 16)
	sub := &filter.Subscription{PubsubTopic: pubsubTopic, ContentTopics: slices.Clone(cts), C: ch}
	if f.svc.filterSubs == nil {
		f.svc.filterSubs = map[*filter.Subscription]chan *message.Envelope{}
	}
	f.svc.filterSubs[sub] = ch
	return sub, nil
}

func (f *fakeNode) FilterUnsubscribe(_ context.Context, sub *filter.Subscription) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.svc.unsubCalls++
	if f.svc.filterErr != nil {
		return f.svc.filterErr
	}
	if ch, ok := f.svc.filterSubs[sub]; ok {
		close(ch)
		delete(f.svc.filterSubs, sub)
	}
	return nil
}

func (f *fakeNode) FilterUnsubscribeAll(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.svc.filterErr != nil {
		return f.svc.filterErr
	}
	for sub, ch := range f.svc.filterSubs {
		close(ch)
		delete(f.svc.filterSubs, sub)
	}
	return nil
}

func (f *fakeNode) FilterPing(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.svc.pings++
	if f.svc.filterErr != nil {
		return f.svc.filterErr
	}
	if len(f.svc.filterSubs) == 0 {
		return &filter.StatusError{Code: filter.StatusNotFound, Desc: "peer has no subscriptions"}
	}
	return nil
}

func (f *fakeNode) FilterSubscriptions() []filter.PeerSubscription {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.svc.serviceSubs
}

// filterPush delivers e to every client subscription matching it, as pushes arrive.
func (f *fakeNode) filterPush(e *message.Envelope) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for sub, ch := range f.svc.filterSubs {
		if sub.PubsubTopic == e.PubsubTopic && slices.Contains(sub.ContentTopics, e.Message.GetContentTopic()) {
			ch <- e
			n++
		}
	}
	return n
}

// activeFilterTopics lists the (pubsub, content) pairs the fake's client holds.
func (f *fakeNode) activeFilterTopics() map[filter.Criterion]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[filter.Criterion]int{}
	for sub := range f.svc.filterSubs {
		for _, ct := range sub.ContentTopics {
			out[filter.Criterion{PubsubTopic: sub.PubsubTopic, ContentTopic: ct}]++
		}
	}
	return out
}

func (f *fakeNode) RelayTopicPeers(topic string) ([]peer.ID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.svc.relayDisabled {
		return nil, node.ErrRelayDisabled
	}
	return f.svc.topicPeers[topic], nil
}

func (f *fakeNode) RelayMeshPeers(topic string) ([]peer.ID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.svc.relayDisabled {
		return nil, node.ErrRelayDisabled
	}
	return f.svc.meshPeers[topic], nil
}

var errFake = errors.New("fake failure")
