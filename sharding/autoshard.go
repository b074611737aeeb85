// Package sharding maps content topics onto relay shards (WAKU2-RELAY-SHARDING autosharding).
package sharding

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/wakunode/wakunode/message"
)

// ErrNoShards reports an Autosharding with NumShards outside 1..1024.
var ErrNoShards = errors.New("autosharding: number of shards in network must be 1..1024")

// Autosharding derives shards from content topics for one cluster.
type Autosharding struct {
	Cluster uint16
	// NumShards is the number of shards in the network (TWN: 8); must be 1..1024.
	NumShards uint16
}

// Shard maps a content topic to its generation-0 shard: the last 8 bytes of
// SHA-256(application || version) as a big-endian uint64, modulo NumShards.
func (a Autosharding) Shard(contentTopic string) (message.Shard, error) {
	ct, err := message.ParseContentTopic(contentTopic)
	if err != nil {
		return message.Shard{}, err
	}
	if ct.Generation > 0 {
		return message.Shard{}, fmt.Errorf("content topic %q: %w", contentTopic, message.ErrGeneration)
	}
	if a.NumShards == 0 || a.NumShards > message.MaxShardIndex+1 {
		return message.Shard{}, fmt.Errorf("%w (got %d)", ErrNoShards, a.NumShards)
	}
	return message.Shard{Cluster: a.Cluster, Index: GenZeroIndex(ct, a.NumShards)}, nil
}

// GenZeroIndex is the bare generation-0 rule, ignoring the topic's generation.
func GenZeroIndex(ct message.ContentTopic, numShards uint16) uint16 {
	h := sha256.Sum256([]byte(ct.Application + ct.Version))
	return uint16(binary.BigEndian.Uint64(h[24:]) % uint64(numShards))
}
