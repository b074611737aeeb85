package enr

import (
	"bytes"
	"testing"

	"github.com/multiformats/go-multiaddr"
)

func FuzzDecodeRS(f *testing.F) {
	f.Add([]byte{0x00, 0x10, 0x03, 0x00, 0x0d, 0x00, 0x0e, 0x00, 0x2d})
	f.Add([]byte{0x00, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := DecodeRS(b)
		if err != nil {
			return
		}
		back, err := EncodeRS(rs)
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("re-encode %x -> %x, %v", b, back, err)
		}
	})
}

func FuzzDecodeRSV(f *testing.F) {
	v, _ := EncodeRSV(RelayShards{Cluster: 16, Shards: []uint16{13, 14, 45}})
	f.Add(v)
	f.Add(make([]byte, 130))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := DecodeRSV(b)
		if err != nil {
			return
		}
		back, err := EncodeRSV(rs)
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("re-encode %x -> %x, %v", b, back, err)
		}
	})
}

func FuzzDecodeMultiaddrs(f *testing.F) {
	enc, _ := EncodeMultiaddrs([]multiaddr.Multiaddr{multiaddr.StringCast("/dns4/a.io/tcp/443/wss")})
	f.Add(enc)
	f.Add([]byte{0, 2, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		addrs, err := DecodeMultiaddrs(b)
		if err != nil {
			return
		}
		back, err := EncodeMultiaddrs(addrs)
		if err != nil {
			t.Fatalf("re-encode %v: %v", addrs, err)
		}
		again, err := DecodeMultiaddrs(back)
		if err != nil || len(again) != len(addrs) {
			t.Fatalf("second decode %v, %v", again, err)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(twnENR)
	f.Add("enr:")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		_, _ = Decode(n)
	})
}
