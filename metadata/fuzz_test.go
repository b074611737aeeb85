package metadata

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/metadata/pb"
)

func FuzzDecode(f *testing.F) {
	seed, _ := proto.Marshal(newRequest(1, []uint16{0, 1, 1023}))
	f.Add(seed)
	f.Add([]byte{0x08, 0x01, 0x10, 0x02, 0x10, 0x04})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var req pb.WakuMetadataRequest
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		info := requestInfo(&req)
		_ = Verify(1, info, true)
		// Anything read re-encodes the way we write it and reads back the same.
		shards := make([]uint16, 0, len(info.Shards))
		for _, s := range info.Shards {
			if s > 0xffff {
				return
			}
			shards = append(shards, uint16(s))
		}
		if info.Cluster > 0xffff {
			return
		}
		raw, err := proto.Marshal(newResponse(uint16(info.Cluster), shards))
		if err != nil {
			t.Fatal(err)
		}
		var resp pb.WakuMetadataResponse
		if err := proto.Unmarshal(raw, &resp); err != nil {
			t.Fatal(err)
		}
		back := responseInfo(&resp)
		if back.Cluster != info.Cluster || !slices.Equal(back.Shards, info.Shards) {
			t.Fatalf("round trip %+v -> %+v", info, back)
		}
	})
}
