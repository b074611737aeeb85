package store

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/store/pb"
)

// multiSetup starts one store node per message set and a client connected to all of them.
func multiSetup(t *testing.T, cfg ClientConfig, sets ...[]*message.Envelope) (*Client, []peer.ID) {
	t.Helper()
	client := testhost.New(t)
	var ids []peer.ID
	for _, set := range sets {
		server := testhost.New(t)
		s := NewService(server, openArchive(t, set), ServiceConfig{})
		s.Start()
		t.Cleanup(s.Stop)
		testhost.Connect(t, client, server)
		ids = append(ids, server.ID())
	}
	return NewClient(client, cfg), ids
}

func without(es []*message.Envelope, from, to int) []*message.Envelope {
	return append(append([]*message.Envelope(nil), es[:from]...), es[to:]...)
}

func TestQueryMultiMergesGaps(t *testing.T) {
	all := corpus(60)
	c, peers := multiSetup(t, ClientConfig{}, without(all, 0, 20), without(all, 20, 40), without(all, 40, 60))
	want := ordered(all)
	for _, forward := range []bool{true, false} {
		req := &pb.StoreQueryRequest{PaginationLimit: ptr(uint64(7)), PaginationForward: forward}
		res, err := c.QueryMulti(context.Background(), peers, req, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) != len(want) {
			t.Fatalf("forward=%v: %d messages, want %d", forward, len(res.Messages), len(want))
		}
		for i, kv := range res.Messages {
			if message.Hash(kv.GetMessageHash()) != want[i].Hash {
				t.Fatalf("forward=%v: message %d out of order", forward, i)
			}
		}
		for i, n := range res.Nodes {
			if n.Peer != peers[i] || n.Returned != 40 || n.Unique != 0 || n.Err != nil || n.Pages < 6 {
				t.Fatalf("node %d report %+v", i, n)
			}
		}
	}
}

func TestQueryMultiLimitUniqueAndFailure(t *testing.T) {
	all := ordered(corpus(30))
	c, peers := multiSetup(t, ClientConfig{}, all[:10], all[5:20], all[15:])
	// The newest 12 of the union: all[18:30]; node 3 alone holds all[20:].
	res, err := c.QueryMulti(context.Background(), peers, &pb.StoreQueryRequest{}, 12)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 12 || message.Hash(res.Messages[0].GetMessageHash()) != all[18].Hash {
		t.Fatalf("%d messages", len(res.Messages))
	}
	if res.Nodes[2].Unique != 10 || res.Nodes[0].Unique != 0 {
		t.Fatalf("reports %+v", res.Nodes)
	}
	// A node that does not answer is reported; the others still give their history.
	dead := testhost.New(t)
	res, err = c.QueryMulti(context.Background(), append(peers[:1:1], dead.ID()), &pb.StoreQueryRequest{PaginationForward: true}, 0)
	if err != nil || len(res.Messages) != 10 || res.Nodes[1].Err == nil {
		t.Fatalf("with a dead node: %v, %d messages, %+v", err, len(res.Messages), res.Nodes)
	}
	if _, err := c.QueryMulti(context.Background(), []peer.ID{dead.ID()}, &pb.StoreQueryRequest{}, 0); err == nil {
		t.Fatal("all nodes failed but no error")
	}
}
