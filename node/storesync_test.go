package node

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Two store nodes, B with --storenode A: a store-sync round started by B brings A's messages
// (archived from relay and fed to A's sync index by the bus) into B's archive.
func TestStoreSyncWiring(t *testing.T) {
	ca := testConfig(t)
	ca.Store.Enabled = true
	a := startNode(t, ca)
	// Messages younger than the relay jitter are outside the window: a 1 ns jitter lets the
	// just-published messages in.
	sc := StoreSyncConfig{Interval: -1, RelayJitter: time.Nanosecond}
	if _, err := a.startStoreSync(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := a.Publish(context.Background(), testTopic, testMessage(fmt.Sprintf("m%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitCount(t, a, 5)

	cb := testConfig(t)
	cb.Store.Enabled = true
	cb.StoreNode = addrWith(t, a, "/tcp/")
	b := startNode(t, cb)
	s, err := b.startStoreSync(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.storeSyncPeer()
	if err != nil || p != a.ID() {
		t.Fatalf("sync peer %s, %v", p, err)
	}
	res, err := s.Sync(context.Background(), p)
	if err != nil || res.Frames < 2 {
		t.Fatalf("sync %+v %v", res, err)
	}
	waitCount(t, b, 5)
}
