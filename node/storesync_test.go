package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wakunode/wakunode/enr"
)

// Two store nodes configured with StoreSync through New, B with --storenode A and started after
// A archived its messages: B's own sync loop brings them into B's archive, and both records
// carry the waku2 sync bit.
func TestStoreSyncWiring(t *testing.T) {
	// Messages younger than the relay jitter are outside the window: a 1 ns jitter lets the
	// just-published messages in. A never initiates (negative interval), B every 200 ms.
	ca := testConfig(t)
	ca.Store.Enabled = true
	ca.StoreSync = &StoreSyncConfig{Interval: -1, RelayJitter: time.Nanosecond}
	a := startNode(t, ca)
	for i := range 5 {
		if _, err := a.Publish(context.Background(), testTopic, testMessage(fmt.Sprintf("m%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitCount(t, a, 5)

	cb := testConfig(t)
	cb.Store.Enabled = true
	cb.StoreNode = addrWith(t, a, "/tcp/")
	cb.StoreSync = &StoreSyncConfig{Interval: 200 * time.Millisecond, RelayJitter: time.Nanosecond}
	reg := prometheus.NewRegistry()
	cb.Registerer = reg
	b := startNode(t, cb)
	if p, err := b.storeSyncPeer(); err != nil || p != a.ID() {
		t.Fatalf("sync peer %s, %v", p, err)
	}
	waitCount(t, b, 5)
	// B's syncer reports to the node's metrics.
	n, err := testutil.GatherAndCount(reg, "total_transfer_messages_exchanged_total")
	if err != nil || n != 1 {
		t.Fatalf("transfer series %d, %v", n, err)
	}

	for _, n := range []*Node{a, b} {
		rec, err := enr.Parse(n.ENR())
		if err != nil {
			t.Fatal(err)
		}
		var c enr.Capabilities
		if err := rec.Load(&c); err != nil {
			t.Fatal(err)
		}
		if !c.Has(enr.Store | enr.Sync) {
			t.Fatalf("%s: waku2 = %s, want store|sync", n.ID(), c)
		}
	}
}

// Store sync without the store is refused by New; the store alone does not set the sync bit.
func TestStoreSyncConfig(t *testing.T) {
	cfg := testConfig(t)
	cfg.StoreSync = &StoreSyncConfig{}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "store sync needs the store") {
		t.Fatalf("New without store: %v", err)
	}
	cfg.StoreSync = nil
	cfg.Store.Enabled = true
	n := startNode(t, cfg)
	rec, err := enr.Parse(n.ENR())
	if err != nil {
		t.Fatal(err)
	}
	var c enr.Capabilities
	if err := rec.Load(&c); err != nil {
		t.Fatal(err)
	}
	if !c.Has(enr.Store) || c.Has(enr.Sync) {
		t.Fatalf("waku2 = %s, want store without sync", c)
	}
}
