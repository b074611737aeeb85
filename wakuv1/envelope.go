// Package wakuv1 is a Waku v1 (6/WAKU1) peer on go-ethereum's devp2p server: the `waku/1`
// capability, the status handshake and updates, an envelope pool with expiry, forwarding that
// honours each peer's PoW requirement, bloom filter and topic interest, per-peer rate limits
// and message confirmations. Envelope `data` is 7/WAKU-DATA (package wakuv1/payload).
package wakuv1

import (
	"context"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// Envelope constants (status-go waku/common).
const (
	TopicLength          = 4
	EnvelopeHeaderLength = 20 // added to len(data) for the size limits
	DefaultTTL           = 50 // seconds
	DefaultSyncAllowance = 10 // seconds an envelope's sent time may lie in the future
)

// Topic is a 4-byte Waku v1 topic.
type Topic [TopicLength]byte

// String renders 0x + 8 lowercase hex digits, the form the bridge's content topics use.
func (t Topic) String() string { return "0x" + hex.EncodeToString(t[:]) }

// ParseTopic reads "0x12345678" or "12345678".
func ParseTopic(s string) (Topic, error) {
	var t Topic
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != TopicLength {
		return t, fmt.Errorf("topic %q: want 4 bytes of hex", s)
	}
	copy(t[:], b)
	return t, nil
}

// Envelope is the unit of Waku v1 gossip. Field order is the wire order.
type Envelope struct {
	Expiry uint32
	TTL    uint32
	Topic  Topic
	Data   []byte
	Nonce  uint64

	hash common.Hash `rlp:"-"` // Keccak-256 of the encoding as received or first encoded
	pow  float64     `rlp:"-"`
}

// DecodeEnvelope parses one RLP envelope and keeps the hash of exactly these bytes (status-go
// hashes the received bytes, so a peer's dedup and ours agree).
func DecodeEnvelope(raw []byte) (*Envelope, error) {
	e := &Envelope{}
	if err := rlp.DecodeBytes(raw, e); err != nil {
		return nil, fmt.Errorf("decode envelope: %w", err)
	}
	e.Data = aliasData(raw, e.Data)
	e.hash = crypto.Keccak256Hash(raw)
	return e, nil
}

// aliasData points Data into raw instead of the decoder's copy: a pooled envelope keeps raw
// for forwarding, so its data then costs its size once.
func aliasData(raw, data []byte) []byte {
	content, _, err := rlp.SplitList(raw)
	for i := 0; i < 3 && err == nil; i++ { // skip expiry, ttl, topic
		_, _, content, err = rlp.Split(content)
	}
	if err != nil {
		return data
	}
	d, _, err := rlp.SplitString(content)
	if err != nil || len(d) != len(data) {
		return data
	}
	return d[:len(d):len(d)]
}

// Encode returns the envelope's RLP encoding.
func (e *Envelope) Encode() ([]byte, error) { return rlp.EncodeToBytes(e) }

// Hash is the envelope's identity: Keccak-256 of its RLP encoding.
func (e *Envelope) Hash() common.Hash {
	if e.hash == (common.Hash{}) {
		raw, err := e.Encode()
		if err != nil { // cannot happen: every field has a fixed encodable type
			panic(err)
		}
		e.hash = crypto.Keccak256Hash(raw)
	}
	return e.hash
}

// Size is the measure the size limits use: header length plus data.
func (e *Envelope) Size() int { return EnvelopeHeaderLength + len(e.Data) }

// Sent is the envelope's sent time in Unix seconds: expiry − ttl.
func (e *Envelope) Sent() int64 { return int64(e.Expiry) - int64(e.TTL) }

// Bloom is the 64-byte bloom filter of the envelope's topic.
func (e *Envelope) Bloom() Bloom { return TopicToBloom(e.Topic) }

func (e *Envelope) rlpWithoutNonce() []byte {
	b, _ := rlp.EncodeToBytes([]any{e.Expiry, e.TTL, e.Topic, e.Data})
	return b
}

// powHasher counts the leading zero bits of keccak256(prefix ‖ nonce as 8 bytes BE). It
// absorbs the prefix once and restores that sponge state for each nonce, so a nonce costs one
// permutation or two instead of hashing the whole envelope again.
type powHasher struct {
	st       crypto.KeccakState
	snapshot []byte // sponge state after the prefix; nil: rehash prefix each time
	prefix   []byte
	nonce    [8]byte
	out      [32]byte
}

func newPowHasher(rlpNoNonce []byte) *powHasher {
	h := &powHasher{st: crypto.NewKeccakState(), prefix: rlpNoNonce}
	if m, ok := h.st.(encoding.BinaryMarshaler); ok {
		h.st.Write(rlpNoNonce)
		if snap, err := m.MarshalBinary(); err == nil {
			if _, ok := h.st.(encoding.BinaryUnmarshaler); ok {
				h.snapshot = snap
			}
		}
	}
	return h
}

func (h *powHasher) zeros(nonce uint64) int {
	binary.BigEndian.PutUint64(h.nonce[:], nonce)
	if h.snapshot != nil {
		_ = h.st.(encoding.BinaryUnmarshaler).UnmarshalBinary(h.snapshot)
	} else {
		h.st.Reset()
		h.st.Write(h.prefix)
	}
	h.st.Write(h.nonce[:])
	h.st.Read(h.out[:])
	n := 0
	for _, b := range h.out {
		if b != 0 {
			return n + bits.LeadingZeros8(b)
		}
		n += 8
	}
	return n
}

// PoW is 2^leadingZeros / (len(rlp without nonce) × ttl), computed once.
func (e *Envelope) PoW() float64 {
	if e.pow == 0 {
		rl := e.rlpWithoutNonce()
		zeros := newPowHasher(rl).zeros(e.Nonce)
		ttl := float64(e.TTL)
		if ttl == 0 {
			ttl = 1 // a ttl-0 envelope is rejected on receipt; avoid +Inf for local callers
		}
		e.pow = math.Pow(2, float64(zeros)) / float64(len(rl)) / ttl
	}
	return e.pow
}

// ErrPoWTarget reports a sealing target that needs more than maxPoWBits leading zeros.
var ErrPoWTarget = errors.New("PoW target unreachable")

// maxPoWBits bounds sealing: 2^40 hashes is hours of work, never a sane configuration.
const maxPoWBits = 40

// Seal finds the smallest nonce whose PoW reaches target. It is deterministic, so two bridges
// sealing the same fields produce the same envelope (and v1 peers dedup it by hash). The
// number of leading zero bits is taken from the larger of the two size measures (status-go
// seals with 20+len(data), checks with the RLP length) so the result always verifies.
func (e *Envelope) Seal(ctx context.Context, target float64) error {
	e.hash, e.pow = common.Hash{}, 0
	if target <= 0 || math.IsNaN(target) {
		e.Nonce = 0
		return nil
	}
	rl := e.rlpWithoutNonce()
	size := max(len(rl), e.Size())
	want := int(math.Ceil(math.Log2(target * float64(size) * float64(max(e.TTL, 1)))))
	want = max(want, 1)
	if want > maxPoWBits {
		return fmt.Errorf("%w: %d bits", ErrPoWTarget, want)
	}
	h := newPowHasher(rl)
	for nonce := uint64(0); ; nonce++ {
		if h.zeros(nonce) >= want {
			e.Nonce = nonce
			return nil
		}
		if nonce&0xffff == 0xffff && ctx.Err() != nil {
			return fmt.Errorf("seal: %w", ctx.Err())
		}
	}
}
