package sharding

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/wakunode/wakunode/message"
)

// Vectors from sharding.md (nwaku test_sharding.nim, cluster 1, N = 8).
func TestAutoshardingVectors(t *testing.T) {
	twn := Autosharding{Cluster: 1, NumShards: 8}
	cases := []struct {
		topic string
		want  uint16
	}{
		{"/toychat/2/huilong/proto", 3},
		{"/0/toychat/2/huilong/proto", 3},
		{"/toychat2/2/huilong/proto", 6},
		{"/toychat/2/huilong/proto2", 3},
		{"/0/toychat/4/huilong/proto2", 7},
		{"/0/foo/1/bar/proto", 3},
		{"/myapp/1/mytopic/cbor", 0},
	}
	for _, c := range cases {
		got, err := twn.Shard(c.topic)
		if err != nil {
			t.Fatalf("Shard(%q): %v", c.topic, err)
		}
		want := message.Shard{Cluster: 1, Index: c.want}
		if got != want {
			t.Fatalf("Shard(%q) = %v, want %v", c.topic, got, want)
		}
	}
	if got, _ := (Autosharding{Cluster: 16, NumShards: 8}).Shard("/toychat/2/huilong/proto"); got.PubsubTopic() != "/waku/2/rs/16/3" {
		t.Fatalf("cluster not carried: %v", got)
	}
}

func TestSpecDigest(t *testing.T) {
	h := sha256.Sum256([]byte("myapp1"))
	if hex.EncodeToString(h[:]) != "8e541178adbd8126068c47be6a221d77d64837221893a8e4e53139fb802d4928" {
		t.Fatalf("digest %x", h)
	}
}

// For N not a power of two only the last-8-bytes rule matches the implementations; the values
// were computed with Python (int.from_bytes(sha256(app+ver)[24:], 'big') % N). Reducing the
// whole 256-bit digest instead gives different answers for these rows (e.g. myapp1 % 5 = 1).
func TestAutoshardingNonPowerOfTwo(t *testing.T) {
	cases := []struct {
		topic string
		n     uint16
		want  uint16
	}{
		{"/toychat/2/huilong/proto", 5, 1},
		{"/toychat2/2/huilong/proto", 5, 2},
		{"/myapp/1/mytopic/cbor", 5, 2},
		{"/0/toychat/4/huilong/proto2", 5, 4},
		{"/toychat/2/huilong/proto", 3, 1},
		{"/toychat/2/huilong/proto", 1000, 971},
		{"/myapp/1/mytopic/cbor", 1, 0},
	}
	for _, c := range cases {
		got, err := Autosharding{Cluster: 2, NumShards: c.n}.Shard(c.topic)
		if err != nil {
			t.Fatal(err)
		}
		if got.Index != c.want || got.Cluster != 2 {
			t.Fatalf("Shard(%q, N=%d) = %v, want index %d", c.topic, c.n, got, c.want)
		}
	}
}

func TestAutoshardingErrors(t *testing.T) {
	twn := Autosharding{Cluster: 1, NumShards: 8}
	cases := []struct {
		a     Autosharding
		topic string
		want  error
	}{
		{twn, "/1/toychat/2/huilong/proto", message.ErrGeneration},
		{twn, "/2/foo/1/bar/proto", message.ErrGeneration},
		{twn, "invalid", message.ErrContentTopicSlash},
		{twn, "/toychat/2/huilong", message.ErrContentTopicStructure},
		{Autosharding{Cluster: 1}, "/toychat/2/huilong/proto", ErrNoShards},
	}
	for _, c := range cases {
		if _, err := c.a.Shard(c.topic); !errors.Is(err, c.want) {
			t.Fatalf("Shard(%q) error = %v, want %v", c.topic, err, c.want)
		}
	}
}

// Called directly, the bare rule ignores the generation (nwaku's getGenZeroShard test: 3).
func TestGenZeroIndexIgnoresGeneration(t *testing.T) {
	ct, err := message.ParseContentTopic("/1/toychat/2/huilong/proto")
	if err != nil {
		t.Fatal(err)
	}
	if got := GenZeroIndex(ct, 8); got != 3 {
		t.Fatalf("GenZeroIndex = %d, want 3", got)
	}
}

func BenchmarkShard(b *testing.B) {
	a := Autosharding{Cluster: 1, NumShards: 8}
	for b.Loop() {
		if _, err := a.Shard("/toychat/2/huilong/proto"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAutoshardingTooManyShards(t *testing.T) {
	if _, err := (Autosharding{Cluster: 1, NumShards: 1025}).Shard("/a/1/b/c"); !errors.Is(err, ErrNoShards) {
		t.Fatalf("N=1025: %v", err)
	}
	if _, err := (Autosharding{Cluster: 1, NumShards: 1024}).Shard("/a/1/b/c"); err != nil {
		t.Fatalf("N=1024: %v", err)
	}
}
