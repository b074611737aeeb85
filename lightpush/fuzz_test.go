package lightpush

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/lightpush/pb"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/sharding"
)

var knownCodes = map[uint32]bool{200: true, 400: true, 413: true, 420: true, 421: true, 500: true, 503: true, 504: true, 505: true}

func fuzzService(f *testing.F) *Service {
	auto := sharding.Autosharding{Cluster: 1, NumShards: 8}
	s, err := NewService(nil, Config{Publisher: &fakeRelay{peers: 1}, Validator: message.Validator{Cluster: 1, Autoshard: auto.Shard}})
	if err != nil {
		f.Fatal(err)
	}
	return s
}

// FuzzHandleV3 drives the v3 request path (decode, topic, publish, answer) with arbitrary bytes.
func FuzzHandleV3(f *testing.F) {
	b, _ := proto.Marshal(&pb.LightpushRequest{RequestId: "1", PubsubTopic: proto.String(served), Message: msg("/t/1/ok/proto", 3)})
	f.Add(b)
	b, _ = proto.Marshal(&pb.LightpushRequest{RequestId: "2", Message: msg("/t/1/ok/proto", 3)})
	f.Add(b)
	f.Add([]byte{0x0a, 0xff})
	s := fuzzService(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req := &pb.LightpushRequest{}
		if proto.Unmarshal(b, req) != nil {
			return // answered 400 by rpc.Server, fuzzed there
		}
		resp := s.handleV3(context.Background(), "fuzzer", req).(*pb.LightpushResponse)
		if !knownCodes[resp.GetStatusCode()] {
			t.Fatalf("status %d", resp.GetStatusCode())
		}
		if (resp.GetStatusCode() == 200) != (resp.RelayPeerCount != nil) {
			t.Fatalf("relay_peer_count %v with status %d", resp.RelayPeerCount, resp.GetStatusCode())
		}
	})
}

// FuzzHandleLegacy drives the v2 request path with arbitrary bytes.
func FuzzHandleLegacy(f *testing.F) {
	b, _ := proto.Marshal(&pb.PushRPC{RequestId: "1", Request: &pb.PushRequest{PubsubTopic: served, Message: msg("/t/1/ok/proto", 3)}})
	f.Add(b)
	f.Add([]byte{0x12, 0x00})
	s := fuzzService(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req := &pb.PushRPC{}
		if proto.Unmarshal(b, req) != nil {
			return
		}
		resp := s.handleLegacy(context.Background(), "fuzzer", req).(*pb.PushRPC)
		if resp.Response == nil || resp.Response.Info == nil {
			t.Fatalf("no response: %v", resp)
		}
	})
}
