package filter

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/filter/pb"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
)

// FuzzHandleRequest drives the service's whole request path (decode, validate, apply) with
// arbitrary bytes: every answer must carry a known status code, and the state stays bounded.
func FuzzHandleRequest(f *testing.F) {
	pt := testTopic
	for _, r := range []*pb.FilterSubscribeRequest{
		{RequestId: "1", FilterSubscribeType: sub, PubsubTopic: &pt, ContentTopics: []string{"/a/1/x/proto"}},
		{RequestId: "2", FilterSubscribeType: unsub, PubsubTopic: &pt, ContentTopics: []string{"/a/1/x/proto"}},
		{RequestId: "3", FilterSubscribeType: ping},
		{RequestId: "4", FilterSubscribeType: unsubAll},
	} {
		b, _ := proto.Marshal(r)
		f.Add(b)
	}
	f.Add([]byte{0x0a, 0xff})
	s := NewService(testhost.New(f), Config{MaxCriteria: 50})
	f.Cleanup(s.Stop)
	valid := map[uint32]bool{200: true, 400: true, 404: true, 503: true}
	f.Fuzz(func(t *testing.T, b []byte) {
		req := &pb.FilterSubscribeRequest{}
		if proto.Unmarshal(b, req) != nil {
			return // answered 400 by rpc.Server
		}
		resp := s.handleRequest(peer.ID("fuzzer"), req)
		if !valid[resp.GetStatusCode()] || resp.StatusDesc == nil {
			t.Fatalf("status %d %v", resp.GetStatusCode(), resp.StatusDesc)
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		if sb := s.subs["fuzzer"]; sb != nil && len(sb.criteria) > 50 {
			t.Fatalf("%d criteria", len(sb.criteria))
		}
	})
}

// FuzzDecodePush checks the client's push decoder against the generated codec.
func FuzzDecodePush(f *testing.F) {
	ts := int64(1)
	env, _ := message.NewEnvelope(testTopic, newMsg("/a/1/x/proto", ts), 0)
	f.Add(encodePush(env))
	f.Add([]byte{0x12, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		topic, has, raw, err := decodePush(b)
		ref := &pb.MessagePush{}
		refErr := proto.Unmarshal(b, ref)
		if err != nil {
			return
		}
		if refErr == nil && has && topic != ref.GetPubsubTopic() {
			t.Fatalf("topic %q, codec says %q", topic, ref.GetPubsubTopic())
		}
		_, _, raw2, err := decodePush(encodePush(&message.Envelope{Raw: raw, PubsubTopic: topic}))
		if err != nil || string(raw2) != string(raw) {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

// BenchmarkSubscriptionMemory reports heap bytes per (peer, criterion) subscription held by
// the service, with 1,000 peers of 10 content topics each.
func BenchmarkSubscriptionMemory(b *testing.B) {
	const peers, perPeer = 1000, 10
	for i := 0; i < b.N; i++ {
		s := NewService(testhost.New(b), Config{})
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		pt := testTopic
		for p := 0; p < peers; p++ {
			req := &pb.FilterSubscribeRequest{FilterSubscribeType: sub, PubsubTopic: &pt, ContentTopics: topics(fmt.Sprint("app", p%50), perPeer)}
			if resp := s.handleRequest(peer.ID(fmt.Sprint("peer-", p)), req); resp.GetStatusCode() != 200 {
				b.Fatal(resp.GetStatusDesc())
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/peers, "B/peer")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(peers*perPeer), "B/criterion")
		s.Stop()
	}
}
