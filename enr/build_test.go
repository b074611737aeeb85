package enr

import (
	"crypto/ecdsa"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	gethenr "github.com/ethereum/go-ethereum/p2p/enr"
	"github.com/ethereum/go-ethereum/rlp"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// peerIDOf derives the ID the way a libp2p host with this key would.
func peerIDOf(t testing.TB, k *ecdsa.PrivateKey) peer.ID {
	t.Helper()
	pk, err := p2pcrypto.UnmarshalSecp256k1PrivateKey(crypto.FromECDSA(k))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newLocal(t testing.TB, cfg BuildConfig) (*LocalNode, *ecdsa.PrivateKey) {
	t.Helper()
	if cfg.PrivateKey == nil {
		cfg.PrivateKey = mustKey(t)
	}
	ln, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ln.Close)
	return ln, cfg.PrivateKey
}

// bothModes runs f for a record signed here and for one held by go-ethereum's LocalNode
// (BuildConfig.Discv5): the two must behave alike.
func bothModes(t *testing.T, f func(t *testing.T, d5 bool)) {
	for _, d5 := range []bool{false, true} {
		t.Run(fmt.Sprintf("discv5=%v", d5), func(t *testing.T) { f(t, d5) })
	}
}

func recordSize(t testing.TB, ln *LocalNode) int {
	t.Helper()
	b, err := rlp.EncodeToBytes(ln.Node().Record())
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

func TestBuildRoundTrip(t *testing.T) {
	bothModes(t, func(t *testing.T, d5 bool) {
		key := mustKey(t)
		id := peerIDOf(t, key)
		ln, _ := newLocal(t, BuildConfig{Discv5: d5,
			PrivateKey: key,
			IP:         net.IPv4(127, 0, 0, 1),
			TCPPort:    60000,
			UDPPort:    9000,
			Multiaddrs: []multiaddr.Multiaddr{
				multiaddr.StringCast("/dns4/example.org/tcp/443/wss/p2p/" + id.String()),
				multiaddr.StringCast("/ip4/127.0.0.1/tcp/8000/ws"),
			},
			Caps:   Relay | Store | Filter | Lightpush,
			Shards: &RelayShards{Cluster: 1, Shards: []uint16{7, 0, 3, 3}},
		})
		text := ln.String()
		if !strings.HasPrefix(text, "enr:") {
			t.Fatalf("text %q", text)
		}
		n, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if n.TCP() != 60000 || n.UDP() != 9000 || !n.IP().Equal(net.IPv4(127, 0, 0, 1)) {
			t.Fatalf("endpoint %s %d %d", n.IP(), n.TCP(), n.UDP())
		}
		info, err := Decode(n)
		if err != nil {
			t.Fatal(err)
		}
		if info.PeerID != id {
			t.Fatalf("peer id %s, want %s (libp2p's)", info.PeerID, id)
		}
		if info.Caps != Relay|Store|Filter|Lightpush {
			t.Fatalf("caps %v", info.Caps)
		}
		if info.Shards == nil || info.Shards.Cluster != 1 || !slices.Equal(info.Shards.Shards, []uint16{0, 3, 7}) {
			t.Fatalf("shards %+v", info.Shards)
		}
		want := []string{
			"/ip4/127.0.0.1/tcp/60000/p2p/" + id.String(),
			"/dns4/example.org/tcp/443/wss/p2p/" + id.String(),
			"/ip4/127.0.0.1/tcp/8000/ws/p2p/" + id.String(),
		}
		var got []string
		for _, a := range info.Addrs {
			got = append(got, a.String())
		}
		if !slices.Equal(got, want) {
			t.Fatalf("addrs %v, want %v", got, want)
		}
		// /p2p/ was stripped before storing.
		if raw := rawEntry(t, n.Record(), "multiaddrs"); strings.Contains(string(raw), string([]byte(id))) {
			t.Fatal("stored multiaddr still carries /p2p/<id>")
		}
	})
}

func TestBuildMinimal(t *testing.T) {
	bothModes(t, func(t *testing.T, d5 bool) {
		ln, _ := newLocal(t, BuildConfig{Discv5: d5})
		info, err := Decode(ln.Node())
		if err != nil {
			t.Fatal(err)
		}
		if info.Caps != 0 || info.Shards != nil || len(info.Addrs) != 0 {
			t.Fatalf("unexpected info %+v", info)
		}
		for _, k := range []string{"waku2", "rs", "rsv", "multiaddrs", "ip", "tcp", "udp"} {
			var b []byte
			if err := ln.Node().Record().Load(gethenr.WithEntry(k, &b)); !gethenr.IsNotFound(err) {
				t.Errorf("key %s present", k)
			}
		}
	})
}

func TestBuildErrors(t *testing.T) {
	bothModes(t, func(t *testing.T, d5 bool) {
		if _, err := Build(BuildConfig{}); err == nil {
			t.Fatal("no key: want error")
		}
		if _, err := Build(BuildConfig{PrivateKey: mustKey(t), Shards: &RelayShards{Cluster: 1, Shards: []uint16{1024}}}); err == nil {
			t.Fatal("shard 1024: want error")
		}
		ln, _ := newLocal(t, BuildConfig{Discv5: d5})
		seq := ln.Node().Seq()
		if err := ln.SetShards(&RelayShards{Cluster: 1, Shards: []uint16{2000}}); err == nil {
			t.Fatal("SetShards(2000): want error")
		}
		if ln.Node().Seq() != seq {
			t.Fatal("failed update changed the record")
		}
	})
}

func TestBuildDropsWhatDoesNotFit(t *testing.T) {
	bothModes(t, func(t *testing.T, d5 bool) {
		long := func(i int) multiaddr.Multiaddr {
			return multiaddr.StringCast(fmt.Sprintf("/dns4/node-%02d.a-rather-long-host-name.waku.example.org/tcp/443/wss", i))
		}
		short := multiaddr.StringCast("/dns4/a.io/tcp/1/ws")
		addrs := []multiaddr.Multiaddr{long(1), long(2), long(3), long(4), short}
		ln, _ := newLocal(t, BuildConfig{Discv5: d5,
			IP: net.IPv4(127, 0, 0, 1), TCPPort: 60000, UDPPort: 9000, Caps: Relay,
			Shards: &RelayShards{Cluster: 1, Shards: []uint16{0, 1, 2, 3, 4, 5, 6, 7}}, Multiaddrs: addrs,
		})
		if n := recordSize(t, ln); n > gethenr.SizeLimit {
			t.Fatalf("record %d bytes", n)
		}
		dropped := ln.Dropped()
		if len(dropped) == 0 {
			t.Fatal("nothing dropped; test addresses too short")
		}
		info, err := Decode(ln.Node())
		if err != nil {
			t.Fatal(err)
		}
		// Every configured address is either announced or reported dropped, and the short one
		// after the dropped ones still made it in.
		if len(info.Addrs)-1+len(dropped) != len(addrs) {
			t.Fatalf("announced %d + dropped %d != %d", len(info.Addrs)-1, len(dropped), len(addrs))
		}
		last := info.Addrs[len(info.Addrs)-1]
		if !strings.HasPrefix(last.String(), short.String()+"/p2p/") {
			t.Fatalf("short address not kept: %v (dropped %v)", info.Addrs, dropped)
		}
		if !slices.ContainsFunc(dropped, func(a multiaddr.Multiaddr) bool { return a.Equal(long(4)) }) {
			t.Fatalf("dropped %v, want the last long one among them", dropped)
		}

		// rsv (130 bytes) leaves less room: more is dropped, the record still fits.
		all := make([]uint16, 100)
		for i := range all {
			all[i] = uint16(i)
		}
		if err := ln.SetShards(&RelayShards{Cluster: 1, Shards: all}); err != nil {
			t.Fatal(err)
		}
		if n := recordSize(t, ln); n > gethenr.SizeLimit {
			t.Fatalf("record %d bytes", n)
		}
		if len(ln.Dropped()) <= len(dropped) {
			t.Fatalf("dropped %d with rsv, %d with rs", len(ln.Dropped()), len(dropped))
		}
	})
}

func TestSeqAndShardUpdates(t *testing.T) {
	bothModes(t, func(t *testing.T, d5 bool) {
		ln, _ := newLocal(t, BuildConfig{Discv5: d5, Caps: Relay, Shards: &RelayShards{Cluster: 1, Shards: []uint16{0}}})
		seq0 := ln.Node().Seq()
		if seq0 == 0 {
			t.Fatal("seq 0")
		}
		if err := ln.SetShards(&RelayShards{Cluster: 1, Shards: []uint16{0}}); err != nil {
			t.Fatal(err)
		}
		if ln.Node().Seq() != seq0 {
			t.Fatal("seq changed without a change")
		}

		many := make([]uint16, RSMaxShards)
		for i := range many {
			many[i] = uint16(i * 16)
		}
		steps := []struct {
			shards  *RelayShards
			key     string // expected present
			absent  string // expected absent
			present bool
		}{
			{&RelayShards{Cluster: 1, Shards: []uint16{0, 5}}, "rs", "rsv", true},
			{&RelayShards{Cluster: 1, Shards: many}, "rsv", "rs", true},
			{&RelayShards{Cluster: 1, Shards: many[:RSMaxShards-1]}, "rs", "rsv", true},
			{nil, "", "rs", false},
		}
		prev := seq0
		for i, s := range steps {
			if err := ln.SetShards(s.shards); err != nil {
				t.Fatal(err)
			}
			n := ln.Node()
			if n.Seq() <= prev {
				t.Fatalf("step %d: seq %d not above %d", i, n.Seq(), prev)
			}
			prev = n.Seq()
			info, err := Decode(n)
			if err != nil {
				t.Fatal(err)
			}
			if !s.present {
				if info.Shards != nil {
					t.Fatalf("step %d: shards %v", i, info.Shards)
				}
				continue
			}
			if info.Shards == nil || !slices.Equal(info.Shards.Shards, s.shards.Shards) {
				t.Fatalf("step %d: shards %+v", i, info.Shards)
			}
			var b []byte
			if err := n.Record().Load(gethenr.WithEntry(s.key, &b)); err != nil {
				t.Fatalf("step %d: %s missing", i, s.key)
			}
			if err := n.Record().Load(gethenr.WithEntry(s.absent, &b)); !gethenr.IsNotFound(err) {
				t.Fatalf("step %d: %s present alongside %s", i, s.absent, s.key)
			}
		}
		if err := ln.SetCaps(Relay | Store); err != nil {
			t.Fatal(err)
		}
		if info, _ := Decode(ln.Node()); info.Caps != Relay|Store || ln.Node().Seq() <= prev {
			t.Fatalf("caps %v seq %d", info.Caps, ln.Node().Seq())
		}
	})
}

// With AutoUpdateIP the address discv5 peers report replaces the configured one once enough
// of them agree; without it the configured address stays.
func TestAutoUpdateIP(t *testing.T) {
	for _, auto := range []bool{false, true} {
		key, _ := crypto.GenerateKey()
		ln, err := Build(BuildConfig{PrivateKey: key, IP: net.IPv4(127, 0, 0, 1), UDPPort: 9000, AutoUpdateIP: auto, Discv5: true})
		if err != nil {
			t.Fatal(err)
		}
		seen := netip.MustParseAddrPort("203.0.113.9:9000") // TEST-NET-3: never contacted
		for i := range 20 {
			from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)}), 9000)
			ln.Enode().UDPEndpointStatement(from, seen)
		}
		got := ln.Node().IP()
		want := net.IPv4(127, 0, 0, 1)
		if auto {
			want = net.IP(seen.Addr().AsSlice())
		}
		if !got.Equal(want) {
			t.Errorf("auto=%v: record ip %v, want %v", auto, got, want)
		}
		ln.Close()
	}
}
