package relay

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// publishedFields returns, for each message in the RPC frame's publish field (2), the field
// numbers present on the wire.
func publishedFields(t *testing.T, frame []byte) [][]protowire.Number {
	t.Helper()
	var out [][]protowire.Number
	for len(frame) > 0 {
		num, typ, n := protowire.ConsumeTag(frame)
		if n < 0 {
			t.Fatalf("bad rpc tag")
		}
		frame = frame[n:]
		if num == 2 && typ == protowire.BytesType {
			msg, m := protowire.ConsumeBytes(frame)
			if m < 0 {
				t.Fatal("bad publish field")
			}
			var fields []protowire.Number
			for len(msg) > 0 {
				f, ft, k := protowire.ConsumeTag(msg)
				if k < 0 {
					t.Fatal("bad message tag")
				}
				fields = append(fields, f)
				msg = msg[k:]
				l := protowire.ConsumeFieldValue(f, ft, msg)
				msg = msg[l:]
			}
			out = append(out, fields)
			frame = frame[m:]
			continue
		}
		frame = frame[protowire.ConsumeFieldValue(num, typ, frame):]
	}
	return out
}

func TestWirePublishedMessagesCarryNoAuthor(t *testing.T) {
	h := testhost.New(t)
	r, rp := relayAndPeer(t, h, testConfig(nil), nil)
	waitFor(t, "relay sees raw peer", func() bool {
		return slices.Contains(r.TopicPeers(testTopic), rp.h.ID()) && len(rp.frames()) > 0 // hello received
	})
	env, err := r.Publish(context.Background(), testTopic, wakuMsg("wire"))
	if err != nil {
		t.Fatal(err)
	}
	var fields []protowire.Number
	waitFor(t, "published frame", func() bool {
		for _, f := range rp.frames() {
			if p := publishedFields(t, f); len(p) > 0 {
				fields = p[0]
				return true
			}
		}
		return false
	})
	// Only data (2) and topic (4): from (1), seqno (3), signature (5) and key (6) are absent.
	if !slices.Equal(fields, []protowire.Number{2, 4}) && !slices.Equal(fields, []protowire.Number{4, 2}) {
		t.Fatalf("published message fields %v, want exactly data(2) and topic(4)", fields)
	}
	for _, rpc := range decodeFrames(t, rp.frames()) {
		for _, m := range rpc.Publish {
			if string(m.Data) != string(env.Raw) || m.GetTopic() != testTopic {
				t.Fatalf("data or topic changed on the wire")
			}
		}
	}
}

func TestMsgIDIsSHA256OfData(t *testing.T) {
	data := []byte{1, 2, 3}
	want := sha256.Sum256(data)
	if got := MsgID(&pubsubpb.Message{Data: data, Topic: proto.String("t"), Seqno: []byte{9}}); got != string(want[:]) {
		t.Fatalf("msg id %x, want %x", got, want)
	}
}

// TestWireRejectsInvalid sends hand-built RPCs that local Publish would never produce.
func TestWireRejectsInvalid(t *testing.T) {
	h := testhost.New(t)
	m := newCountMetrics()
	c := newCollector()
	cfg := testConfig(m)
	cfg.ScoreInterval = 20 * time.Millisecond
	r := newRelay(t, h, cfg, c)
	if err := r.Subscribe(testTopic); err != nil {
		t.Fatal(err)
	}
	topic := testTopic
	// build returns a constructor so timestamps are taken when the case runs.
	build := func(mut func(*pb.WakuMessage), wire func(*pubsubpb.Message)) func() *pubsubpb.Message {
		return func() *pubsubpb.Message {
			w := wakuMsg("bad")
			mut(w)
			m := &pubsubpb.Message{Data: encode(t, w), Topic: &topic}
			wire(m)
			return m
		}
	}
	keep := func(*pb.WakuMessage) {}
	plain := func(*pubsubpb.Message) {}
	rejected := func(reason string) string { return "rejected/" + testTopic + "/" + reason }
	for i, tc := range []struct {
		name   string
		msg    func() *pubsubpb.Message
		reason string
	}{
		{"undecodable", build(keep, func(m *pubsubpb.Message) { m.Data = []byte{0xff, 0xff, 0xff} }), rejected(ReasonDecode)},
		{"meta-65", build(func(w *pb.WakuMessage) { w.Meta = make([]byte, 65) }, plain), rejected(ReasonMetaTooLarge)},
		{"oversize", build(func(w *pb.WakuMessage) { w.Payload = make([]byte, message.DefaultMaxMessageSize+1) }, plain),
			rejected(ReasonTooLarge)},
		{"empty-payload", build(func(w *pb.WakuMessage) { w.Payload = nil }, plain), rejected(ReasonEmptyPayload)},
		{"seqno", build(keep, func(m *pubsubpb.Message) { m.Seqno = []byte{1} }), rejected(ReasonSignature)},
		{"from", build(keep, func(m *pubsubpb.Message) { m.From = []byte(h.ID())[:4] }), rejected(ReasonSignature)},
		{"key", build(keep, func(m *pubsubpb.Message) { m.Key = []byte{1} }), rejected(ReasonSignature)},
		{"signature", build(keep, func(m *pubsubpb.Message) { m.Signature = []byte{1} }), rejected(ReasonSignature)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh peer per case keeps each one's invalid-delivery penalty far from graylisting.
			rp := newRawPeer(t, h)
			rp.subscribe(t, testTopic)
			before := m.get(tc.reason)
			rp.publish(t, tc.msg())
			waitFor(t, tc.reason, func() bool { return m.get(tc.reason) == before+1 })
			marker := payloadOf(i)
			rp.publish(t, &pubsubpb.Message{Data: encode(t, wakuMsg(marker)), Topic: &topic})
			waitFor(t, "valid marker", func() bool { return c.payloadCount(marker) == 1 })
			if c.total() != i+1 {
				t.Fatalf("%d deliveries, want only the %d markers", c.total(), i+1)
			}
			waitFor(t, "score penalty", func() bool { s, ok := r.PeerScore(rp.h.ID()); return ok && s < 0 })
		})
	}
}

