package enr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ethereum/go-ethereum/rlp"

	"github.com/wakunode/wakunode/message"
)

// Relay shard field limits (enr.md, WAKU2-RELAY-SHARDING).
const (
	MaxShardIndex = message.MaxShardIndex
	// RSMaxShards: a node serving this many shards or more uses rsv instead of rs.
	RSMaxShards = 64
	rsvLen      = 2 + 128
)

// ErrShardIndex reports a shard index above MaxShardIndex.
var ErrShardIndex = errors.New("shard index exceeds 1023")

// RelayShards is the (single) cluster and the shards a node relays, as carried by rs/rsv.
type RelayShards struct {
	Cluster uint16
	Shards  []uint16
}

// Validate checks every shard index.
func (rs RelayShards) Validate() error {
	for _, s := range rs.Shards {
		if s > MaxShardIndex {
			return fmt.Errorf("relay shards: %d: %w", s, ErrShardIndex)
		}
	}
	return nil
}

// Normalized returns a copy with the shards sorted and de-duplicated.
func (rs RelayShards) Normalized() RelayShards {
	s := slices.Clone(rs.Shards)
	slices.Sort(s)
	return RelayShards{Cluster: rs.Cluster, Shards: slices.Compact(s)}
}

// Contains reports whether shard index s is listed.
func (rs RelayShards) Contains(s uint16) bool { return slices.Contains(rs.Shards, s) }

// UseRSV applies "rs if fewer than 64 shards, else rsv".
func (rs RelayShards) UseRSV() bool { return len(rs.Shards) >= RSMaxShards }

// Entry returns the rs or rsv entry for rs, whichever the count calls for.
func (rs RelayShards) Entry() ShardsEntry {
	if rs.UseRSV() {
		return (*RSV)(&rs)
	}
	return (*RS)(&rs)
}

// ShardsEntry is an rs or rsv entry (go-ethereum enr.Entry plus access to the shards).
type ShardsEntry interface {
	ENRKey() string
	RelayShards() RelayShards
}

// EncodeRS encodes the index list: uint16 cluster || uint8 count || count × uint16 shard.
func EncodeRS(rs RelayShards) ([]byte, error) {
	if err := rs.Validate(); err != nil {
		return nil, err
	}
	if len(rs.Shards) > 255 {
		return nil, fmt.Errorf("rs: %d shards do not fit a one-byte count", len(rs.Shards))
	}
	b := make([]byte, 3, 3+2*len(rs.Shards))
	binary.BigEndian.PutUint16(b, rs.Cluster)
	b[2] = byte(len(rs.Shards))
	for _, s := range rs.Shards {
		b = binary.BigEndian.AppendUint16(b, s)
	}
	return b, nil
}

// DecodeRS decodes an rs value; the length must be exactly 3 + 2*count.
func DecodeRS(b []byte) (RelayShards, error) {
	if len(b) < 3 {
		return RelayShards{}, fmt.Errorf("rs: %d bytes, want at least 3", len(b))
	}
	n := int(b[2])
	if len(b) != 3+2*n {
		return RelayShards{}, fmt.Errorf("rs: %d bytes for %d shards, want %d", len(b), n, 3+2*n)
	}
	rs := RelayShards{Cluster: binary.BigEndian.Uint16(b), Shards: make([]uint16, n)}
	for i := range n {
		rs.Shards[i] = binary.BigEndian.Uint16(b[3+2*i:])
	}
	if err := rs.Validate(); err != nil {
		return RelayShards{}, fmt.Errorf("rs: %w", err)
	}
	return rs, nil
}

// EncodeRSV encodes the bit vector: uint16 cluster || 128 bytes where shard s is bit s%8
// (LSB first) of byte s/8, counted from the start (the implementations' layout, not the
// spec prose).
func EncodeRSV(rs RelayShards) ([]byte, error) {
	if err := rs.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, rsvLen)
	binary.BigEndian.PutUint16(b, rs.Cluster)
	for _, s := range rs.Shards {
		b[2+s/8] |= 1 << (s % 8)
	}
	return b, nil
}

// DecodeRSV decodes a 130-byte rsv value; shards come out sorted.
func DecodeRSV(b []byte) (RelayShards, error) {
	if len(b) != rsvLen {
		return RelayShards{}, fmt.Errorf("rsv: %d bytes, want %d", len(b), rsvLen)
	}
	rs := RelayShards{Cluster: binary.BigEndian.Uint16(b)}
	for i, v := range b[2:] {
		for bit := range 8 {
			if v&(1<<bit) != 0 {
				rs.Shards = append(rs.Shards, uint16(i*8+bit))
			}
		}
	}
	return rs, nil
}

// RS is the "rs" entry. Setting an invalid value on a record panics in go-ethereum, so
// Validate first.
type RS RelayShards

// ENRKey implements enr.Entry.
func (*RS) ENRKey() string { return "rs" }

// RelayShards returns the shards.
func (r *RS) RelayShards() RelayShards { return RelayShards(*r) }

// EncodeRLP writes the rs bytes as an RLP string.
func (r *RS) EncodeRLP(w io.Writer) error {
	b, err := EncodeRS(RelayShards(*r))
	if err != nil {
		return err
	}
	return rlp.Encode(w, b)
}

// DecodeRLP reads an rs value.
func (r *RS) DecodeRLP(s *rlp.Stream) error {
	b, err := s.Bytes()
	if err != nil {
		return fmt.Errorf("rs: %w", err)
	}
	v, err := DecodeRS(b)
	if err != nil {
		return err
	}
	*r = RS(v)
	return nil
}

// RSV is the "rsv" entry.
type RSV RelayShards

// ENRKey implements enr.Entry.
func (*RSV) ENRKey() string { return "rsv" }

// RelayShards returns the shards.
func (r *RSV) RelayShards() RelayShards { return RelayShards(*r) }

// EncodeRLP writes the rsv bytes as an RLP string.
func (r *RSV) EncodeRLP(w io.Writer) error {
	b, err := EncodeRSV(RelayShards(*r))
	if err != nil {
		return err
	}
	return rlp.Encode(w, b)
}

// DecodeRLP reads an rsv value.
func (r *RSV) DecodeRLP(s *rlp.Stream) error {
	b, err := s.Bytes()
	if err != nil {
		return fmt.Errorf("rsv: %w", err)
	}
	v, err := DecodeRSV(b)
	if err != nil {
		return err
	}
	*r = RSV(v)
	return nil
}
