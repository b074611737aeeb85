package wakuv1

import (
	"errors"
	"fmt"
	"math"

	"github.com/ethereum/go-ethereum/rlp"
)

// Status option keys (6/WAKU1 §status): an association list [[key, value], ...].
const (
	keyPoWRequirement       = 0
	keyBloomFilter          = 1
	keyLightNode            = 2
	keyConfirmationsEnabled = 3
	keyPacketRateLimits     = 4
	keyTopicInterest        = 5
	keyBytesRateLimits      = 6
)

// MaxTopicInterest bounds a peer's topic-interest list.
const MaxTopicInterest = 10000

// RateLimits are per-second limits per IP, per peer ID and per topic; zero means none.
type RateLimits struct {
	IP, PeerID, Topic uint64
}

// StatusOptions is the payload of Status (code 0) and Status Update (code 22). A nil field is
// absent: in a Status it takes the default, in an update it leaves the value unchanged.
type StatusOptions struct {
	PoWRequirement       *float64
	BloomFilter          *Bloom // an empty bloom on the wire decodes to the full bloom
	LightNode            *bool
	ConfirmationsEnabled *bool
	PacketRateLimits     *RateLimits
	TopicInterest        []Topic // nil = absent; non-nil empty = interested in nothing
	BytesRateLimits      *RateLimits
}

// ErrStatus wraps every status decoding failure.
var ErrStatus = errors.New("invalid status options")

// EncodeRLP writes the association list (status-go form: the list is the packet payload).
func (o *StatusOptions) EncodeRLP() ([]byte, error) {
	var list []any
	if o.PoWRequirement != nil {
		list = append(list, []any{uint64(keyPoWRequirement), math.Float64bits(*o.PoWRequirement)})
	}
	if o.BloomFilter != nil {
		list = append(list, []any{uint64(keyBloomFilter), o.BloomFilter[:]})
	}
	if o.LightNode != nil {
		list = append(list, []any{uint64(keyLightNode), *o.LightNode})
	}
	if o.ConfirmationsEnabled != nil {
		list = append(list, []any{uint64(keyConfirmationsEnabled), *o.ConfirmationsEnabled})
	}
	if o.PacketRateLimits != nil {
		l := o.PacketRateLimits
		list = append(list, []any{uint64(keyPacketRateLimits), []uint64{l.IP, l.PeerID, l.Topic}})
	}
	if o.TopicInterest != nil {
		list = append(list, []any{uint64(keyTopicInterest), o.TopicInterest})
	}
	if o.BytesRateLimits != nil {
		l := o.BytesRateLimits
		list = append(list, []any{uint64(keyBytesRateLimits), []uint64{l.IP, l.PeerID, l.Topic}})
	}
	if list == nil {
		list = []any{}
	}
	return rlp.EncodeToBytes(list)
}

// DecodeStatusOptions parses a Status or Status Update payload. Unknown keys are skipped; a
// known key with a bad value is an error. A payload wrapped in one more list (the nim-eth
// DSL's form) is unwrapped.
func DecodeStatusOptions(payload []byte) (*StatusOptions, error) {
	items, rest, err := rlp.SplitList(payload)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: not one list", ErrStatus)
	}
	if wrapped(items) {
		items, _, _ = rlp.SplitList(items)
	}
	o := &StatusOptions{}
	for len(items) > 0 {
		var pair []byte
		pair, items, err = rlp.SplitList(items)
		if err != nil {
			return nil, fmt.Errorf("%w: option is not a [key, value] list", ErrStatus)
		}
		keyRaw, valRaw, err := splitPair(pair)
		if err != nil {
			return nil, err
		}
		if err := o.set(keyRaw, valRaw); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// wrapped tells whether items is a single list whose first element is itself a list.
func wrapped(items []byte) bool {
	k, inner, rest, err := rlp.Split(items)
	if err != nil || k != rlp.List || len(rest) != 0 {
		return false
	}
	k2, _, _, err := rlp.Split(inner)
	return err == nil && k2 == rlp.List
}

func splitPair(pair []byte) (key uint64, val []byte, err error) {
	key, rest, err := rlp.SplitUint64(pair)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: option key is not an integer: %v", ErrStatus, err)
	}
	_, _, after, err := rlp.Split(rest)
	if err != nil || len(after) != 0 {
		return 0, nil, fmt.Errorf("%w: option %d is not a [key, value] pair", ErrStatus, key)
	}
	return key, rest, nil
}

