// Package message holds WakuMessage knowledge: the deterministic hash, topic formats and the
// validation rules every door into the node applies. Pure functions; no I/O.
package message

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/wakunode/wakunode/message/pb"
)

// Hash is the deterministic message hash of 14/WAKU2-MESSAGE: the store key, the cursor and the
// dedup key. It is not the gossipsub message id (relay.MsgID).
type Hash [32]byte

// String renders the hash as 0x-prefixed lowercase hex, the form go-waku and REST use.
func (h Hash) String() string { return "0x" + hex.EncodeToString(h[:]) }

// ParseHash accepts 0x-prefixed or bare hex of exactly 32 bytes.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		return h, fmt.Errorf("message hash %q: %w", s, err)
	}
	if len(b) != len(h) {
		return h, fmt.Errorf("message hash %q: want 32 bytes, got %d", s, len(b))
	}
	copy(h[:], b)
	return h, nil
}

// HashFromBytes copies a 32-byte wire hash.
func HashFromBytes(b []byte) (Hash, error) {
	var h Hash
	if len(b) != len(h) {
		return h, fmt.Errorf("message hash: want 32 bytes, got %d", len(b))
	}
	copy(h[:], b)
	return h, nil
}

// ComputeHash is SHA-256(pubsub_topic || payload || content_topic || meta || timestamp_BE8),
// plain concatenation; the timestamp is always present (0 when absent).
func ComputeHash(pubsubTopic string, m *pb.WakuMessage) Hash {
	h := sha256.New()
	h.Write([]byte(pubsubTopic))
	h.Write(m.GetPayload())
	h.Write([]byte(m.GetContentTopic()))
	h.Write(m.GetMeta())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(m.GetTimestamp()))
	h.Write(ts[:])
	var out Hash
	h.Sum(out[:0])
	return out
}
