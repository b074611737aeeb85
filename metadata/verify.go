package metadata

import (
	"errors"
	"fmt"

	"github.com/wakunode/wakunode/message"
)

// Verify failures. The peer manager disconnects on any of them (64/WAKU2-NETWORK makes the
// cluster check a MUST; go-waku also drops relay peers without valid shards).
var (
	ErrNoCluster       = errors.New("empty cluster-id reported")
	ErrClusterMismatch = errors.New("different clusterId reported")
	ErrNoShards        = errors.New("relay peer reported no shards")
	ErrInvalidShard    = errors.New("shard index exceeds 1023")
)

// Verify reports whether a remote peer's metadata is acceptable to a node in cluster local.
// Shards are checked only for relay peers: light clients send none, and a different shard set
// is never a reason to reject.
func Verify(local uint16, remote Info, remoteIsRelay bool) error {
	if !remote.HasCluster {
		return ErrNoCluster
	}
	if remote.Cluster != uint32(local) {
		return fmt.Errorf("%w: %d vs %d", ErrClusterMismatch, local, remote.Cluster)
	}
	if !remoteIsRelay {
		return nil
	}
	if len(remote.Shards) == 0 {
		return ErrNoShards
	}
	for _, s := range remote.Shards {
		if s > message.MaxShardIndex {
			return fmt.Errorf("%w: %d", ErrInvalidShard, s)
		}
	}
	return nil
}
