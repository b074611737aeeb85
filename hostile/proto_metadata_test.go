package hostile

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/metadata"
	mdpb "github.com/wakunode/wakunode/metadata/pb"
)

// TestProtoMetadataShardFlood: a peer lists ~16,000 shards (every valid index many times over,
// and invalid ones) in one 64 KiB request. The service keeps each valid index once plus one
// invalid index, so the peer still fails Verify.
func TestProtoMetadataShardFlood(t *testing.T) {
	server, client := testhost.New(t), testhost.New(t)
	md := metadata.NewService(server, metadata.Config{Cluster: 1})
	t.Cleanup(md.Close)
	testhost.Connect(t, client, server)

	cluster := uint32(1)
	req := &mdpb.WakuMetadataRequest{ClusterId: &cluster}
	for i := 0; proto.Size(req) < metadata.MaxMessageSize-16; i++ {
		req.Shards = append(req.Shards, uint32(i%1024))
		if i%1000 == 0 {
			req.Shards = append(req.Shards, 5000+uint32(i))
		}
	}
	if len(req.Shards) < 10_000 {
		t.Fatalf("flood of only %d shards", len(req.Shards))
	}
	frame, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, client, server, metadata.ProtocolID, frame, &mdpb.WakuMetadataResponse{})
	info, ok := md.Remote(client.ID())
	if !ok {
		t.Fatal("request not recorded")
	}
	if len(info.Shards) != metadata.MaxShards {
		t.Fatalf("kept %d shards of %d sent, want %d", len(info.Shards), len(req.Shards), metadata.MaxShards)
	}
	for i := 1; i < len(info.Shards); i++ {
		if info.Shards[i] <= info.Shards[i-1] {
			t.Fatalf("shards not distinct and sorted at %d: %v", i, info.Shards[i-1:i+1])
		}
	}
	if err := metadata.Verify(1, info, true); !errors.Is(err, metadata.ErrInvalidShard) {
		t.Fatalf("Verify = %v, want ErrInvalidShard", err)
	}
}
