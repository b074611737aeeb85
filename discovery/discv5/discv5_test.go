package discv5

import (
	"net"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/enr"
)

type collector struct {
	mu    sync.Mutex
	found map[peer.ID]enr.Info
}

func (c *collector) sink(n *enode.Node, info enr.Info) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.found[info.PeerID] = info
}

func (c *collector) has(p peer.ID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.found[p]
	return ok
}

type testNode struct {
	d    *Discovery
	ln   *enr.LocalNode
	id   peer.ID
	seen *collector
}

// startNode runs discv5 on 127.0.0.1 with a Waku record of the given caps and cluster/shards.
func startNode(t *testing.T, caps enr.Capabilities, shards *enr.RelayShards, boot []*enode.Node) *testNode {
	t.Helper()
	key, _ := ethcrypto.GenerateKey()
	ln, err := enr.Build(enr.BuildConfig{PrivateKey: key, IP: net.IPv4(127, 0, 0, 1), TCPPort: 60000, Caps: caps, Shards: shards, Discv5: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{found: map[peer.ID]enr.Info{}}
	cluster := uint16(16)
	if shards != nil {
		cluster = shards.Cluster
	}
	d, err := Start(Config{PrivateKey: key, LocalNode: ln.Enode(), ListenIP: net.IPv4(127, 0, 0, 1),
		Bootnodes: boot, Cluster: cluster, Sink: c.sink})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); ln.Close() })
	id, _ := enr.PeerID(&key.PublicKey)
	return &testNode{d: d, ln: ln, id: id, seen: c}
}

func TestAccept(t *testing.T) {
	key, _ := ethcrypto.GenerateKey()
	mk := func(caps enr.Capabilities, shards *enr.RelayShards) *enode.Node {
		ln, err := enr.Build(enr.BuildConfig{PrivateKey: key, IP: net.IPv4(10, 0, 0, 1), TCPPort: 1, Caps: caps, Shards: shards})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Node()
	}
	cases := []struct {
		name   string
		n      *enode.Node
		shards []uint16
		want   bool
	}{
		{"no waku2", mk(0, nil), nil, false},
		{"relay, no shards", mk(enr.Relay, nil), nil, true},
		{"our cluster", mk(enr.Relay, &enr.RelayShards{Cluster: 16, Shards: []uint16{1}}), nil, true},
		{"other cluster", mk(enr.Relay, &enr.RelayShards{Cluster: 1, Shards: []uint16{1}}), nil, false},
		{"our shard", mk(enr.Store, &enr.RelayShards{Cluster: 16, Shards: []uint16{1, 2}}), []uint16{2}, true},
		{"other shard", mk(enr.Store, &enr.RelayShards{Cluster: 16, Shards: []uint16{1}}), []uint16{2}, false},
	}
	for _, tc := range cases {
		if _, got := Accept(tc.n, 16, tc.shards); got != tc.want {
			t.Errorf("%s: Accept = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRandomWalkFindsWakuNodesOfOurCluster(t *testing.T) {
	skipUnderRace(t)
	ours := &enr.RelayShards{Cluster: 16, Shards: []uint16{3}}
	boot := startNode(t, enr.Relay, ours, nil)
	bn := []*enode.Node{boot.d.Self()}
	var nodes []*testNode
	for i := 0; i < 5; i++ {
		nodes = append(nodes, startNode(t, enr.Relay, ours, bn))
	}
	plain := startNode(t, 0, nil, bn) // a non-Waku discv5 node
	foreign := startNode(t, enr.Relay, &enr.RelayShards{Cluster: 2, Shards: []uint16{0}}, bn)

	deadline := time.Now().Add(60 * time.Second)
	for _, n := range nodes {
		for _, m := range append(nodes, boot) {
			if m == n {
				continue
			}
			for !n.seen.has(m.id) {
				if time.Now().After(deadline) {
					t.Fatalf("%s never found %s", n.id, m.id)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	for _, n := range nodes {
		if n.seen.has(plain.id) || n.seen.has(foreign.id) {
			t.Fatalf("%s accepted a non-Waku or foreign-cluster node", n.id)
		}
	}
	// The foreign node is in the DHT all the same (it is discovered, just not kept).
	inTable := false
	for _, n := range append(nodes, boot) {
		for _, e := range n.d.Table() {
			if e.ID() == foreign.d.Self().ID() {
				inTable = true
			}
		}
	}
	if !inTable {
		t.Fatal("foreign-cluster node not in any DHT table")
	}
	for _, n := range append(nodes, boot) {
		if foreign.seen.has(n.id) {
			t.Fatal("foreign-cluster node accepted a node of cluster 16")
		}
	}
}

// skipUnderRace skips multi-node discv5 tests under the race detector: go-ethereum v1.17.2's
// table races with itself (p2p/discover table_reval.go:81 reads revalidationList.nextTime on
// the table loop while the refresh goroutine's loadSeedNodes writes it, :221). The race is
// upstream, in code we cannot change; our own code is race-tested by the other tests.
func skipUnderRace(t *testing.T) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				t.Skip("go-ethereum v1.17.2 p2p/discover has a data race in its table (see skipUnderRace)")
			}
		}
	}
}
