package wakuv1

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/ethereum/go-ethereum/rlp"
	"golang.org/x/time/rate"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The envelope is the RLP list [expiry, ttl, topic, data, nonce]; vector derived by hand.
func TestEnvelopeRLPVector(t *testing.T) {
	e := &Envelope{Expiry: 0x5f000000, TTL: 50, Topic: Topic{0x12, 0x34, 0x56, 0x78}, Data: []byte("hi"), Nonce: 0x0102}
	raw, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	//        list(17)  expiry 4B       ttl  topic 4B        data "hi"  nonce 2B
	want := unhex(t, "d1 845f000000 32 8412345678 826869 820102")
	if !bytes.Equal(raw, want) {
		t.Fatalf("got %x, want %x", raw, want)
	}
	d, err := DecodeEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	if d.Expiry != e.Expiry || d.TTL != 50 || d.Topic != e.Topic || string(d.Data) != "hi" || d.Nonce != 0x0102 {
		t.Fatalf("decoded %+v", d)
	}
	if d.Hash() != crypto.Keccak256Hash(want) || e.Hash() != d.Hash() {
		t.Fatal("hash is not keccak256 of the encoding")
	}
	if d.Sent() != 0x5f000000-50 || d.Size() != 22 {
		t.Fatalf("sent %d size %d", d.Sent(), d.Size())
	}
	for name, bad := range map[string]string{
		"topic of 3 bytes":   "d0 845f000000 32 83123456 826869 820102",
		"six fields":         "d2 845f000000 32 8412345678 826869 820102 01",
		"non-canonical ttl":  "d2 845f000000 8132 8412345678 826869 820102",
		"trailing bytes":     "d1 845f000000 32 8412345678 826869 820102 00",
		"expiry over 32 bit": "d2 85015f000000 32 8412345678 826869 820102",
	} {
		if _, err := DecodeEnvelope(unhex(t, bad)); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// powReference recomputes PoW with big.Int, independently of the fast path.
func powReference(e *Envelope) float64 {
	rl, _ := rlp.EncodeToBytes([]any{e.Expiry, e.TTL, e.Topic, e.Data})
	buf := append(append([]byte(nil), rl...), make([]byte, 8)...)
	binary.BigEndian.PutUint64(buf[len(rl):], e.Nonce)
	h := new(big.Int).SetBytes(crypto.Keccak256(buf))
	return math.Pow(2, float64(256-h.BitLen())) / float64(len(rl)) / float64(e.TTL)
}

func TestPoWAndSeal(t *testing.T) {
	for _, n := range []int{0, 10, 300, 1200} {
		for _, target := range []float64{0.002, 0.2, 1} {
			if target == 1 && n > 300 {
				continue // 18 bits of work: slow under -race, adds nothing
			}
			e := &Envelope{Expiry: 1700000050, TTL: 50, Topic: Topic{1, 2, 3, 4}, Data: bytes.Repeat([]byte{0xab}, n)}
			if err := e.Seal(context.Background(), target); err != nil {
				t.Fatal(err)
			}
			got := e.PoW()
			if got != powReference(e) {
				t.Fatalf("PoW %v, reference %v", got, powReference(e))
			}
			if got < target {
				t.Fatalf("data %d target %v: sealed PoW %v below target", n, target, got)
			}
			// Deterministic: sealing the same fields again gives the same nonce.
			again := &Envelope{Expiry: e.Expiry, TTL: e.TTL, Topic: e.Topic, Data: e.Data}
			_ = again.Seal(context.Background(), target)
			if again.Nonce != e.Nonce || again.Hash() != e.Hash() {
				t.Fatal("sealing is not deterministic")
			}
		}
	}
	e := &Envelope{Expiry: 1, TTL: 1, Data: []byte{1}}
	if err := e.Seal(context.Background(), 1e12); !errors.Is(err, ErrPoWTarget) {
		t.Fatalf("unreachable target: %v", err)
	}
	// A nonce of 0 is rarely enough: PoW of an unsealed envelope equals the reference too.
	u := &Envelope{Expiry: 99, TTL: 7, Topic: Topic{9}, Data: []byte("x"), Nonce: 12345}
	if u.PoW() != powReference(u) {
		t.Fatal("unsealed PoW differs from reference")
	}
}

func TestTopicToBloomVectors(t *testing.T) {
	for _, tc := range []struct {
		topic Topic
		bits  map[int]byte // byte index → value
	}{
		{Topic{0, 0, 0, 0}, map[int]byte{0: 0x01}},
		// indices 1+256, 9+256, 255+256 (byte 3 bits 0..2 add 256)
		{Topic{0x01, 0x09, 0xff, 0x07}, map[int]byte{32: 0x02, 33: 0x02, 63: 0x80}},
		// quirk: indices 0 and 1 share byte 0; the later assignment wins (0x02, not 0x03)
		{Topic{0x00, 0x01, 0x10, 0x00}, map[int]byte{0: 0x02, 2: 0x01}},
	} {
		b := TopicToBloom(tc.topic)
		for i, v := range b {
			if v != tc.bits[i] {
				t.Errorf("topic %v byte %d = %#x, want %#x", tc.topic, i, v, tc.bits[i])
			}
		}
	}
	full := FullBloom()
	tb := TopicToBloom(Topic{1, 2, 3, 4})
	if !full.Contains(&tb) {
		t.Fatal("full bloom misses a topic")
	}
	other := BloomOf(Topic{9, 9, 9, 9})
	if other.Contains(&tb) {
		t.Fatal("unrelated bloom matches")
	}
	both := BloomOf(Topic{9, 9, 9, 9}, Topic{1, 2, 3, 4})
	if !both.Contains(&tb) {
		t.Fatal("OR of blooms misses one of its topics")
	}
}

func TestStatusOptionsVectors(t *testing.T) {
	pow := 0.2 // 0x3fc999999999999a
	tr := true
	o := &StatusOptions{PoWRequirement: &pow, LightNode: &tr, TopicInterest: []Topic{{1, 2, 3, 4}}}
	raw, err := o.EncodeRLP()
	if err != nil {
		t.Fatal(err)
	}
	// [[0, 0x3fc999999999999a], [2, true], [5, [0x01020304]]]
	want := unhex(t, "d6 ca 80 883fc999999999999a c2 02 01 c7 05 c5 8401020304")
	if !bytes.Equal(raw, want) {
		t.Fatalf("got %x\nwant %x", raw, want)
	}
	for name, in := range map[string][]byte{
		"status-go form": want,
		"wrapped (nim)":  unhex(t, "d7 d6 ca 80 883fc999999999999a c2 02 01 c7 05 c5 8401020304"),
		"unknown key 9":  unhex(t, "d9 ca 80 883fc999999999999a c2 02 01 c7 05 c5 8401020304 c2 09 07"),
	} {
		d, err := DecodeStatusOptions(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *d.PoWRequirement != 0.2 || !*d.LightNode || len(d.TopicInterest) != 1 || d.TopicInterest[0] != (Topic{1, 2, 3, 4}) || d.BloomFilter != nil {
			t.Fatalf("%s: %+v", name, d)
		}
	}
	bloom := BloomOf(Topic{1, 2, 3, 4})
	f := false
	full := &StatusOptions{BloomFilter: &bloom, ConfirmationsEnabled: &f,
		PacketRateLimits: &RateLimits{1, 2, 3}, BytesRateLimits: &RateLimits{4, 5, 6}, TopicInterest: []Topic{}}
	raw, _ = full.EncodeRLP()
	d, err := DecodeStatusOptions(raw)
	if err != nil {
		t.Fatal(err)
	}
	if *d.BloomFilter != bloom || *d.ConfirmationsEnabled || *d.PacketRateLimits != (RateLimits{1, 2, 3}) ||
		*d.BytesRateLimits != (RateLimits{4, 5, 6}) || d.TopicInterest == nil || len(d.TopicInterest) != 0 {
		t.Fatalf("round trip: %+v", d)
	}
	empty, _ := (&StatusOptions{}).EncodeRLP()
	if !bytes.Equal(empty, []byte{0xc0}) {
		t.Fatalf("empty options %x", empty)
	}
	nan := math.Float64bits(math.NaN())
	for name, bad := range map[string][]byte{
		"NaN PoW":         mustRLP(t, []any{[]any{uint64(0), nan}}),
		"negative PoW":    mustRLP(t, []any{[]any{uint64(0), math.Float64bits(-1)}}),
		"bloom 10 bytes":  mustRLP(t, []any{[]any{uint64(1), make([]byte, 10)}}),
		"3-byte topic":    mustRLP(t, []any{[]any{uint64(5), []any{[]byte{1, 2, 3}}}}),
		"rate limits x2":  mustRLP(t, []any{[]any{uint64(4), []uint64{1, 2}}}),
		"not a list":      {0x80},
		"pair of three":   mustRLP(t, []any{[]any{uint64(2), true, true}}),
		"too many topics": mustRLP(t, []any{[]any{uint64(5), make([]Topic, MaxTopicInterest+1)}}),
	} {
		if _, err := DecodeStatusOptions(bad); !errors.Is(err, ErrStatus) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func mustRLP(t testing.TB, v any) []byte {
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStatusMerge(t *testing.T) {
	p1, p2 := 0.1, 0.5
	bloom := FullBloom()
	o := &StatusOptions{PoWRequirement: &p1, TopicInterest: []Topic{{1}}}
	o.merge(&StatusOptions{})
	if *o.PoWRequirement != 0.1 || len(o.TopicInterest) != 1 {
		t.Fatal("empty update changed something")
	}
	o.merge(&StatusOptions{PoWRequirement: &p2, BloomFilter: &bloom})
	if *o.PoWRequirement != 0.5 || o.TopicInterest != nil || o.BloomFilter == nil {
		t.Fatal("bloom update did not replace topic interest")
	}
	o.merge(&StatusOptions{TopicInterest: []Topic{{2}}})
	if o.BloomFilter != nil || o.TopicInterest[0] != (Topic{2}) {
		t.Fatal("topic interest update did not replace bloom")
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(unhex(f, "d1 845f000000 32 8412345678 826869 820102"))
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := DecodeEnvelope(raw)
		if err != nil {
			return
		}
		again, err := e.Encode()
		if err != nil || !bytes.Equal(again, raw) {
			t.Fatalf("re-encode %x != %x (%v)", again, raw, err)
		}
		_ = e.PoW()
	})
}

func FuzzDecodeStatusOptions(f *testing.F) {
	f.Add(unhex(f, "d6 ca 80 883fc999999999999a c2 02 01 c7 05 c5 8401020304"))
	f.Add(unhex(f, "d7 d6 ca 80 883fc999999999999a c2 02 01 c7 05 c5 8401020304"))
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := DecodeStatusOptions(raw)
		if err != nil {
			return
		}
		enc, err := o.EncodeRLP()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeStatusOptions(enc); err != nil {
			t.Fatalf("re-decode of %x: %v", enc, err)
		}
	})
}

// FuzzHandleMessages feeds arbitrary Messages packets to a peer's handler: it never panics, and
// only envelopes that pass validation enter the pool.
func FuzzHandleMessages(f *testing.F) {
	now := uint32(time.Now().Unix())
	good, _ := rlp.EncodeToBytes([]*Envelope{{Expiry: now + 1000, TTL: 1000, Topic: Topic{1}, Data: []byte("x")}})
	f.Add(good)
	f.Add([]byte{0xc0})
	f.Add([]byte{0xc3, 0xc2, 0x01, 0x02})
	cfg := DefaultConfig()
	cfg.MinPoW = 0
	cfg.Logger = quietLogger()
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		p := &peer{n: n, id: enode.ID{9}, log: n.log, remote: withDefaults(StatusOptions{}),
			inEnvelopes: rate.NewLimiter(rate.Inf, 0), inBytes: rate.NewLimiter(rate.Inf, 0)}
		_ = p.handleMessages(data)
		n.pool.mu.Lock()
		defer n.pool.mu.Unlock()
		for _, e := range n.pool.byHash {
			if _, err := n.check(e.env); err != nil {
				t.Fatalf("pool holds an invalid envelope: %v", err)
			}
			if e.env.Hash() != crypto.Keccak256Hash(e.raw) {
				t.Fatal("pooled envelope's hash is not of its bytes")
			}
		}
	})
}
