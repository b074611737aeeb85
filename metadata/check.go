package metadata

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/message"
)

// Checker is the connection check nwaku runs on every new peer: learn its cluster and shards
// (from the request it sent us, else by asking), record them, and refuse another cluster or a
// relay peer without valid shards. Light clients that report no shards are kept.
type Checker struct {
	Cluster uint16
	// Known returns what p reported in its own request, if it sent one (Service.Remote).
	Known func(p peer.ID) (Info, bool)
	// Query asks p (Client.Query).
	Query func(ctx context.Context, p peer.ID) (Info, error)
	// Record, when set, receives every answer before the verdict, with the shards as a
	// relay-shards value when the peer reported a cluster and at least one valid shard.
	Record func(p peer.ID, info Info, shards *enr.RelayShards)
}

// Check learns p's metadata and verifies it (see Verify).
func (c Checker) Check(ctx context.Context, p peer.ID, remoteIsRelay bool) error {
	info, ok := Info{}, false
	if c.Known != nil {
		info, ok = c.Known(p)
	}
	if !ok || !info.HasCluster {
		var err error
		if info, err = c.Query(ctx, p); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
	}
	if c.Record != nil {
		c.Record(p, info, info.RelayShards())
	}
	return Verify(c.Cluster, info, remoteIsRelay)
}

// RelayShards are the reported cluster and valid shards, nil without a cluster (or one beyond
// 16 bits) or without any valid shard.
func (i Info) RelayShards() *enr.RelayShards {
	if !i.HasCluster || i.Cluster > 0xffff {
		return nil
	}
	rs := enr.RelayShards{Cluster: uint16(i.Cluster)}
	for _, s := range i.Shards {
		if s <= message.MaxShardIndex {
			rs.Shards = append(rs.Shards, uint16(s))
		}
	}
	if len(rs.Shards) == 0 {
		return nil
	}
	return &rs
}
