package sds

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	wpb "github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/store"
)

// Bob misses one of Alice's messages on the wire and fetches it from real store nodes by its
// Waku message hash; only the second store node holds it.
func TestRetrieveFromStoreNodes(t *testing.T) {
	ctx := context.Background()
	open := func() *archive.Archive {
		a, err := archive.Open(ctx, archive.Config{URL: "sqlite://" + filepath.Join(t.TempDir(), "a.sqlite3"), Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	empty, full := open(), open()
	client := testhost.New(t)
	var ids []peer.ID
	for _, a := range []*archive.Archive{empty, full} {
		h := testhost.New(t)
		svc := store.NewService(h, a, store.ServiceConfig{})
		svc.Start()
		t.Cleanup(svc.Stop)
		testhost.Connect(t, client, h)
		ids = append(ids, h.ID())
	}
	sc := store.NewClient(client, store.ClientConfig{})

	var bob *Channel
	publish := func(_ context.Context, payload []byte) ([]byte, error) {
		ts := time.Now().UnixNano()
		env, err := message.NewEnvelope("/waku/2/rs/1/0", &wpb.WakuMessage{Payload: payload, ContentTopic: "/app/1/chat/proto", Timestamp: &ts}, ts)
		if err != nil {
			return nil, err
		}
		if err := full.Insert(env); err != nil {
			return nil, err
		}
		if m, _ := Decode(payload); string(m.GetContent()) != "lost" {
			_ = bob.Receive(payload, env.Hash[:])
		}
		return env.Hash[:], full.Flush(ctx)
	}
	var delivered []string
	alice := NewChannel(Config{ChannelID: "c", SenderID: "alice", Publish: publish})
	bob = NewChannel(Config{ChannelID: "c", SenderID: "bob", Query: StoreQuery(sc, ids...), OnEvent: func(e Event) {
		if e.Kind == Delivered {
			delivered = append(delivered, string(e.Content))
		}
	}})
	for _, s := range []string{"first", "lost", "last"} {
		if _, err := alice.Send(ctx, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := bob.RetrieveMissing(ctx)
	if err != nil || n != 1 {
		t.Fatalf("retrieved %d: %v", n, err)
	}
	if len(delivered) != 3 || delivered[1] != "lost" || delivered[2] != "last" {
		t.Fatalf("delivered %v", delivered)
	}
}