// TestRejectsSigningPeer: a stock gossipsub peer (StrictSign, author + seqno) on the Waku
// protocol ID gets its messages rejected.
func TestRejectsSigningPeer(t *testing.T) {
	h, hs := testhost.New(t), testhost.New(t)
	m := newCountMetrics()
	c := newCollector()
	r := newRelay(t, h, testConfig(m), c)
	if err := r.Subscribe(testTopic); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rejects := &rejectTracer{}
	signer, err := pubsub.NewGossipSub(ctx, hs, pubsub.WithRawTracer(rejects),
		pubsub.WithGossipSubProtocols([]protocol.ID{ProtocolID}, func(f pubsub.GossipSubFeature, _ protocol.ID) bool {
			return f == pubsub.GossipSubFeatureMesh || f == pubsub.GossipSubFeaturePX
		}))
	if err != nil {
		t.Fatal(err)
	}
	st, err := signer.Join(testTopic)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := st.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	testhost.Connect(t, hs, h)
	// pubsub silently skips topic peers whose outbound stream is not up yet, so also wait for
	// the signer's router to register us.
	waitFor(t, "peers see each other", func() bool {
		return slices.Contains(st.ListPeers(), h.ID()) && slices.Contains(r.TopicPeers(testTopic), hs.ID()) &&
			rejects.count("addpeer") > 0
	})
	// A publish right after the handshake can still be skipped by either router, so publish
	// (distinct messages) until one arrives. Our unsigned messages go first: once the signer's
	// rejections sink its score below the publish threshold we no longer send to it.
	waitFor(t, "signing peer rejects ours", func() bool {
		if _, err := r.Publish(ctx, testTopic, wakuMsg("unsigned")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		return rejects.count(pubsub.RejectMissingSignature) > 0
	})
	waitFor(t, "we reject the signed message", func() bool {
		if err := st.Publish(ctx, encode(t, wakuMsg("signed"))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		return m.get("rejected/"+testTopic+"/"+ReasonSignature) > 0
	})
	if c.payloadCount("signed") != 0 {
		t.Fatal("signed message delivered")
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(encode(f, wakuMsg("seed")))
	f.Add([]byte{0x0a, 0x01})
	f.Add([]byte{})
	rules := testRules()
	r := &Relay{cfg: Config{Rules: rules, Metrics: nopMetrics{}}, maxSize: message.DefaultMaxMessageSize, log: slog.New(slog.DiscardHandler),
		seen: message.NewRecentHashes(maxSeen, time.Minute)}
	topic := testTopic
	f.Fuzz(func(t *testing.T, data []byte) {
		msg := &pubsub.Message{Message: &pubsubpb.Message{Data: data, Topic: &topic}}
		res := r.validateRemote(msg)
		env, ok := msg.ValidatorData.(*message.Envelope)
		if (res == pubsub.ValidationAccept) != ok {
			t.Fatalf("result %v but envelope %v", res, ok)
		}
		if !ok {
			return
		}
		if err := rules.Check(env); err != nil {
			t.Fatalf("accepted a message the rules reject: %v", err)
		}
		if env.Hash != message.ComputeHash(topic, env.Message) || string(env.Raw) != string(data) {
			t.Fatal("envelope does not match data")
		}
	})
}

// rejectTracer records the rejection reasons a stock pubsub peer reports.
type rejectTracer struct {
	pubsubNopTracer
	mu      sync.Mutex
	reasons map[string]int
}

func (r *rejectTracer) RejectMessage(_ *pubsub.Message, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reasons == nil {
		r.reasons = map[string]int{}
	}
	r.reasons[reason]++
}

func (r *rejectTracer) count(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reasons[reason]
}

type pubsubNopTracer struct{}

func (pubsubNopTracer) AddPeer(peer.ID, protocol.ID)         {}
func (pubsubNopTracer) RemovePeer(peer.ID)                   {}
func (pubsubNopTracer) Join(string)                          {}
func (pubsubNopTracer) Leave(string)                         {}
func (pubsubNopTracer) Graft(peer.ID, string)                {}
func (pubsubNopTracer) Prune(peer.ID, string)                {}
func (pubsubNopTracer) ValidateMessage(*pubsub.Message)      {}
func (pubsubNopTracer) DeliverMessage(*pubsub.Message)       {}
func (pubsubNopTracer) DuplicateMessage(*pubsub.Message)     {}
func (pubsubNopTracer) ThrottlePeer(peer.ID)                 {}
func (pubsubNopTracer) RecvRPC(*pubsub.RPC)                  {}
func (pubsubNopTracer) SendRPC(*pubsub.RPC, peer.ID)         {}
func (pubsubNopTracer) DropRPC(*pubsub.RPC, peer.ID)         {}
func (pubsubNopTracer) UndeliverableMessage(*pubsub.Message) {}

func (r *rejectTracer) AddPeer(peer.ID, protocol.ID) { r.RejectMessage(nil, "addpeer") }
