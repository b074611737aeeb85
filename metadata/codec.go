// Package metadata implements 66/WAKU2-METADATA (shared/spec/metadata.md): right after
// connecting, each side learns the other's cluster and relay shards in one round trip. It only
// answers, queries and verifies; whether to disconnect is the peer manager's decision.
package metadata

import (
	"slices"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/metadata/pb"
)

// ProtocolID is the libp2p protocol of 66/WAKU2-METADATA.
const ProtocolID = "/vac/waku/metadata/1.0.0"

// MaxMessageSize bounds a request or response; 1024 shards fit many times over.
const MaxMessageSize = 64 << 10

// Info is one side's metadata as it came off the wire.
type Info struct {
	Cluster uint32
	// HasCluster is false when the peer omitted cluster_id.
	HasCluster bool
	// Shards from field 3 (packed), or from field 2 when field 3 is empty.
	Shards []uint32
}

// shardFields returns the shards for both fields: js-waku 0.0.36 reads only field 2
// (unpacked, forced by the .proto), go-waku only field 3 (packed). Two slices, so neither
// message aliases the other.
func shardFields(shards []uint16) (deprecated, packed []uint32) {
	if len(shards) == 0 {
		return nil, nil
	}
	packed = make([]uint32, len(shards))
	for i, s := range shards {
		packed[i] = uint32(s)
	}
	return slices.Clone(packed), packed
}

func newRequest(cluster uint16, shards []uint16) *pb.WakuMetadataRequest {
	c := uint32(cluster)
	dep, packed := shardFields(shards)
	return &pb.WakuMetadataRequest{ClusterId: &c, ShardsDeprecated: dep, Shards: packed}
}

func newResponse(cluster uint16, shards []uint16) *pb.WakuMetadataResponse {
	c := uint32(cluster)
	dep, packed := shardFields(shards)
	return &pb.WakuMetadataResponse{ClusterId: &c, ShardsDeprecated: dep, Shards: packed}
}

// MaxShards bounds the shards kept from one peer: each valid index (0..1023, nwaku's range) once,
// plus at most one invalid index, kept so that Verify still refuses the peer. A 64 KiB request
// can list about 16,000 entries; what we keep per peer is at most 1025.
const MaxShards = message.MaxShardIndex + 2

// infoFrom reads field 3, falling back to field 2. The protobuf decoder already accepts field 2
// packed or unpacked, which covers nwaku's full fallback order.
func infoFrom(cluster *uint32, deprecated, shards []uint32) Info {
	info := Info{HasCluster: cluster != nil}
	if cluster != nil {
		info.Cluster = *cluster
	}
	if len(shards) > 0 {
		info.Shards = normalizeShards(shards)
	} else if len(deprecated) > 0 {
		info.Shards = normalizeShards(deprecated)
	}
	return info
}

// normalizeShards returns the distinct shards of in, sorted, with every index above
// message.MaxShardIndex collapsed into the first such one seen (see MaxShards).
func normalizeShards(in []uint32) []uint32 {
	var seen [(message.MaxShardIndex + 1 + 63) / 64]uint64
	out := make([]uint32, 0, min(len(in), MaxShards))
	invalid := false
	for _, s := range in {
		if s > message.MaxShardIndex {
			if !invalid {
				out, invalid = append(out, s), true
			}
			continue
		}
		if w, b := s/64, uint64(1)<<(s%64); seen[w]&b == 0 {
			seen[w] |= b
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func requestInfo(m *pb.WakuMetadataRequest) Info {
	return infoFrom(m.ClusterId, m.GetShardsDeprecated(), m.GetShards())
}

func responseInfo(m *pb.WakuMetadataResponse) Info {
	return infoFrom(m.ClusterId, m.GetShardsDeprecated(), m.GetShards())
}