func (o *StatusOptions) set(key uint64, val []byte) error {
	bad := func(err error) error { return fmt.Errorf("%w: option %d: %v", ErrStatus, key, err) }
	switch key {
	case keyPoWRequirement:
		var bitsV uint64
		if err := rlp.DecodeBytes(val, &bitsV); err != nil {
			return bad(err)
		}
		p := math.Float64frombits(bitsV)
		if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 {
			return bad(fmt.Errorf("PoW %v", p))
		}
		o.PoWRequirement = &p
	case keyBloomFilter:
		var b []byte
		if err := rlp.DecodeBytes(val, &b); err != nil {
			return bad(err)
		}
		var bl Bloom
		switch len(b) {
		case 0: // status-go tolerates it and treats it as the full bloom
			bl = FullBloom()
		case BloomFilterSize:
			copy(bl[:], b)
		default:
			return bad(fmt.Errorf("bloom of %d bytes", len(b)))
		}
		o.BloomFilter = &bl
	case keyLightNode, keyConfirmationsEnabled:
		var v bool
		if err := rlp.DecodeBytes(val, &v); err != nil {
			return bad(err)
		}
		if key == keyLightNode {
			o.LightNode = &v
		} else {
			o.ConfirmationsEnabled = &v
		}
	case keyPacketRateLimits, keyBytesRateLimits:
		var l []uint64
		if err := rlp.DecodeBytes(val, &l); err != nil || len(l) != 3 {
			return bad(fmt.Errorf("want 3 integers (%v)", err))
		}
		rl := &RateLimits{IP: l[0], PeerID: l[1], Topic: l[2]}
		if key == keyPacketRateLimits {
			o.PacketRateLimits = rl
		} else {
			o.BytesRateLimits = rl
		}
	case keyTopicInterest:
		n, err := countList(val)
		if err != nil {
			return bad(err)
		}
		if n > MaxTopicInterest {
			return bad(fmt.Errorf("%d topics exceed %d", n, MaxTopicInterest))
		}
		ts := make([]Topic, 0, n)
		if err := rlp.DecodeBytes(val, &ts); err != nil {
			return bad(err)
		}
		o.TopicInterest = ts
	}
	return nil // unknown keys are skipped for forward compatibility
}

// countList counts a list's elements without decoding them, so a huge list is refused cheaply.
func countList(b []byte) (int, error) {
	content, _, err := rlp.SplitList(b)
	if err != nil {
		return 0, err
	}
	return rlp.CountValues(content)
}

// merge applies an update: present fields replace, absent ones stay. Bloom and topic interest
// exclude each other: whichever the update carries replaces the other (topic interest wins
// when both are present).
func (o *StatusOptions) merge(u *StatusOptions) {
	if u.PoWRequirement != nil {
		o.PoWRequirement = u.PoWRequirement
	}
	if u.LightNode != nil {
		o.LightNode = u.LightNode
	}
	if u.ConfirmationsEnabled != nil {
		o.ConfirmationsEnabled = u.ConfirmationsEnabled
	}
	if u.PacketRateLimits != nil {
		o.PacketRateLimits = u.PacketRateLimits
	}
	if u.BytesRateLimits != nil {
		o.BytesRateLimits = u.BytesRateLimits
	}
	switch {
	case u.TopicInterest != nil:
		o.TopicInterest, o.BloomFilter = u.TopicInterest, nil
	case u.BloomFilter != nil:
		o.BloomFilter, o.TopicInterest = u.BloomFilter, nil
	}
}
