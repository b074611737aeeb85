package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/store"
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

// hostileQuerier answers every store query with the same page.
type hostileQuerier struct{ entries []archive.Entry }

func (h hostileQuerier) Query(context.Context, archive.Query) (archive.Page, error) {
	return archive.Page{Entries: h.entries}, nil
}

// A node resuming from a hostile --storenode archives only what its own rules accept: the
// wiring hands store.Resume the node's message rules and relayed shards.
func TestResumeFromHostileStore(t *testing.T) {
	ts := time.Now().Add(-time.Minute).UnixNano()
	entry := func(topic, payload string, spoil bool) archive.Entry {
		m := &pb.WakuMessage{Payload: []byte(payload), ContentTopic: "/test/1/relay/proto", Timestamp: &ts}
		e := archive.Entry{Hash: message.ComputeHash(topic, m), Timestamp: ts, PubsubTopic: topic, Message: m}
		if spoil {
			e.Hash[0] ^= 1
		}
		return e
	}
	good := entry(testTopic, "good", false)
	h := testhost.New(t)
	svc := store.NewService(h, hostileQuerier{entries: []archive.Entry{
		entry(testTopic, strings.Repeat("x", 2048), false), // over the node's MaxSize
		entry("/waku/2/rs/16/4", "a shard we do not relay", false),
		entry(testTopic, "false hash", true),
		good, // last: once it is archived, the others have been judged
	}}, store.ServiceConfig{})
	svc.Start()
	t.Cleanup(svc.Stop)

	cfg := testConfig(t)
	cfg.Rules.MaxSize = 1024
	cfg.Store.Enabled, cfg.Store.Resume = true, true
	cfg.StoreNode = multiaddr.StringCast(h.Addrs()[0].String() + "/p2p/" + h.ID().String())
	n := startNode(t, cfg)
	waitCount(t, n, 1)
	resp, err := n.Store().Query(context.Background(), nil, &storepb.StoreQueryRequest{PaginationForward: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Messages) != 1 || string(resp.Messages[0].MessageHash) != string(good.Hash[:]) {
		t.Fatalf("archive holds %d messages, want only the valid one", len(resp.Messages))
	}
}
