package relay

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"

	"github.com/wakunode/wakunode/internal/testhost"
)

func subOpts(topics ...string) []*pubsubpb.RPC_SubOpts {
	out := make([]*pubsubpb.RPC_SubOpts, len(topics))
	for i := range topics {
		sub := true
		out[i] = &pubsubpb.RPC_SubOpts{Subscribe: &sub, Topicid: &topics[i]}
	}
	return out
}

// TestSubscriptionFilterKeepsOnlyServedTopics: a peer's announcements are tracked only for
// canonical static shards of our cluster and for topics we joined; an RPC with more
// subscriptions than the cap is dropped whole.
func TestSubscriptionFilterKeepsOnlyServedTopics(t *testing.T) {
	h := testhost.New(t)
	cfg := testConfig(nil)
	cfg.Clusters = []uint16{1}
	cfg.MaxSubscriptionsPerRPC = 10
	r := newRelay(t, h, cfg, nil)
	if err := r.Subscribe(testTopic); err != nil {
		t.Fatal(err)
	}
	const apiTopic = "/my/app/topic" // joined through the Go API: tracked too
	if err := r.Subscribe(apiTopic); err != nil {
		t.Fatal(err)
	}
	rp := newRawPeer(t, h)
	tooMany := make([]string, 11)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("/waku/2/rs/1/%d", 100+i)
	}
	rp.send(t, &pubsubpb.RPC{Subscriptions: subOpts(tooMany...)})
	rp.send(t, &pubsubpb.RPC{Subscriptions: subOpts("/waku/2/rs/1/5", "/waku/2/rs/1/05", "/waku/2/rs/2/5",
		"/waku/2/rs/1/1024", "random-topic", apiTopic)})
	rp.subscribe(t, testTopic) // RPCs on one stream are handled in order: this one comes last
	waitFor(t, "marker subscription", func() bool { return slices.Contains(r.TopicPeers(testTopic), rp.h.ID()) })

	for topic, want := range map[string]bool{
		"/waku/2/rs/1/5": true, apiTopic: true,
		"/waku/2/rs/1/05": false, "/waku/2/rs/2/5": false, "/waku/2/rs/1/1024": false, "random-topic": false,
		"/waku/2/rs/1/100": false, // in the oversized RPC
	} {
		if got := slices.Contains(r.TopicPeers(topic), rp.h.ID()); got != want {
			t.Errorf("peer tracked on %q: %v, want %v", topic, got, want)
		}
	}
}

// TestPublishOnlyTopicsAreClosedWhenIdle: topics joined only to publish are left after
// IdleTopicTTL; subscribed topics stay.
func TestPublishOnlyTopicsAreClosedWhenIdle(t *testing.T) {
	cfg := testConfig(nil)
	cfg.IdleTopicTTL = 50 * time.Millisecond
	r := newRelay(t, testhost.New(t), cfg, nil)
	if err := r.Subscribe(testTopic); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := r.Publish(context.Background(), fmt.Sprintf("/waku/2/rs/1/%d", i+1), wakuMsg(payloadOf(i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.JoinedTopics(); n < 2 {
		t.Fatalf("joined %d topics right after publishing, want 51", n)
	}
	waitFor(t, "idle topics closed", func() bool { return r.JoinedTopics() == 1 })
	if err := r.Unsubscribe(testTopic); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "unsubscribed topic closed", func() bool { return r.JoinedTopics() == 0 })
	// A closed topic can be joined again.
	if err := r.Subscribe(testTopic); err != nil {
		t.Fatal(err)
	}
}

// TestPeerAnnouncingUnservedTopicsIsGraylisted: past MaxUnservedTopics unserved announcements
// a peer is reported by Graylisted, and its later subscription RPCs are dropped.
func TestPeerAnnouncingUnservedTopicsIsGraylisted(t *testing.T) {
	h := testhost.New(t)
	cfg := testConfig(nil)
	cfg.Clusters = []uint16{1}
	cfg.MaxUnservedTopics = 10
	r := newRelay(t, h, cfg, nil)
	honest, rp := newRawPeer(t, h), newRawPeer(t, h)
	honest.send(t, &pubsubpb.RPC{Subscriptions: subOpts("/my/app/topic", testTopic)}) // one unserved: fine
	topics := make([]string, 11)
	for i := range topics {
		topics[i] = fmt.Sprintf("/flood/%d", i)
	}
	rp.send(t, &pubsubpb.RPC{Subscriptions: subOpts(topics...)})
	select { // the peer manager is told at once
	case <-r.GraylistChanged():
	case <-time.After(15 * time.Second):
		t.Fatal("flooding peer flagged without a GraylistChanged signal")
	}
	if _, ok := r.Graylisted()[rp.h.ID()]; !ok {
		t.Fatal("flooding peer not graylisted")
	}
	rp.subscribe(t, testTopic) // dropped unread
	waitFor(t, "honest peer tracked", func() bool { return slices.Contains(r.TopicPeers(testTopic), honest.h.ID()) })
	if _, ok := r.Graylisted()[honest.h.ID()]; ok {
		t.Fatal("honest peer graylisted")
	}
	rp.send(t, &pubsubpb.RPC{Subscriptions: subOpts("/waku/2/rs/1/9")})
	honest.send(t, &pubsubpb.RPC{Subscriptions: subOpts("/waku/2/rs/1/9")})
	waitFor(t, "honest peer's later announcement", func() bool { return slices.Contains(r.TopicPeers("/waku/2/rs/1/9"), honest.h.ID()) })
	if slices.Contains(r.TopicPeers(testTopic), rp.h.ID()) {
		t.Fatal("a flagged peer's subscription was processed")
	}
}
