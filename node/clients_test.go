package node

import (
	"context"
	"errors"
	"testing"
	"time"

	storepb "github.com/wakunode/wakunode/store/pb"
)

// Without --storenode a client call goes to a connected peer that serves the protocol on the
// shard; with none, it reports ErrNoServicePeer.
func TestClientSelectsServicePeer(t *testing.T) {
	ca := testConfig(t)
	ca.Store.Enabled = true
	a := startNode(t, ca)
	b := startNode(t, testConfig(t))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	topic := testTopic
	req := &storepb.StoreQueryRequest{PubsubTopic: &topic, ContentTopics: []string{"/test/1/relay/proto"}, IncludeData: true}
	if _, err := b.Store().Query(ctx, nil, req); !errors.Is(err, ErrNoServicePeer) {
		t.Fatalf("store query with no store peer: %v, want ErrNoServicePeer", err)
	}
	if _, err := a.Publish(ctx, testTopic, testMessage("stored")); err != nil {
		t.Fatal(err)
	}
	waitCount(t, a, 1)
	if err := b.Connect(ctx, addrWith(t, a, "/tcp/")); err != nil {
		t.Fatal(err)
	}
	var resp *storepb.StoreQueryResponse
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err = b.Store().Query(ctx, nil, req); err == nil {
			break // the peer manager knows A serves store once identify and metadata are done
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Messages) != 1 || string(resp.Messages[0].Message.Payload) != "stored" {
		t.Fatalf("remote store answered %v", resp.Messages)
	}
}

// Filter ping and unsubscribe-all go to the service node holding our subscription, not to
// whichever filter peer the selector picks.
func TestFilterPingGoesToSubscribedPeer(t *testing.T) {
	var services []*Node
	for range 2 {
		c := testConfig(t)
		c.Filter.Enabled = true
		services = append(services, startNode(t, c))
	}
	b := startNode(t, testConfig(t))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, s := range services {
		if err := b.Connect(ctx, addrWith(t, s, "/tcp/")); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err = b.Filter().Subscribe(ctx, testTopic, []string{"/test/1/relay/proto"}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := b.Filter().Ping(ctx); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
	}
	if err := b.Filter().UnsubscribeAll(ctx); err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, s := range services {
		held += len(s.Filter().Served())
	}
	if held != 0 {
		t.Fatalf("%d subscriptions left at the service nodes", held)
	}
}
