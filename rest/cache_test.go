package rest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

func env(topic, ct string, i int) *message.Envelope {
	return &message.Envelope{PubsubTopic: topic, Message: &pb.WakuMessage{ContentTopic: ct, Payload: []byte(fmt.Sprint(i))}}
}

func payloads(es []*message.Envelope) string {
	s := ""
	for _, e := range es {
		s += string(e.Message.Payload)
	}
	return s
}

func TestRing(t *testing.T) {
	tests := []struct {
		capacity, pushes int
		want             string
	}{
		{3, 0, ""},
		{3, 2, "01"},
		{3, 3, "012"},
		{3, 4, "123"},
		{3, 7, "456"},
		{1, 5, "4"},
	}
	for _, tc := range tests {
		c := newTopicCache(tc.capacity, true)
		for i := range tc.pushes {
			c.add("t", env("t", "", i))
		}
		got, _ := c.take("t")
		if payloads(got) != tc.want {
			t.Errorf("cap %d, %d pushes: got %q want %q", tc.capacity, tc.pushes, payloads(got), tc.want)
		}
		again, _ := c.take("t")
		if len(again) != 0 {
			t.Errorf("take did not clear: %q", payloads(again))
		}
		// The ring still works after a drain.
		c.add("t", env("t", "", 9))
		if got, _ := c.take("t"); payloads(got) != "9" && tc.pushes > 0 {
			t.Errorf("after drain: %q", payloads(got))
		}
	}
}

func TestTopicCacheTracking(t *testing.T) {
	c := newTopicCache(2, false)
	c.add("ct", env("p", "ct", 1))
	if _, ok := c.take("ct"); ok {
		t.Fatal("untracked topic was cached")
	}
	c.track("ct")
	c.add("ct", env("p", "ct", 1))
	if got, ok := c.take("ct"); !ok || payloads(got) != "1" {
		t.Fatalf("tracked: %v %q", ok, payloads(got))
	}
	c.untrack("ct")
	if c.tracked("ct") {
		t.Fatal("still tracked")
	}

	// Bounded number of topics, whether tracked explicitly or automatically.
	auto := newTopicCache(1, true)
	for i := range maxCachedTopics + 10 {
		auto.add(fmt.Sprint("topic", i), env("x", "", i))
	}
	if n := len(auto.trackedTopics()); n != maxCachedTopics {
		t.Errorf("auto-tracked %d topics, want %d", n, maxCachedTopics)
	}
	if auto.track("one more") {
		t.Error("track beyond the bound succeeded")
	}
}

func TestRelayCacheConcurrent(t *testing.T) {
	c := newRelayCache(8)
	c.byContent.track("ct")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				c.Deliver(env(fmt.Sprint("p", g%2), "ct", i))
			}
		}()
	}
	total := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		got, _ := c.byContent.take("ct")
		if len(got) > 8 {
			t.Fatalf("ring over capacity: %d", len(got))
		}
		total += len(got)
	}
	c.Deliver(nil) // ignored
	c.Deliver(&message.Envelope{})
	if total > 2000 {
		t.Errorf("took %d messages, only 2000 were delivered", total)
	}
}
