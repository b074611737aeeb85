package reputation

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	mpb "github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/peers"
	"github.com/wakunode/wakunode/store"
	spb "github.com/wakunode/wakunode/store/pb"
)

const testTopic = "/waku/2/rs/0/0"

// history answers every query with the same page: an honest store node. withholding answers
// with an empty page, as a store node that drops history would.
type history struct{ page archive.Page }

func (h history) Query(context.Context, archive.Query) (archive.Page, error) { return h.page, nil }

var withholding = history{}

func honestHistory(t *testing.T, n int) history {
	t.Helper()
	var h history
	now := time.Now().UnixNano()
	for i := 0; i < n; i++ {
		ts := now - int64(i)
		e, err := message.NewEnvelope(testTopic, &mpb.WakuMessage{Payload: []byte(fmt.Sprint(i)), ContentTopic: "/r/1/t/proto", Timestamp: &ts}, ts)
		if err != nil {
			t.Fatal(err)
		}
		h.page.Entries = append(h.page.Entries, archive.Entry{Hash: e.Hash, Timestamp: ts, PubsubTopic: testTopic, Message: e.Message})
	}
	return h
}

// TestClientPrefersTheHonestStoreNode: a client knows three store nodes, an honest one, one that
// withholds (answers empty) and one that never answers (times out). With a Tracker as both the
// store client's observer and the peer manager's ranker, it settles on the honest node.
func TestClientPrefersTheHonestStoreNode(t *testing.T) {
	honest, empty, silent := testhost.New(t), testhost.New(t), testhost.New(t)
	for _, s := range []*store.Service{
		store.NewService(honest, honestHistory(t, 5), store.ServiceConfig{}),
		store.NewService(empty, withholding, store.ServiceConfig{}),
	} {
		s.Start()
		t.Cleanup(s.Stop)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done) }) // runs before the hosts close (cleanups are LIFO)
	silent.SetStreamHandler(store.QueryProtocol, func(s network.Stream) {
		_, _ = io.Copy(io.Discard, s) // read the query, never answer
		<-done
		_ = s.Reset()
	})

	client := testhost.New(t)
	tr := New(Config{Self: client.ID()})
	m := peers.New(client, peers.Config{})
	m.SetRanker(tr)
	sc := store.NewClient(client, store.ClientConfig{Observer: tr})
	for _, s := range []peer.AddrInfo{{ID: honest.ID(), Addrs: honest.Addrs()}, {ID: empty.ID(), Addrs: empty.Addrs()}, {ID: silent.ID(), Addrs: silent.Addrs()}} {
		if err := client.Connect(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range []peer.ID{honest.ID(), empty.ID(), silent.ID()} { // identify done
		for ok, _ := client.Peerstore().SupportsProtocols(p, store.QueryProtocol); len(ok) == 0; ok, _ = client.Peerstore().SupportsProtocols(p, store.QueryProtocol) {
			if time.Now().After(deadline) {
				t.Fatalf("identify never told us %s serves store", p)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	const rounds, tail = 30, 10
	chosen := map[peer.ID]int{}
	for i := 0; i < rounds; i++ {
		p, err := m.SelectPeer(store.QueryProtocol, "")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		resp, err := sc.Query(ctx, p, &spb.StoreQueryRequest{IncludeData: true, PubsubTopic: proto.String(testTopic)})
		cancel()
		switch {
		case p == silent.ID() && err == nil:
			t.Fatalf("the silent node answered: %v", err)
		case p == honest.ID() && len(resp.GetMessages()) != 5:
			t.Fatalf("the honest node returned %d messages (%v)", len(resp.GetMessages()), err)
		}
		if i >= rounds-tail {
			chosen[p]++
		}
	}
	if chosen[honest.ID()] != tail {
		t.Fatalf("last %d selections: honest %d, withholding %d, silent %d; want all honest (trust %.3f / %.3f / %.3f)",
			tail, chosen[honest.ID()], chosen[empty.ID()], chosen[silent.ID()], tr.Trust(honest.ID()), tr.Trust(empty.ID()), tr.Trust(silent.ID()))
	}
	if tr.Trust(honest.ID()) <= tr.Trust(empty.ID()) {
		t.Fatalf("honest trust %.3f not above the withholding node's %.3f", tr.Trust(honest.ID()), tr.Trust(empty.ID()))
	}
	// An empty page alone proves nothing; a multi-node query where another node had messages
	// does: the withholding node is flagged for replacement and ranks behind unknown peers.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := sc.QueryMulti(ctx, []peer.ID{honest.ID(), empty.ID()}, &spb.StoreQueryRequest{PubsubTopic: proto.String(testTopic)}, 0); err != nil {
		t.Fatal(err)
	}
	if !tr.ShouldReplace(empty.ID()) {
		t.Fatal("the withholding node is not flagged after a multi-node query exposed it")
	}
	if r := tr.Rank([]peer.ID{empty.ID(), "unknown", honest.ID()}); r[0] != honest.ID() || r[2] != empty.ID() {
		t.Fatalf("rank %v: want the honest node first and the withholding one last", r)
	}
}
