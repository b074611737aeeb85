package storesync

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/wakunode/wakunode/message"
)

const (
	vecTopic = "/waku/2/rs/1/0"
	vecT0    = int64(1_700_000_000_000_000_000)
)

func sha(s string) message.Hash { return sha256.Sum256([]byte(s)) }

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func xorHash(hs ...message.Hash) message.Hash {
	var out message.Hash
	for _, h := range hs {
		for i := range out {
			out[i] ^= h[i]
		}
	}
	return out
}

// Worked example 1 of store-sync.md §4.6: the initiator's first payload.
func TestCodecInitialPayloadVector(t *testing.T) {
	h1, h2 := sha("a"), sha("b")
	fp := xorHash(h1, h2)
	if got := hex.EncodeToString(fp[:]); got != "f4b46904ca22e480c94b7ed6fec26d792c3b95f89ca8623872f3992b7a724826" {
		t.Fatalf("fingerprint %s", got)
	}
	var ff message.Hash
	for i := range ff {
		ff[i] = 0xff
	}
	p := &Payload{PubsubTopics: []string{vecTopic}, Ranges: []Range{{
		Lower: ID{Time: vecT0}, Upper: ID{Time: vecT0 + 3_600_000_000_000, Hash: ff}, Type: Fingerprint, Fingerprint: fp,
	}}}
	want := "010e2f77616b752f322f72732f312f30008080a8b1e39fe7cb1780c0e285e36801f4b46904ca22e480c94b7ed6fec26d792c3b95f89ca8623872f3992b7a724826"
	got := p.Encode()
	if hex.EncodeToString(got) != want {
		t.Fatalf("encode\n got %x\nwant %s", got, want)
	}
	if len(got) != 65 {
		t.Fatalf("len %d", len(got))
	}
	d, err := Decode(got, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The responder sees the upper bound with a zero hash (only Δt is sent).
	r := d.Ranges[0]
	if len(d.Ranges) != 1 || r.Lower != (ID{Time: vecT0}) || r.Upper != (ID{Time: vecT0 + 3_600_000_000_000}) || r.Type != Fingerprint || r.Fingerprint != fp {
		t.Fatalf("decoded %+v", d)
	}
	if len(d.PubsubTopics) != 1 || d.PubsubTopics[0] != vecTopic || len(d.ContentTopics) != 0 {
		t.Fatalf("topics %+v", d)
	}
}

// Worked example 2 of store-sync.md §4.7: Skip, ItemSet, Fingerprint.
func TestCodecMixedReplyVector(t *testing.T) {
	h1, h2, h3 := sha("a"), sha("b"), sha("c")
	step := int64(450_000_000_000)
	tb := vecT0 + step
	p := &Payload{PubsubTopics: []string{vecTopic}, Ranges: []Range{
		{Lower: ID{Time: vecT0}, Upper: ID{Time: tb}, Type: Skip},
		{Lower: ID{Time: tb}, Upper: ID{Time: tb + step}, Type: ItemSet, Items: []ID{{tb + 1000, h1}, {tb + 3000, h2}}},
		{Lower: ID{Time: tb + step}, Upper: ID{Time: tb + 2*step}, Type: Fingerprint, Fingerprint: h3},
	}}
	want := "010e2f77616b752f322f72732f312f3000" + "8080a8b1e39fe7cb17" +
		"80a8dcb08c0d" + "00" +
		"80a8dcb08c0d" + "02" + "02" +
		"e8af84e2eface7cb17" + hex.EncodeToString(h1[:]) +
		"d00f" + hex.EncodeToString(h2[:]) + "00" +
		"80a8dcb08c0d" + "01" + "2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6"
	got := p.Encode()
	if hex.EncodeToString(got) != want {
		t.Fatalf("encode\n got %x\nwant %s", got, want)
	}
	if len(got) != 156 {
		t.Fatalf("len %d, want 156", len(got))
	}
	d, err := Decode(got, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !equalRanges(d.Ranges, p.Ranges) {
		t.Fatalf("round trip\n got %+v\nwant %+v", d.Ranges, p.Ranges)
	}
}

// §4.8: terminal payload, empty frame, Δt = 0 prefix rule and LEB128 checks.
func TestCodecOtherVectors(t *testing.T) {
	if got := (&Payload{PubsubTopics: []string{vecTopic}}).Encode(); !bytes.Equal(got, []byte{0}) {
		t.Fatalf("done payload %x", got)
	}
	for _, b := range [][]byte{nil, {0}} {
		d, err := Decode(b, 0)
		if err != nil || len(d.Ranges) != 0 {
			t.Fatalf("decode %x: %v %+v", b, err, d)
		}
	}
	h1 := sha("a")
	p := &Payload{Ranges: []Range{{Lower: ID{Time: vecT0}, Upper: ID{Time: vecT0, Hash: h1}, Type: Skip}}}
	want := "0000" + "8080a8b1e39fe7cb17" + "00" + "01ca" + "00"
	if got := hex.EncodeToString(p.Encode()); got != want {
		t.Fatalf("Δt=0 got %s want %s", got, want)
	}
	d, err := Decode(unhex(t, want), 0)
	if err != nil {
		t.Fatal(err)
	}
	var up message.Hash
	up[0] = 0xca
	if d.Ranges[0].Upper != (ID{Time: vecT0, Hash: up}) || d.Ranges[0].Type != Skip {
		t.Fatalf("Δt=0 decoded %+v", d.Ranges[0])
	}
	for v, w := range map[uint64]string{1000: "e807", 2000: "d00f", 450e9: "80a8dcb08c0d", 3600e9: "80c0e285e368", uint64(vecT0): "8080a8b1e39fe7cb17"} {
		if got := hex.EncodeToString(putUvarint(nil, v)); got != w {
			t.Errorf("leb128(%d) = %s, want %s", v, got, w)
		}
	}
}

func TestCodecRejects(t *testing.T) {
	good := (&Payload{Ranges: []Range{{Lower: ID{Time: vecT0}, Upper: ID{Time: vecT0 + 5}, Type: ItemSet, Items: []ID{{vecT0 + 1, sha("x")}}}}}).Encode()
	cases := map[string][]byte{
		"unknown type":     append(append([]byte{}, good[:13]...), 7),
		"truncated hash":   good[:len(good)-5],
		"bad reconciled":   append(append([]byte{}, good[:len(good)-1]...), 2),
		"10-byte varint":   unhex(t, "00008080808080808080800100"),
		"topic past end":   unhex(t, "01ff0100"),
		"truncated fprint": unhex(t, "0000010101aabb"),
	}
	for name, b := range cases {
		if _, err := Decode(b, 0); err == nil {
			t.Errorf("%s: decoded %x", name, b)
		}
	}
	many := &Payload{}
	for i := range 11 {
		many.Ranges = append(many.Ranges, Range{Lower: ID{Time: int64(i)}, Upper: ID{Time: int64(i + 1)}, Type: Skip})
	}
	if _, err := Decode(many.Encode(), 10); err == nil {
		t.Error("11 ranges decoded with a limit of 10")
	}
}

// store-sync.md §13.1: item sets and multi-range payloads round-trip; lower bounds are the
// previous upper bounds.
func TestCodecRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randItems := func(n int, t0 int64) []ID {
		out := make([]ID, n)
		ts := t0
		for i := range out {
			ts += int64(1000 + rng.IntN(9000))
			out[i].Time = ts
			for j := range out[i].Hash {
				out[i].Hash[j] = byte(rng.Uint32())
			}
		}
		return out
	}
	ten := int64(10_000_000_000)
	payloads := map[string]*Payload{
		"empty itemset": {Ranges: []Range{{Lower: ID{Time: vecT0}, Upper: ID{Time: vecT0 + ten}, Type: ItemSet, Items: []ID{}, Reconciled: true}}},
		"10 items":      {Ranges: []Range{{Lower: ID{Time: vecT0}, Upper: ID{Time: vecT0 + ten}, Type: ItemSet, Items: randItems(10, vecT0)}}},
	}
	four, fps, mixed := &Payload{PubsubTopics: []string{"a", "b"}, ContentTopics: []string{"c"}}, &Payload{}, &Payload{}
	for i := range 4 {
		lo, hi := ID{Time: vecT0 + int64(i)*ten}, ID{Time: vecT0 + int64(i+1)*ten}
		four.Ranges = append(four.Ranges, Range{Lower: lo, Upper: hi, Type: ItemSet, Items: randItems(3, lo.Time), Reconciled: i%2 == 0})
		fps.Ranges = append(fps.Ranges, Range{Lower: lo, Upper: hi, Type: Fingerprint, Fingerprint: sha(string(rune('a' + i)))})
		if i%2 == 0 {
			mixed.Ranges = append(mixed.Ranges, fps.Ranges[i])
		} else {
			mixed.Ranges = append(mixed.Ranges, four.Ranges[i])
		}
	}
	payloads["4 itemsets"], payloads["4 fingerprints"], payloads["mixed"] = four, fps, mixed
	for name, p := range payloads {
		d, err := Decode(p.Encode(), 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !equalRanges(d.Ranges, p.Ranges) {
			t.Fatalf("%s:\n got %+v\nwant %+v", name, d.Ranges, p.Ranges)
		}
		if len(d.PubsubTopics) != len(p.PubsubTopics) || len(d.ContentTopics) != len(p.ContentTopics) {
			t.Fatalf("%s topics %+v", name, d)
		}
	}
}

func equalRanges(a, b []Range) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Lower != y.Lower || x.Upper != y.Upper || x.Type != y.Type || x.Fingerprint != y.Fingerprint || x.Reconciled != y.Reconciled || len(x.Items) != len(y.Items) {
			return false
		}
		for j := range x.Items {
			if x.Items[j] != y.Items[j] {
				return false
			}
		}
	}
	return true
}
