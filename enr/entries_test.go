package enr

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/p2p/enode"
	gethenr "github.com/ethereum/go-ethereum/p2p/enr"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/multiformats/go-multiaddr"
)

// enr.md: cluster 16, shards 13, 14, 45.
func TestRSVectors(t *testing.T) {
	rs := RelayShards{Cluster: 16, Shards: []uint16{13, 14, 45}}
	b, err := EncodeRS(rs)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(b); got != "001003000d000e002d" {
		t.Fatalf("rs = %s", got)
	}
	v, err := EncodeRSV(rs)
	if err != nil {
		t.Fatal(err)
	}
	want := "0010" + "006000000020" + strings.Repeat("00", 122)
	if got := hex.EncodeToString(v); got != want {
		t.Fatalf("rsv = %s", got)
	}
	for name, dec := range map[string]func([]byte) (RelayShards, error){"rs": DecodeRS, "rsv": DecodeRSV} {
		in := b
		if name == "rsv" {
			in = v
		}
		got, err := dec(in)
		if err != nil || got.Cluster != 16 || !slices.Equal(got.Shards, rs.Shards) {
			t.Fatalf("%s decode = %+v, %v", name, got, err)
		}
	}
}

func TestRSVLayoutEdges(t *testing.T) {
	v, err := EncodeRSV(RelayShards{Cluster: 1, Shards: []uint16{0, 8, 1023}})
	if err != nil {
		t.Fatal(err)
	}
	if v[2] != 0x01 || v[3] != 0x01 || v[129] != 0x80 || len(v) != 130 {
		t.Fatalf("rsv layout %x", v)
	}
	all := bytes.Repeat([]byte{0xff}, 130)
	rs, err := DecodeRSV(all)
	if err != nil || rs.Cluster != 0xffff || len(rs.Shards) != 1024 || rs.Shards[1023] != 1023 {
		t.Fatalf("all-ones: %d shards, %v", len(rs.Shards), err)
	}
}

func TestShardCodecErrors(t *testing.T) {
	badRS := []string{"", "00", "0001", "000101", "00010100", "0001010000ff", "00010000", "0001010400"}
	for _, h := range badRS {
		b, _ := hex.DecodeString(h)
		if _, err := DecodeRS(b); err == nil {
			t.Errorf("DecodeRS(%s): want error", h)
		}
	}
	if _, err := DecodeRS([]byte{0, 1, 0}); err != nil {
		t.Errorf("empty rs list: %v", err)
	}
	for _, n := range []int{0, 2, 129, 131} {
		if _, err := DecodeRSV(make([]byte, n)); err == nil {
			t.Errorf("DecodeRSV(%d bytes): want error", n)
		}
	}
	if _, err := EncodeRS(RelayShards{Shards: []uint16{1024}}); err == nil {
		t.Error("EncodeRS(1024): want error")
	}
	if _, err := EncodeRSV(RelayShards{Shards: []uint16{1024}}); err == nil {
		t.Error("EncodeRSV(1024): want error")
	}
	if _, err := EncodeRS(RelayShards{Shards: make([]uint16, 256)}); err == nil {
		t.Error("EncodeRS(256 shards): want error")
	}
}

func TestShardsEntryChoice(t *testing.T) {
	for n, want := range map[int]string{0: "rs", 1: "rs", 63: "rs", 64: "rsv", 1024: "rsv"} {
		s := make([]uint16, n)
		for i := range s {
			s[i] = uint16(i)
		}
		if got := (RelayShards{Shards: s}).Entry().ENRKey(); got != want {
			t.Errorf("%d shards: %s, want %s", n, got, want)
		}
	}
}

// When a record carries both, rs is read and rsv ignored.
func TestReadShardsBoth(t *testing.T) {
	var r gethenr.Record
	r.Set(&RSV{Cluster: 2, Shards: []uint16{9}})
	r.Set(&RS{Cluster: 1, Shards: []uint16{4}})
	rs, err := ReadShards(&r)
	if err != nil || rs == nil || rs.Cluster != 1 || !slices.Equal(rs.Shards, []uint16{4}) {
		t.Fatalf("ReadShards = %+v, %v", rs, err)
	}
	var only gethenr.Record
	only.Set(&RSV{Cluster: 2, Shards: []uint16{9}})
	if rs, err := ReadShards(&only); err != nil || rs.Cluster != 2 {
		t.Fatalf("rsv only: %+v, %v", rs, err)
	}
	var bad gethenr.Record
	bad.Set(gethenr.WithEntry("rs", []byte{0, 1, 5}))
	if _, err := ReadShards(&bad); err == nil {
		t.Fatal("malformed rs: want error")
	}
}

func TestCapabilities(t *testing.T) {
	if Relay != 1 || Store != 2 || Filter != 4 || Lightpush != 8 || Sync != 16 {
		t.Fatal("capability bits")
	}
	for c, want := range map[Capabilities]string{0: "none", 0x0f: "relay|store|filter|lightpush", Sync: "sync", 0x81: "relay|0x80"} {
		if c.String() != want {
			t.Errorf("%#x: %q, want %q", uint8(c), c.String(), want)
		}
	}
	if !Capabilities(0x0f).Has(Store|Filter) || Capabilities(0x0f).Has(Sync) {
		t.Error("Has")
	}
	// Always a one-byte RLP string, including 0 (an RLP integer 0 would be 0x80).
	for c, want := range map[Capabilities]string{0: "00", 0x0f: "0f", 0x80: "8180"} {
		b, err := rlp.EncodeToBytes(c)
		if err != nil || hex.EncodeToString(b) != want {
			t.Errorf("rlp(%#x) = %x, want %s", uint8(c), b, want)
		}
		var back Capabilities
		if err := rlp.DecodeBytes(b, &back); err != nil || back != c {
			t.Errorf("decode %x = %v, %v", b, back, err)
		}
	}
	var c Capabilities
	if err := rlp.DecodeBytes([]byte{0x82, 1, 2}, &c); err == nil {
		t.Error("two-byte waku2: want error")
	}
}

func TestMultiaddrsCodec(t *testing.T) {
	a := multiaddr.StringCast("/dns4/node-01.do-ams3.waku.sandbox.status.im/tcp/30303")
	b := multiaddr.StringCast("/dns4/node-01.do-ams3.waku.sandbox.status.im/tcp/8000/wss")
	enc, err := EncodeMultiaddrs([]multiaddr.Multiaddr{a, b})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := enode.Parse(enode.ValidSchemes, twnENR)
	if want := rawEntry(t, n.Record(), "multiaddrs"); !bytes.Equal(enc, want) {
		t.Fatalf("encoded %x, want %x", enc, want)
	}
	// An entry that frames correctly but does not parse is skipped.
	junk := append([]byte{0x00, 0x02, 0xff, 0xff}, enc...)
	got, err := DecodeMultiaddrs(junk)
	if err != nil || len(got) != 2 || !got[0].Equal(a) || !got[1].Equal(b) {
		t.Fatalf("decoded %v, %v", got, err)
	}
	for _, bad := range [][]byte{{0x00}, {0x00, 0x00}, {0x00, 0x05, 0x04}, append(slices.Clone(enc), 0x00)} {
		if _, err := DecodeMultiaddrs(bad); err == nil {
			t.Errorf("DecodeMultiaddrs(%x): want error", bad)
		}
	}
}
