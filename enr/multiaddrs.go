package enr

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/ethereum/go-ethereum/rlp"
	"github.com/multiformats/go-multiaddr"
)

// Multiaddrs is the "multiaddrs" entry: for each address uint16_BE(len) || binary multiaddr.
// It carries what ip/tcp/udp cannot express (dns, ws/wss, circuit relay).
type Multiaddrs []multiaddr.Multiaddr

// ENRKey implements enr.Entry.
func (Multiaddrs) ENRKey() string { return "multiaddrs" }

// EncodeRLP writes the concatenated entries as one RLP string.
func (m Multiaddrs) EncodeRLP(w io.Writer) error {
	b, err := EncodeMultiaddrs(m)
	if err != nil {
		return err
	}
	return rlp.Encode(w, b)
}

// DecodeRLP reads a multiaddrs value.
func (m *Multiaddrs) DecodeRLP(s *rlp.Stream) error {
	b, err := s.Bytes()
	if err != nil {
		return fmt.Errorf("multiaddrs: %w", err)
	}
	v, err := DecodeMultiaddrs(b)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// EncodeMultiaddrs concatenates length-prefixed binary multiaddrs.
func EncodeMultiaddrs(addrs []multiaddr.Multiaddr) ([]byte, error) {
	var out []byte
	for _, a := range addrs {
		b := a.Bytes()
		if len(b) == 0 || len(b) > math.MaxUint16 {
			return nil, fmt.Errorf("multiaddrs: %q: encoded length %d out of range", a, len(b))
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out, nil
}

// DecodeMultiaddrs splits a multiaddrs value. A zero or overrunning length is an error (the
// framing is broken); an entry that frames correctly but does not parse is skipped.
func DecodeMultiaddrs(b []byte) ([]multiaddr.Multiaddr, error) {
	var out []multiaddr.Multiaddr
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("multiaddrs: %d trailing bytes", len(b))
		}
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if n == 0 {
			return nil, fmt.Errorf("multiaddrs: zero-length entry")
		}
		if n > len(b) {
			return nil, fmt.Errorf("multiaddrs: entry of %d bytes, %d left", n, len(b))
		}
		if a, err := multiaddr.NewMultiaddrBytes(b[:n]); err == nil {
			out = append(out, a)
		}
		b = b[n:]
	}
	return out, nil
}

// forRecord prepares an address for the multiaddrs field: a trailing /p2p/<id> is stripped;
// a circuit-relay address is kept up to the relay's /p2p/<id>, without /p2p-circuit and what
// follows (enr.md).
func forRecord(a multiaddr.Multiaddr) multiaddr.Multiaddr {
	for i, c := range a {
		if c.Code() == multiaddr.P_CIRCUIT {
			return a[:i:i]
		}
	}
	if len(a) > 0 && a[len(a)-1].Code() == multiaddr.P_P2P {
		return a[: len(a)-1 : len(a)-1]
	}
	return a
}
