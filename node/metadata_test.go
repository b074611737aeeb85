package node

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/metadata"
)

// waitConnectedness waits until n sees want towards p (held for hold), or fails after 10 s.
func waitConnectedness(t *testing.T, n *Node, p peer.ID, want network.Connectedness, hold time.Duration) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if n.Host().Network().Connectedness(p) == want {
			if hold == 0 {
				return
			}
			// The state must also hold (a rejected peer is dropped shortly after identify).
			time.Sleep(hold)
			if n.Host().Network().Connectedness(p) == want {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("connectedness to %s = %v, want %v", p, n.Host().Network().Connectedness(p), want)
}

func TestClusterMismatchDisconnects(t *testing.T) {
	ca, cb := testConfig(t), testConfig(t)
	cb.ClusterID = 17
	cb.Shards = []uint16{3}
	a, b := startNode(t, ca), startNode(t, cb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = b.Connect(ctx, addrWith(t, a, "/tcp/"))
	waitConnectedness(t, a, b.ID(), network.NotConnected, 0)
	waitConnectedness(t, b, a.ID(), network.NotConnected, 0)

	// Same cluster stays connected, and each side learns the other's shards.
	c := startNode(t, testConfig(t))
	if err := c.Connect(ctx, addrWith(t, a, "/tcp/")); err != nil {
		t.Fatal(err)
	}
	waitConnectedness(t, a, c.ID(), network.Connected, time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []uint16
		for _, p := range a.Peers() {
			if p.ID == c.ID().String() {
				got = p.Shards
			}
		}
		if len(got) == 1 && got[0] == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("peer shards = %v, want [3]", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A light client (no relay) that reports its cluster but no shards stays connected; a relay
// peer without shards does not.
func TestLightClientWithoutShardsKept(t *testing.T) {
	a := startNode(t, testConfig(t))
	light, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	defer light.Close()
	svc := metadata.NewService(light, metadata.Config{Cluster: 16})
	defer svc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := light.Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	waitConnectedness(t, a, light.ID(), network.Connected, time.Second)

	// A light client of another cluster is dropped.
	other, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	svc2 := metadata.NewService(other, metadata.Config{Cluster: 99})
	defer svc2.Close()
	_ = other.Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Host().Addrs()})
	waitConnectedness(t, a, other.ID(), network.NotConnected, 0)
}
