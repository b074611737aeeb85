package lightpush

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-msgio"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/lightpush/pb"
	"github.com/wakunode/wakunode/message"
	mpb "github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/ratelimit"
	"github.com/wakunode/wakunode/sharding"
)

const served = "/waku/2/rs/1/0"

// fakeRelay "publishes" validated envelopes to peers relay peers, unless the content topic
// names an error to return.
type fakeRelay struct {
	peers int
	mu    sync.Mutex
	got   []string // pubsub topics published to
}

var relayErrors = map[string]error{
	"/t/1/invalid/proto":   fmt.Errorf("rln: %w", ErrInvalidMessage),
	"/t/1/notserved/proto": fmt.Errorf("relay: %w", ErrUnsupportedTopic),
	"/t/1/unavail/proto":   ErrServiceUnavailable,
	"/t/1/norln/proto":     ErrOutOfRLNProof,
	"/t/1/nopeers/proto":   ErrNoPeersToRelay,
	"/t/1/boom/proto":      errors.New("disk on fire"),
}

func (r *fakeRelay) PublishEnvelope(_ context.Context, e *message.Envelope) (int, error) {
	if err := relayErrors[e.Message.GetContentTopic()]; err != nil {
		return 0, err
	}
	r.mu.Lock()
	r.got = append(r.got, e.PubsubTopic)
	r.mu.Unlock()
	return r.peers, nil
}

// static is the validation path of a cluster-1 node without autosharding.
var static = message.Validator{Cluster: 1}

func startService(t testing.TB, cfg Config) host.Host {
	t.Helper()
	h := testhost.New(t)
	s, err := NewService(h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Stop)
	return h
}

func msg(ct string, payload int) *mpb.WakuMessage {
	ts := time.Now().UnixNano()
	return &mpb.WakuMessage{ContentTopic: ct, Payload: make([]byte, payload), Timestamp: &ts}
}

func TestStatusCodes(t *testing.T) {
	auto := &sharding.Autosharding{Cluster: 1, NumShards: 8}
	relay := &fakeRelay{peers: 3}
	lonely := &fakeRelay{}
	autoShard, _ := auto.Shard("/t/1/ok/proto")
	serves := func(t string) bool { return t == served || t == autoShard.PubsubTopic() }
	svc := startService(t, Config{Publisher: relay,
		Validator: message.Validator{Cluster: 1, Served: serves, Autoshard: auto.Shard}})
	stat := startService(t, Config{Publisher: relay, Validator: static})
	alone := startService(t, Config{Publisher: lonely, Validator: static})
	strict := startService(t, Config{Publisher: lonely, Validator: static, RequireRelayPeers: true})

	ch := testhost.New(t)
	for _, h := range []host.Host{svc, stat, alone, strict} {
		if err := ch.Connect(context.Background(), peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	c := NewClient(ch)
	tests := []struct {
		name  string
		to    host.Host
		topic string
		m     *mpb.WakuMessage
		code  uint32
		peers int
		desc  string
	}{
		{"ok", svc, served, msg("/t/1/ok/proto", 10), 200, 3, ""},
		{"autosharded", svc, "", msg("/t/1/ok/proto", 10), 200, 3, ""},
		{"alone: accepted with 0 peers", alone, served, msg("/t/1/ok/proto", 10), 200, 0, ""},
		{"alone, strict", strict, served, msg("/t/1/ok/proto", 10), 505, 0, "no peers"},
		{"no message", svc, served, nil, 400, 0, "message is missing"},
		{"no topic, static sharding", stat, "", msg("/t/1/ok/proto", 10), 400, 0, "pubsub topic is required"},
		{"no topic, bad content topic", svc, "", msg("bad", 10), 420, 0, "Invalid content-topic"},
		{"topic not served", svc, "/waku/2/rs/1/7", msg("/t/1/ok/proto", 10), 421, 0, "not served"},
		{"other cluster", svc, "/waku/2/rs/2/0", msg("/t/1/ok/proto", 10), 421, 0, "cluster"},
		{"not a shard", svc, "/my/topic", msg("/t/1/ok/proto", 10), 421, 0, "invalid pubsub topic"},
		{"too large", svc, served, msg("/t/1/ok/proto", message.DefaultMaxMessageSize+1), 413, 0, "Message size exceeded maximum of 153600 bytes"},
		{"meta too large", svc, served, &mpb.WakuMessage{ContentTopic: "/t/1/ok/proto", Payload: []byte{1}, Meta: make([]byte, 65)}, 420, 0, "meta"},
		{"empty payload", svc, served, msg("/t/1/ok/proto", 0), 420, 0, "missing Payload"},
		{"validator rejects", svc, served, msg("/t/1/invalid/proto", 1), 420, 0, "invalid message"},
		{"relay does not serve", stat, served, msg("/t/1/notserved/proto", 1), 421, 0, "not served"},
		{"unavailable", svc, served, msg("/t/1/unavail/proto", 1), 503, 0, "not available"},
		{"rln quota", svc, served, msg("/t/1/norln/proto", 1), 504, 0, "RLN"},
		{"relay reports no peers", svc, served, msg("/t/1/nopeers/proto", 1), 505, 0, ""},
		{"other error", svc, served, msg("/t/1/boom/proto", 1), 500, 0, "disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			peers, err := c.Push(ctx, tt.to.ID(), tt.topic, tt.m)
			if tt.code == 200 {
				if err != nil || peers != tt.peers {
					t.Fatalf("v3: peers %d err %v, want %d", peers, err, tt.peers)
				}
			} else {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != tt.code || !strings.Contains(se.Desc, tt.desc) {
					t.Fatalf("v3: %v, want %d containing %q", err, tt.code, tt.desc)
				}
			}
			lerr := c.PushLegacy(ctx, tt.to.ID(), tt.topic, tt.m)
			if tt.code == 200 {
				if lerr != nil {
					t.Fatalf("v2: %v", lerr)
				}
			} else {
				want := tt.desc
				if tt.code == StatusNoPeersToRelay {
					want = DescNotPublished // nwaku's legacy text
				}
				var se *StatusError
				if !errors.As(lerr, &se) || se.Code != 0 || !strings.Contains(se.Desc, want) {
					t.Fatalf("v2: %v, want info containing %q", lerr, want)
				}
			}
		})
	}
	relay.mu.Lock()
	defer relay.mu.Unlock()
	want := []string{served, served, autoShard.PubsubTopic(), autoShard.PubsubTopic()}
	if fmt.Sprint(relay.got) != fmt.Sprint(want) {
		t.Fatalf("published to %v, want %v", relay.got, want)
	}
}

// js-waku reads relay_peer_count only on success; a lone node must still set it (to 0).
func TestZeroPeersIsExplicit(t *testing.T) {
	sh := startService(t, Config{Publisher: &fakeRelay{}, Validator: static})
	ch := testhost.New(t)
	_ = ch.Connect(context.Background(), peer.AddrInfo{ID: sh.ID(), Addrs: sh.Addrs()})
	req := &pb.LightpushRequest{RequestId: "id-1", PubsubTopic: proto.String(served), Message: msg("/t/1/ok/proto", 1)}
	resp := &pb.LightpushResponse{}
	if err := rpc.Request(context.Background(), ch, sh.ID(), req, resp, MaxResponseSize, ProtocolV3); err != nil {
		t.Fatal(err)
	}
	if resp.GetRequestId() != "id-1" || resp.GetStatusCode() != 200 || resp.RelayPeerCount == nil || *resp.RelayPeerCount != 0 {
		t.Fatalf("response %v", resp)
	}
}

func TestRateLimit(t *testing.T) {
	lim := ratelimit.NewLimiter(ratelimit.Setting{Volume: 2, Period: time.Hour}, nil)
	sh := startService(t, Config{Publisher: &fakeRelay{peers: 1}, Validator: static, RateLimiter: lim})
	a, b := testhost.New(t), testhost.New(t)
	for _, h := range []host.Host{a, b} {
		_ = h.Connect(context.Background(), peer.AddrInfo{ID: sh.ID(), Addrs: sh.Addrs()})
	}
	ca := NewClient(a)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, err := ca.Push(ctx, sh.ID(), served, msg("/t/1/ok/proto", 1)); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
	}
	if _, err := ca.Push(ctx, sh.ID(), served, msg("/t/1/ok/proto", 1)); !IsStatus(err, StatusTooManyRequests) {
		t.Fatalf("v3 over the limit: %v", err)
	}
	if err := ca.PushLegacy(ctx, sh.ID(), served, msg("/t/1/ok/proto", 1)); err == nil || !strings.Contains(err.Error(), descRateLimited) {
		t.Fatalf("v2 over the limit: %v", err)
	}
	if _, err := NewClient(b).Push(ctx, sh.ID(), served, msg("/t/1/ok/proto", 1)); err != nil {
		t.Fatalf("other peer limited: %v", err)
	}
}

