package sds

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf16"
)

// js-waku's DEFAULT_BLOOM_FILTER_OPTIONS (capacity 10 000, error rate 0.001) give these.
const (
	BloomBits   = 150_000
	BloomHashes = 10
	bloomWords  = 1 + BloomBits/64
	// BloomSize is the serialized filter: 2 344 big-endian uint64 words.
	BloomSize = bloomWords * 8
)

// Bloom is the SDS bloom filter with js-waku's exact bit layout: bit i is bit i%64 of word
// i/64, words serialized big-endian; indices come from Nim's JS hashN (murmur3 double hashing).
type Bloom struct {
	words [bloomWords]uint64
}

// nimHash is Nim's JS hash(string): MurmurHash3_x86_32 with seed 0 over the UTF-16 code
// units taken as bytes (the UTF-8 bytes for ASCII ids), read as a signed int32.
func nimHash(s string) int32 {
	b := make([]byte, 0, len(s))
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u))
	}
	return int32(murmur3(b, 0))
}

// murmur3 is MurmurHash3_x86_32. Written here because github.com/spaolacci/murmur3 (already
// in the module graph) does unsafe pointer arithmetic that Go's -race checkptr rejects.
func murmur3(data []byte, seed uint32) uint32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	h := seed
	n := len(data) / 4 * 4
	for i := 0; i < n; i += 4 {
		k := binary.LittleEndian.Uint32(data[i:])
		k = bits.RotateLeft32(k*c1, 15) * c2
		h ^= k
		h = bits.RotateLeft32(h, 13)*5 + 0xe6546b64
	}
	var k uint32
	switch tail := data[n:]; len(tail) {
	case 3:
		k ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		k ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		k ^= uint32(tail[0])
		h ^= bits.RotateLeft32(k*c1, 15) * c2
	}
	h ^= uint32(len(data))
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

func abs64(v int32) int64 {
	x := int64(v)
	if x < 0 {
		return -x
	}
	return x
}

// bloomIndices returns the k bit indices of item: (a + i·b) mod m with a = |H(s)| mod m and
// b = |H(s ‖ " b")| mod m.
func bloomIndices(item string) [BloomHashes]int {
	a := abs64(nimHash(item)) % BloomBits
	b := abs64(nimHash(item+" b")) % BloomBits
	var out [BloomHashes]int
	for i := range out {
		out[i] = int((a + int64(i)*b) % BloomBits)
	}
	return out
}

// Add inserts an SDS message id.
func (f *Bloom) Add(id string) {
	for _, i := range bloomIndices(id) {
		f.words[i/64] |= 1 << (i % 64)
	}
}

// Test reports whether id may have been added (every one of its bits is set).
func (f *Bloom) Test(id string) bool {
	for _, i := range bloomIndices(id) {
		if f.words[i/64]&(1<<(i%64)) == 0 {
			return false
		}
	}
	return true
}

// Bytes serializes the filter (always BloomSize bytes, as js expects).
func (f *Bloom) Bytes() []byte {
	out := make([]byte, BloomSize)
	for i, w := range f.words {
		binary.BigEndian.PutUint64(out[i*8:], w)
	}
	return out
}

var errBloomShort = errors.New("sds: bloom filter shorter than 18752 bytes")

// BloomFromBytes reads a serialized filter; extra bytes are ignored, as in js. A shorter one is
// an error (js throws and loses the whole message).
func BloomFromBytes(b []byte) (*Bloom, error) {
	if len(b) < BloomSize {
		return nil, fmt.Errorf("%w (%d)", errBloomShort, len(b))
	}
	f := &Bloom{}
	for i := range f.words {
		f.words[i] = binary.BigEndian.Uint64(b[i*8:])
	}
	return f, nil
}
