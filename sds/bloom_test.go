package sds

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func hexSHA(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// sds.md §4.5 vectors.
func TestBloomHashVectors(t *testing.T) {
	id := hexSHA("hello")
	for s, want := range map[string]int32{"a": 1009084850, "abc": -1277324294, "hello": 613153351, id: -2016565740, id + " b": -765636215} {
		if got := nimHash(s); got != want {
			t.Errorf("H(%q) = %d, want %d", s, got, want)
		}
	}
	for s, want := range map[string]uint32{"a": 0x3c2569b2, "abc": 0xb3dd93fa, "hello": 0x248bfa47, "": 0} {
		if got := murmur3([]byte(s), 0); got != want {
			t.Errorf("murmur3(%q) = %08x, want %08x", s, got, want)
		}
	}
	want := [BloomHashes]int{115740, 1955, 38170, 74385, 110600, 146815, 33030, 69245, 105460, 141675}
	if got := bloomIndices(id); got != want {
		t.Fatalf("indices %v", got)
	}
	for s, w := range map[string][3]int{"hello": {103351, 14225, 75099}, "a": {34850, 143375, 101900}, "": {0, 36008, 72016}} {
		got := bloomIndices(s)
		if [3]int(got[:3]) != w {
			t.Errorf("hashN(%q) = %v, want %v", s, got[:3], w)
		}
	}
}

func TestBloomBytesVector(t *testing.T) {
	var f Bloom
	f.Add(hexSHA("hello"))
	b := f.Bytes()
	if len(b) != 18752 {
		t.Fatalf("size %d", len(b))
	}
	want := map[int]byte{243: 0x08, 4135: 0x40, 4772: 0x04, 8648: 0x20, 9301: 0x02, 13177: 0x10, 13830: 0x01, 14468: 0x10, 17706: 0x08, 18344: 0x80}
	for i, v := range b {
		if v != want[i] {
			t.Fatalf("byte %d = %#x, want %#x", i, v, want[i])
		}
	}
	g, err := BloomFromBytes(append(b, 1, 2, 3))
	if err != nil || !g.Test(hexSHA("hello")) || g.Test(hexSHA("world")) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := BloomFromBytes(b[:100]); err == nil {
		t.Fatal("short filter accepted")
	}
}
