// Package enr holds Waku's ENR knowledge (WAKU2-ENR, shared/spec/enr.md): the waku2 capability
// bitfield, the multiaddrs field, relay shards (rs/rsv), building the local record and decoding
// remote ones. RLP, signatures and the record itself come from go-ethereum's p2p/enr and
// p2p/enode; this package only defines the Waku entries on top.
package enr

import (
	"fmt"
	"io"
	"strings"

	"github.com/ethereum/go-ethereum/rlp"
)

// Capabilities is the waku2 ENR field: one byte, bit 0 = LSB.
type Capabilities uint8

// Capability bits (enr.md). Mix is nwaku-only and not in the spec.
const (
	Relay     Capabilities = 1 << 0
	Store     Capabilities = 1 << 1
	Filter    Capabilities = 1 << 2
	Lightpush Capabilities = 1 << 3
	Sync      Capabilities = 1 << 4
	Mix       Capabilities = 1 << 5
)

var capNames = []struct {
	c    Capabilities
	name string
}{{Relay, "relay"}, {Store, "store"}, {Filter, "filter"}, {Lightpush, "lightpush"}, {Sync, "sync"}, {Mix, "mix"}}

// Has reports whether every bit of want is set.
func (c Capabilities) Has(want Capabilities) bool { return c&want == want }

// String lists the set capabilities, e.g. "relay|store|filter|lightpush"; "none" for 0 and
// "0x80"-style hex for undefined bits.
func (c Capabilities) String() string {
	if c == 0 {
		return "none"
	}
	var parts []string
	rest := c
	for _, n := range capNames {
		if c&n.c != 0 {
			parts = append(parts, n.name)
			rest &^= n.c
		}
	}
	if rest != 0 {
		parts = append(parts, fmt.Sprintf("0x%02x", uint8(rest)))
	}
	return strings.Join(parts, "|")
}

// ENRKey implements go-ethereum's enr.Entry.
func (Capabilities) ENRKey() string { return "waku2" }

// EncodeRLP writes the bitfield as a one-byte RLP string, as nwaku does (an RLP integer would
// encode 0 as the empty string).
func (c Capabilities) EncodeRLP(w io.Writer) error { return rlp.Encode(w, []byte{byte(c)}) }

// DecodeRLP reads a one-byte string; the empty string (an integer-encoded 0) reads as 0.
func (c *Capabilities) DecodeRLP(s *rlp.Stream) error {
	b, err := s.Bytes()
	if err != nil {
		return fmt.Errorf("waku2: %w", err)
	}
	switch len(b) {
	case 0:
		*c = 0
	case 1:
		*c = Capabilities(b[0])
	default:
		return fmt.Errorf("waku2: want 1 byte, got %d", len(b))
	}
	return nil
}
