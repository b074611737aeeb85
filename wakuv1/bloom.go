package wakuv1

// BloomFilterSize is the length of a Waku v1 bloom filter (512 bits).
const BloomFilterSize = 64

// Bloom is a node's or an envelope's topic bloom filter.
type Bloom [BloomFilterSize]byte

// FullBloom accepts every topic (a full node's filter).
func FullBloom() Bloom {
	var b Bloom
	for i := range b {
		b[i] = 0xff
	}
	return b
}

// TopicToBloom sets up to three bits, one per byte 0-2 of the topic, the ninth bit of each
// index taken from bits 0-2 of byte 3. Like status-go and geth it assigns the byte rather than
// OR-ing it, so when two indices share a byte only the later bit survives: bit-exact with them.
func TopicToBloom(t Topic) Bloom {
	var b Bloom
	for j := 0; j < 3; j++ {
		idx := int(t[j])
		if t[3]&(1<<uint(j)) != 0 {
			idx += 256
		}
		b[idx/8] = 1 << uint(idx%8)
	}
	return b
}

// BloomOf is the OR of the topics' blooms.
func BloomOf(topics ...Topic) Bloom {
	var b Bloom
	for _, t := range topics {
		tb := TopicToBloom(t)
		for i := range b {
			b[i] |= tb[i]
		}
	}
	return b
}

// Contains tells whether every bit of o is set in b.
func (b *Bloom) Contains(o *Bloom) bool {
	for i := range b {
		if b[i]&o[i] != o[i] {
			return false
		}
	}
	return true
}
