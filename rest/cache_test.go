package rest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// env is an envelope with a distinct hash per (topic, ct, i) and real encoded bytes.
func env(topic, ct string, i int) *message.Envelope {
	e, err := message.NewEnvelope(topic, &pb.WakuMessage{ContentTopic: ct, Payload: []byte(fmt.Sprint(i))}, 0)
	if err != nil {
		panic(err)
	}
	return e
}

func payloads(es []*message.Envelope) string {
	s := ""
	for _, e := range es {
		s += string(e.Message.Payload)
	}
	return s
}

func TestCacheCapacity(t *testing.T) {
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
		c := newMsgCache(tc.capacity, DefaultCacheMaxBytes, true, false)
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
		c.add("t", env("t", "", 9))
		if got, _ := c.take("t"); payloads(got) != "9" {
			t.Errorf("after drain: %q", payloads(got))
		}
		if c.bytes != 0 {
			t.Errorf("empty cache counts %d bytes", c.bytes)
		}
	}
}

func TestCacheTracking(t *testing.T) {
	c := newMsgCache(2, DefaultCacheMaxBytes, false, false)
	c.add("ct", env("p", "ct", 1))
	if _, ok := c.take("ct"); ok {
		t.Fatal("untracked topic was cached")
	}
	c.track("ct")
	c.add("ct", env("p", "ct", 1))
	if got, ok := c.take("ct"); !ok || payloads(got) != "1" {
		t.Fatalf("tracked: %v %q", ok, payloads(got))
	}
	c.add("ct", env("p", "ct", 2))
	c.untrack("ct")
	if _, ok := c.take("ct"); ok || c.bytes != 0 {
		t.Fatalf("still tracked after untrack (bytes %d)", c.bytes)
	}

	// Bounded number of topics, whether tracked explicitly or automatically.
	auto := newMsgCache(1, DefaultCacheMaxBytes, true, false)
	for i := range maxCachedTopics + 10 {
		auto.add(fmt.Sprint("topic", i), env("x", "", i))
	}
	if n := len(auto.trackedTopics()); n != maxCachedTopics {
		t.Errorf("auto-tracked %d topics, want %d", n, maxCachedTopics)
	}
	if auto.track("one more") {
		t.Error("track beyond the bound succeeded")
	}

	// Bounded bytes of topic names: a few huge content topics fill it.
	named := newMsgCache(1, DefaultCacheMaxBytes, false, false)
	huge := strings.Repeat("x", maxTopicBytes/2)
	if !named.track(huge+"1") || named.track(huge+"2") {
		t.Error("topic-name bytes not bounded")
	}
	named.untrack(huge + "1")
	if !named.track(huge+"2") || named.keyBytes != len(huge)+1 {
		t.Errorf("untrack did not free the name's bytes: %d", named.keyBytes)
	}
}

// TestCacheByteBound: over maxBytes the oldest message of the whole cache goes first; a
// message larger than the bound is never kept.
func TestCacheByteBound(t *testing.T) {
	size := entrySize(env("a", "", 0))
	c := newMsgCache(100, 3*size, true, false)
	c.add("a", env("a", "", 0))
	c.add("b", env("b", "", 1))
	c.add("a", env("a", "", 2))
	c.add("b", env("b", "", 3)) // evicts a/0, the oldest overall
	if c.bytes > 3*size {
		t.Fatalf("%d bytes held, bound %d", c.bytes, 3*size)
	}
	a, _ := c.take("a")
	b, _ := c.take("b")
	if payloads(a) != "2" || payloads(b) != "13" {
		t.Fatalf("after eviction a=%q b=%q", payloads(a), payloads(b))
	}
	big := &message.Envelope{PubsubTopic: "a", Message: &pb.WakuMessage{}, Raw: make([]byte, 4*size)}
	c.add("a", big)
	if got, _ := c.take("a"); len(got) != 0 || c.bytes != 0 {
		t.Fatalf("oversized message kept: %d, %d bytes", len(got), c.bytes)
	}
}

// TestCacheTakeMatching: a read by content topic consumes only that content topic's
// messages; a later read of the whole topic returns the rest, not those again.
func TestCacheTakeMatching(t *testing.T) {
	c := newMsgCache(10, DefaultCacheMaxBytes, true, false)
	for i := range 6 {
		c.add("p", env("p", fmt.Sprint("ct", i%2), i))
	}
	ct1, _ := c.takeMatching("p", func(e *message.Envelope) bool { return e.Message.ContentTopic == "ct1" })
	if payloads(ct1) != "135" {
		t.Fatalf("ct1: %q", payloads(ct1))
	}
	rest, _ := c.take("p")
	if payloads(rest) != "024" {
		t.Fatalf("rest: %q", payloads(rest))
	}
	if again, _ := c.take("p"); len(again) != 0 {
		t.Fatalf("read twice: %q", payloads(again))
	}
}

func TestCacheDedupe(t *testing.T) {
	c := newMsgCache(10, DefaultCacheMaxBytes, false, true)
	c.track("ct")
	m := env("p", "ct", 1)
	c.add("ct", m)
	c.add("ct", env("p", "ct", 1)) // same hash, another envelope
	if got, _ := c.take("ct"); payloads(got) != "1" {
		t.Fatalf("first read %q", payloads(got))
	}
	c.add("ct", m) // a late copy after the read
	if got, _ := c.take("ct"); len(got) != 0 {
		t.Fatalf("late duplicate cached: %q", payloads(got))
	}
}

func TestRelayCacheConcurrent(t *testing.T) {
	c := newRelayCache(8, DefaultCacheMaxBytes)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				c.Deliver(env(fmt.Sprint("p", g%2), "ct", g*1000+i))
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
		got, _ := c.byPubsub.takeMatching("p0", func(e *message.Envelope) bool { return e.Message.ContentTopic == "ct" })
		if len(got) > 8 {
			t.Fatalf("queue over capacity: %d", len(got))
		}
		total += len(got)
	}
	c.Deliver(nil) // ignored
	c.Deliver(&message.Envelope{})
	if total > 1000 {
		t.Errorf("took %d messages, only 1000 were delivered on p0", total)
	}
}
