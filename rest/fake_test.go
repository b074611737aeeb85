package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/sharding"
)

// fakeNode implements Node in memory. Publish validates with message.Rules and loops the
// message back to the bus consumers, as a lone relay node does.
type fakeNode struct {
	id        peer.ID
	cluster   uint16
	numShards uint16 // 0: no autosharding
	enr       string
	health    node.HealthReport
	rules     message.Rules

	mu         sync.Mutex
	subs       map[string]bool
	peers      []node.PeerInfo
	connected  []string
	connectErr error
	publishErr error
	published  []*message.Envelope
	consumers  map[int]node.Consumer
	nextID     int
	svc        fakeServices // store, lightpush, filter, relay peers (fake_services_test.go)
}

func newFakeNode(t testing.TB) *fakeNode {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeNode{
		id:        id,
		cluster:   1,
		numShards: 8,
		enr:       "enr:-test",
		subs:      map[string]bool{},
		consumers: map[int]node.Consumer{},
		rules:     message.Rules{MaxSize: 1024},
	}
}

func (f *fakeNode) ID() peer.ID { return f.id }
func (f *fakeNode) ListenAddrs() []multiaddr.Multiaddr {
	a := multiaddr.StringCast("/ip4/127.0.0.1/tcp/60000/p2p/" + f.id.String())
	b := multiaddr.StringCast("/ip4/127.0.0.1/tcp/8000/ws/p2p/" + f.id.String())
	return []multiaddr.Multiaddr{a, b}
}
func (f *fakeNode) ENR() string                              { return f.enr }
func (f *fakeNode) Health(context.Context) node.HealthReport { return f.health }
func (f *fakeNode) ClusterID() uint16                        { return f.cluster }
func (f *fakeNode) Peers() []node.PeerInfo                   { f.mu.Lock(); defer f.mu.Unlock(); return f.peers }
func (f *fakeNode) IsSubscribed(topic string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subs[topic]
}
func (f *fakeNode) RelayUnsubscribe(topic string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs, topic)
	return nil
}
func (f *fakeNode) Connect(_ context.Context, a multiaddr.Multiaddr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.connectErr != nil {
		return f.connectErr
	}
	f.connected = append(f.connected, a.String())
	return nil
}

func (f *fakeNode) RelaySubscribeAnyCluster(topic string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs[topic] {
		return errors.New("already subscribed") // the server must not re-subscribe
	}
	f.subs[topic] = true
	return nil
}

func (f *fakeNode) RelayTopics() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for t := range f.subs {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

func (f *fakeNode) PubsubTopicFor(pubsubTopic, contentTopic string) (string, error) {
	if pubsubTopic != "" {
		return pubsubTopic, nil
	}
	if f.numShards == 0 {
		return "", node.ErrNoAutosharding
	}
	s, err := sharding.Autosharding{Cluster: f.cluster, NumShards: f.numShards}.Shard(contentTopic)
	if err != nil {
		return "", err
	}
	return s.PubsubTopic(), nil
}

func (f *fakeNode) Publish(_ context.Context, topic string, m *pb.WakuMessage) (*message.Envelope, error) {
	f.mu.Lock()
	err := f.publishErr
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if m.GetTimestamp() == 0 {
		ts := time.Now().UnixNano()
		m.Timestamp = &ts
	}
	e, err := message.NewEnvelope(topic, m, time.Now().UnixNano())
	if err != nil {
		return nil, err
	}
	if err := f.rules.Check(e); err != nil {
		return nil, fmt.Errorf("relay publish: %w", err)
	}
	f.mu.Lock()
	f.published = append(f.published, e)
	f.mu.Unlock()
	f.deliver(e)
	return e, nil
}

// deliver hands e to the bus consumers, as relay does for accepted messages.
func (f *fakeNode) deliver(e *message.Envelope) {
	f.mu.Lock()
	cs := make([]node.Consumer, 0, len(f.consumers))
	for _, c := range f.consumers {
		cs = append(cs, c)
	}
	f.mu.Unlock()
	for _, c := range cs {
		c.Deliver(e)
	}
}

func (f *fakeNode) AddConsumer(c node.Consumer) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.nextID
	f.nextID++
	f.consumers[id] = c
	return func() {
		f.mu.Lock()
		delete(f.consumers, id)
		f.mu.Unlock()
	}
}

func (f *fakeNode) numConsumers() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.consumers) }

func (f *fakeNode) lastPublished(t *testing.T) *message.Envelope {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.published) == 0 {
		t.Fatal("nothing published")
	}
	return f.published[len(f.published)-1]
}

// newTestServer builds a server over f without a listener; Close runs at cleanup.
func newTestServer(t *testing.T, f *fakeNode, mod func(*Config)) *Server {
	t.Helper()
	cfg := Config{Version: "v0.1.0-test", Logger: slog.New(slog.DiscardHandler), RelayCacheCapacity: 3}
	if mod != nil {
		mod(&cfg)
	}
	s := New(cfg, backendOf(f))
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type resp struct {
	code  int
	ctype string
	body  string
	hdr   http.Header
}

// do sends one request through the handler; ctype "" sends no Content-Type.
func do(t *testing.T, h http.Handler, method, target, ctype, body string) resp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return resp{code: rec.Code, ctype: rec.Header().Get("Content-Type"), body: rec.Body.String(), hdr: rec.Header()}
}

const jsonCT = "application/json"

func (r resp) want(t *testing.T, code int, ctypePrefix string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d (body %q)", r.code, code, r.body)
	}
	if !strings.HasPrefix(r.ctype, ctypePrefix) {
		t.Fatalf("Content-Type %q, want %s", r.ctype, ctypePrefix)
	}
}

var contextDeadline = context.DeadlineExceeded
