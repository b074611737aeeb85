package enr

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"
	gethenr "github.com/ethereum/go-ethereum/p2p/enr"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/multiformats/go-multiaddr"
)

// The TWN bootstrap record of enr.md.
const twnENR = "enr:-QESuED0qW1BCmF-oH_ARGPr97Nv767bl_43uoy70vrbah3EaCAdK3Q0iRQ6wkSTTpdrg_dU_NC2ydO8leSlRpBX4pxiAYJpZIJ2NIJpcIRA4VDAim11bHRpYWRkcnO4XAArNiZub2RlLTAxLmRvLWFtczMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwAtNiZub2RlLTAxLmRvLWFtczMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQOTd-h5owwj-cx7xrmbvQKU8CV3Fomfdvcv1MBc-67T5oN0Y3CCdl-DdWRwgiMohXdha3UyDw"

const twnPeer = "16Uiu2HAmNaeL4p3WEYzC9mgXBmBWSgWjPHRvatZTXnp8Jgv3iKsb"

func rawEntry(t *testing.T, r *gethenr.Record, key string) []byte {
	t.Helper()
	var b []byte
	if err := r.Load(gethenr.WithEntry(key, &b)); err != nil {
		t.Fatalf("load %s: %v", key, err)
	}
	return b
}

func TestDecodeTWNRecord(t *testing.T) {
	n, err := Parse(twnENR)
	if err != nil {
		t.Fatal(err)
	}
	r := n.Record()
	raw, err := rlp.EncodeToBytes(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 277 || n.Seq() != 1 {
		t.Fatalf("size %d seq %d, want 277 and 1", len(raw), n.Seq())
	}
	if got := n.String(); got != twnENR {
		t.Fatalf("re-encoded text differs:\n%s", got)
	}

	hexFields := map[string]string{
		"id":         "7634",
		"ip":         "40e150c0",
		"rs":         "000108000000010002000300040005000600" + "07",
		"secp256k1":  "039377e879a30c23f9cc7bc6b99bbd0294f0257716899f76f72fd4c05cfbaed3e6",
		"tcp":        "765f",
		"udp":        "2328",
		"waku2":      "0f",
		"multiaddrs": "002b3626" + hex.EncodeToString([]byte("node-01.do-ams3.waku.sandbox.status.im")) + "06765f" + "002d3626" + hex.EncodeToString([]byte("node-01.do-ams3.waku.sandbox.status.im")) + "061f40de03",
	}
	for k, want := range hexFields {
		if got := hex.EncodeToString(rawEntry(t, r, k)); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	if n.IP().String() != "64.225.80.192" || n.TCP() != 30303 || n.UDP() != 9000 {
		t.Fatalf("endpoint %s tcp %d udp %d", n.IP(), n.TCP(), n.UDP())
	}

	info, err := Decode(n)
	if err != nil {
		t.Fatal(err)
	}
	if info.PeerID.String() != twnPeer {
		t.Fatalf("peer id %s, want %s", info.PeerID, twnPeer)
	}
	if info.Caps != Relay|Store|Filter|Lightpush || info.Caps.String() != "relay|store|filter|lightpush" {
		t.Fatalf("caps %v", info.Caps)
	}
	if info.Shards == nil || info.Shards.Cluster != 1 || !equalShards(info.Shards.Shards, []uint16{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("shards %+v", info.Shards)
	}
	wantAddrs := []string{
		"/ip4/64.225.80.192/tcp/30303/p2p/" + twnPeer,
		"/dns4/node-01.do-ams3.waku.sandbox.status.im/tcp/30303/p2p/" + twnPeer,
		"/dns4/node-01.do-ams3.waku.sandbox.status.im/tcp/8000/wss/p2p/" + twnPeer,
	}
	if len(info.Addrs) != len(wantAddrs) {
		t.Fatalf("addrs %v", info.Addrs)
	}
	for i, a := range info.Addrs {
		if a.String() != wantAddrs[i] {
			t.Errorf("addr %d = %s, want %s", i, a, wantAddrs[i])
		}
	}

	// The peer ID also follows from the secp256k1 entry by the documented byte recipe.
	pub, err := crypto.DecompressPubkey(rawEntry(t, r, "secp256k1"))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := PeerID(pub); id != info.PeerID {
		t.Fatalf("PeerID(pub) = %s", id)
	}
	if b := []byte(info.PeerID); !bytes.HasPrefix(b, []byte{0x00, 0x25, 0x08, 0x02, 0x12, 0x21}) {
		t.Fatalf("peer id bytes %x", b)
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "enr:", "enr:-QESuED0", twnENR[:len(twnENR)-4], "enode://abc"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q): want error", s)
		}
	}
	// Flip one byte of the signed content: the signature no longer verifies.
	n, _ := Parse(twnENR)
	raw, _ := rlp.EncodeToBytes(n.Record())
	raw[len(raw)-1] ^= 0x01
	var r gethenr.Record
	if err := rlp.DecodeBytes(raw, &r); err != nil {
		t.Fatal(err)
	}
	if err := r.VerifySignature(enode.ValidSchemes); err == nil {
		t.Fatal("tampered record verifies")
	}
}

func equalShards(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeCircuitAddress(t *testing.T) {
	ln, key := newLocal(t, BuildConfig{})
	relayID := peerIDOf(t, mustKey(t))
	circ := multiaddr.StringCast("/ip4/127.0.0.1/tcp/4001/p2p/" + relayID.String() + "/p2p-circuit/p2p/" + peerIDOf(t, key).String())
	if err := ln.SetMultiaddrs([]multiaddr.Multiaddr{circ}); err != nil {
		t.Fatal(err)
	}
	stored := rawEntry(t, ln.Node().Record(), "multiaddrs")
	mas, err := DecodeMultiaddrs(stored)
	if err != nil || len(mas) != 1 || mas[0].String() != "/ip4/127.0.0.1/tcp/4001/p2p/"+relayID.String() {
		t.Fatalf("stored %v, %v", mas, err)
	}
	info, err := Decode(ln.Node())
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Addrs) != 1 || !info.Addrs[0].Equal(circ) {
		t.Fatalf("decoded %v, want %s", info.Addrs, circ)
	}
}