func TestUndecodableRequests(t *testing.T) {
	sh := startService(t, Config{Publisher: &fakeRelay{}, Validator: static})
	ch := testhost.New(t)
	_ = ch.Connect(context.Background(), peer.AddrInfo{ID: sh.ID(), Addrs: sh.Addrs()})
	garbage := []byte{0x0a, 0xff}
	for _, tc := range []struct {
		proto protocol.ID
		resp  proto.Message
	}{
		{ProtocolV3, &pb.LightpushResponse{}},
		{ProtocolLegacy, &pb.PushRPC{}},
	} {
		st, err := ch.NewStream(context.Background(), sh.ID(), tc.proto)
		if err != nil {
			t.Fatal(err)
		}
		_ = msgio.NewVarintWriter(st).WriteMsg(garbage)
		_ = st.CloseWrite()
		if err := rpc.Read(st, MaxResponseSize, tc.resp); err != nil {
			t.Fatal(err)
		}
		_ = st.Close()
		switch r := tc.resp.(type) {
		case *pb.LightpushResponse:
			if r.GetStatusCode() != StatusBadRequest {
				t.Errorf("v3: %v", r)
			}
		case *pb.PushRPC:
			if r.GetResponse() == nil || r.GetResponse().GetIsSuccess() || !strings.Contains(r.GetResponse().GetInfo(), "decode") {
				t.Errorf("v2: %v", r)
			}
		}
	}
	// A legacy RPC without a request is refused, not crashed on.
	resp := &pb.PushRPC{}
	if err := rpc.Request(context.Background(), ch, sh.ID(), &pb.PushRPC{RequestId: "x"}, resp, MaxResponseSize, ProtocolLegacy); err != nil {
		t.Fatal(err)
	}
	if resp.GetRequestId() != "x" || resp.GetResponse().GetIsSuccess() {
		t.Fatalf("%v", resp)
	}
}

func TestNewServiceValidates(t *testing.T) {
	if _, err := NewService(nil, Config{}); err == nil {
		t.Error("no publisher accepted")
	}
}

// TestDialFailure: an unreachable service node is reported with nwaku's "dial_failure".
func TestDialFailure(t *testing.T) {
	c := NewClient(testhost.New(t))
	gone := testhost.New(t)
	id := gone.ID()
	_ = gone.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.PushLegacy(ctx, id, served, msg("/t/1/ok/proto", 1)); err == nil || !strings.Contains(err.Error(), DescDialFailure) {
		t.Fatalf("legacy push to nobody: %v", err)
	}
}
