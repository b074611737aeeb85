package message

import (
	"encoding/hex"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The four vectors of message.md §4 (14/WAKU2-MESSAGE).
func TestComputeHashVectors(t *testing.T) {
	const (
		pubsub  = "/waku/2/default-waku/proto"
		content = "/waku/2/default-content/proto"
		ts      = int64(0x175789bfa23f8400)
	)
	meta64 := make([]byte, 64)
	for i := range meta64 {
		meta64[i] = byte(i)
	}
	payload := mustHex(t, "010203045445535405060708")
	secret := mustHex(t, "73757065722d736563726574")
	cases := []struct {
		name    string
		payload []byte
		meta    []byte
		want    string
	}{
		{"meta super-secret", payload, secret, "64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05"},
		{"meta 64 bytes", payload, meta64, "7158b6498753313368b9af8f6e0a0a05104f68f972981da42a43bc53fb0c1b27"},
		{"meta absent", payload, nil, "a2554498b31f5bcdfcbf7fa58ad1c2d45f0254f3f8110a85588ec3cf10720fd8"},
		{"payload empty", nil, secret, "483ea950cb63f9b9d6926b262bb36194d3f40a0463ce8446228350bd44e96de4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := &pb.WakuMessage{Payload: c.payload, ContentTopic: content, Timestamp: proto.Int64(ts), Meta: c.meta}
			got := ComputeHash(pubsub, m)
			if hex.EncodeToString(got[:]) != c.want {
				t.Fatalf("hash = %x, want %s", got, c.want)
			}
			if got.String() != "0x"+c.want {
				t.Fatalf("String() = %s", got)
			}
			// Fields outside the hash must not change it.
			m.Version = proto.Uint32(1)
			m.Ephemeral = proto.Bool(true)
			m.RateLimitProof = []byte{1, 2, 3}
			if ComputeHash(pubsub, m) != got {
				t.Fatal("version/ephemeral/rate_limit_proof changed the hash")
			}
			// The pubsub topic is part of the hash.
			if ComputeHash("/waku/2/rs/1/0", m) == got {
				t.Fatal("pubsub topic not hashed")
			}
		})
	}
}

func TestHashAbsentTimestampIsZero(t *testing.T) {
	a := ComputeHash("t", &pb.WakuMessage{Payload: []byte{1}, ContentTopic: "/a/1/b/c"})
	b := ComputeHash("t", &pb.WakuMessage{Payload: []byte{1}, ContentTopic: "/a/1/b/c", Timestamp: proto.Int64(0)})
	if a != b {
		t.Fatal("absent and zero timestamp hash differently")
	}
	c := ComputeHash("t", &pb.WakuMessage{Payload: []byte{1}, ContentTopic: "/a/1/b/c", Timestamp: proto.Int64(1)})
	if a == c {
		t.Fatal("timestamp not hashed")
	}
}

func TestParseHash(t *testing.T) {
	const h = "64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05"
	for _, in := range []string{h, "0x" + h, strings.ToUpper(h)} {
		got, err := ParseHash(in)
		if err != nil {
			t.Fatalf("ParseHash(%q): %v", in, err)
		}
		if got.String() != "0x"+h {
			t.Fatalf("ParseHash(%q) = %s", in, got)
		}
	}
	for _, in := range []string{"", "0x", h[:62], h + "00", "zz" + h[2:]} {
		if _, err := ParseHash(in); err == nil {
			t.Fatalf("ParseHash(%q): want error", in)
		}
	}
	if _, err := HashFromBytes(make([]byte, 31)); err == nil {
		t.Fatal("HashFromBytes(31 bytes): want error")
	}
	got, err := HashFromBytes(mustHex(t, h))
	if err != nil || hex.EncodeToString(got[:]) != h {
		t.Fatalf("HashFromBytes = %x, %v", got, err)
	}
}
