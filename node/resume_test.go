package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	storepb "github.com/wakunode/wakunode/store/pb"
)

// localCount counts the messages a node's own archive answers for testTopic.
func localCount(t *testing.T, n *Node) int {
	t.Helper()
	total := 0
	req := &storepb.StoreQueryRequest{PaginationForward: true}
	for {
		resp, err := n.Store().Query(context.Background(), nil, req)
		if err != nil {
			t.Fatal(err)
		}
		total += len(resp.Messages)
		if resp.PaginationCursor == nil {
			return total
		}
		req.PaginationCursor = resp.PaginationCursor
	}
}

func waitCount(t *testing.T, n *Node, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := localCount(t, n)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s stores %d messages, want %d", n.ID(), got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A store node that was down catches up from its --storenode when it comes back.
func TestStoreResume(t *testing.T) {
	ca := testConfig(t)
	ca.Store.Enabled = true
	a := startNode(t, ca)
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := a.Publish(context.Background(), testTopic, testMessage(fmt.Sprintf("m%d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(0, 5)
	waitCount(t, a, 5)

	cb := testConfig(t)
	cb.Store.Enabled, cb.Store.Resume = true, true
	cb.StoreNode = addrWith(t, a, "/tcp/")
	b := startNode(t, cb)
	waitCount(t, b, 5) // an empty archive fetches the last day

	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	publish(5, 8) // while B is down
	waitCount(t, a, 8)
	b = startNode(t, cb) // same data dir: resumes from its newest message
	waitCount(t, b, 8)
}
