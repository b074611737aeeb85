package node

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/enr"
)

func TestENRAdvertisesServicesAndShards(t *testing.T) {
	cfg := testConfig(t)
	cfg.WebSocket = true
	cfg.Store.Enabled, cfg.Filter.Enabled, cfg.Lightpush = true, true, true
	n := startNode(t, cfg)
	rec, err := enr.Parse(n.ENR())
	if err != nil {
		t.Fatal(err)
	}
	info, err := enr.Decode(rec)
	if err != nil {
		t.Fatal(err)
	}
	if info.PeerID != n.ID() {
		t.Fatalf("ENR peer id %s, node %s", info.PeerID, n.ID())
	}
	if want := enr.Relay | enr.Store | enr.Filter | enr.Lightpush; info.Caps != want {
		t.Fatalf("caps %v, want %v", info.Caps, want)
	}
	if info.Shards == nil || info.Shards.Cluster != 16 || len(info.Shards.Shards) != 1 || info.Shards.Shards[0] != 3 {
		t.Fatalf("shards %+v", info.Shards)
	}
	var ws bool
	for _, a := range info.Addrs {
		ws = ws || strings.Contains(a.String(), "/ws")
	}
	if !ws {
		t.Fatalf("no websocket address in ENR addrs %v", info.Addrs)
	}
	// Subscribing to another shard updates the record (with a higher seq).
	seq := rec.Seq()
	if err := n.Relay().Subscribe("/waku/2/rs/16/7"); err != nil {
		t.Fatal(err)
	}
	rec2, err := enr.Parse(n.ENR())
	if err != nil {
		t.Fatal(err)
	}
	info2, _ := enr.Decode(rec2)
	if rec2.Seq() <= seq || info2.Shards == nil || len(info2.Shards.Shards) != 2 {
		t.Fatalf("after subscribe: seq %d (was %d), shards %+v", rec2.Seq(), seq, info2.Shards)
	}
}

// ownGoroutines lists goroutines running code of this module (other than tests).
func ownGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "wakunode/wakunode/") && !strings.Contains(g, "_test.go") {
			out = append(out, g)
		}
	}
	return out
}

func TestStopLeavesNothingRunning(t *testing.T) {
	cfg := testConfig(t)
	cfg.WebSocket = true
	cfg.Store.Enabled, cfg.Filter.Enabled, cfg.Lightpush = true, true, true
	cfg.Accounting.Enabled, cfg.Accounting.Mode = true, accounting.Mock // ledger, policy, swap, persister
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := startNode(t, testConfig(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Connect(ctx, addrWith(t, a, "/tcp/", "/ws")); err != nil {
		t.Fatal(err)
	}
	waitTopicPeers(t, a, 1)
	if _, err := a.Publish(ctx, testTopic, testMessage("before stop")); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := ownGoroutines()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of ours still running after Stop:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := a.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestNATExtIPAnnounced(t *testing.T) {
	cfg := testConfig(t)
	cfg.NAT = "extip:203.0.113.7" // TEST-NET-3: only announced, never contacted
	n := startNode(t, cfg)
	var found bool
	for _, a := range n.ListenAddrs() {
		found = found || strings.HasPrefix(a.String(), "/ip4/203.0.113.7/tcp/")
	}
	if !found {
		t.Fatalf("extip not among announced addresses %v", n.ListenAddrs())
	}
	rec, err := enr.Parse(n.ENR())
	if err != nil {
		t.Fatal(err)
	}
	if ip := rec.IP(); ip == nil || ip.String() != "203.0.113.7" {
		t.Fatalf("ENR ip %v, want the external address", ip)
	}
	for _, bad := range []string{"extip:nope", "stun"} {
		c := testConfig(t)
		c.NAT = bad
		if _, err := New(c); err == nil {
			t.Errorf("--nat=%s accepted", bad)
		}
	}
}

// A node with peer persistence finds its peers again after a restart without being told.
func TestPeerPersistence(t *testing.T) {
	b := startNode(t, testConfig(t))
	ca := testConfig(t)
	ca.PeerPersistence = true
	a := startNode(t, ca)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, addrWith(t, b, "/tcp/")); err != nil {
		t.Fatal(err)
	}
	waitTopicPeers(t, a, 1)
	// The peer manager records b once its metadata check is done.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, ok := a.peers.Shards(b.ID()); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("peer manager never recorded the connected peer")
		}
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	a = startNode(t, ca) // same data dir, no static node
	deadline := time.Now().Add(15 * time.Second)
	for a.Host().Network().Connectedness(b.ID()) != network.Connected {
		if time.Now().After(deadline) {
			t.Fatal("restarted node did not reconnect to its persisted peer")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
