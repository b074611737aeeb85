package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
)

const (
	ctA = "/app/1/a/proto"
	ctB = "/app/1/b/proto"
)

func envelope(t *testing.T, topic, ct, payload string) *message.Envelope {
	t.Helper()
	ts := int64(42)
	e, err := message.NewEnvelope(topic, &pb.WakuMessage{Payload: []byte(payload), ContentTopic: ct, Timestamp: &ts}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func subBody(id, topic string, cts ...string) string {
	b, _ := json.Marshal(FilterSubscribeRequest{RequestID: id, PubsubTopic: topic, ContentFilters: cts})
	return string(b)
}

// pollFilter GETs the content topic's messages until want of them have arrived (the drain
// goroutine runs concurrently); it fails after 5 s.
func pollFilter(t *testing.T, h http.Handler, ct string, want int) []FilterWakuMessage {
	t.Helper()
	var got []FilterWakuMessage
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := do(t, h, "GET", "/filter/v2/messages/"+url.PathEscape(ct), "", "")
		r.want(t, 200, jsonCT)
		var page []FilterWakuMessage
		if err := json.Unmarshal([]byte(r.body), &page); err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(got) >= want {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages for %s", len(got), want, ct)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFilterSubscribeAndMessages(t *testing.T) {
	f := newFakeNode(t)
	srv := newTestServer(t, f, nil)
	h := srv.Handler()

	r := do(t, h, "POST", "/filter/v2/subscriptions", jsonCT, subBody("r1", shard0, ctA, ctB))
	r.want(t, 200, jsonCT)
	if r.body != `{"requestId":"r1","statusDesc":"OK"}` {
		t.Fatalf("body %s", r.body)
	}
	if r := do(t, h, "GET", "/filter/v2/messages/"+url.PathEscape(ctA), "", ""); r.body != "[]" {
		t.Fatalf("empty cache: %s", r.body)
	}
	r = do(t, h, "GET", "/filter/v2/messages/"+url.PathEscape("/other/1/x/proto"), "", "")
	r.want(t, 400, "text/plain")
	if !strings.Contains(r.body, "Not subscribed to topic") {
		t.Fatalf("body %q", r.body)
	}

	if n := f.filterPush(envelope(t, shard0, ctA, "one")); n != 1 {
		t.Fatalf("pushed to %d subscriptions", n)
	}
	got := pollFilter(t, h, ctA, 1)
	want := FilterWakuMessage{Payload: "b25l", ContentTopic: ctA, Timestamp: 42}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %+v", got)
	}
	// Read once: gone on the next call; ctB untouched.
	if r := do(t, h, "GET", "/filter/v2/messages/"+url.PathEscape(ctA), "", ""); r.body != "[]" {
		t.Fatalf("second read: %s", r.body)
	}

	// The cache keeps the newest RelayCacheCapacity (3) messages per content topic.
	for i := range 5 {
		f.filterPush(envelope(t, shard0, ctB, fmt.Sprint(i)))
	}
	deadline := time.Now().Add(5 * time.Second)
	for newestCached(srv, ctB) != "4" {
		if time.Now().After(deadline) {
			t.Fatal("pushes not drained")
		}
		time.Sleep(5 * time.Millisecond)
	}
	got = pollFilter(t, h, ctB, 3)
	if len(got) != 3 || got[0].Payload != b64.EncodeToString([]byte("2")) || got[2].Payload != b64.EncodeToString([]byte("4")) {
		t.Fatalf("got %+v", got)
	}

	// PUT is POST; autosharding when pubsubTopic is absent.
	do(t, h, "PUT", "/filter/v2/subscriptions", jsonCT, subBody("r2", "", chatCT)).want(t, 200, jsonCT)
	auto, _ := f.PubsubTopicFor("", chatCT)
	if f.activeFilterTopics()[filter.Criterion{PubsubTopic: auto, ContentTopic: chatCT}] != 1 {
		t.Fatalf("active %v", f.activeFilterTopics())
	}
}

// newestCached peeks at the payload of the newest message cached for ct, without reading it.
func newestCached(s *Server, ct string) string {
	c := s.filters.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.topics[ct]
	if len(q) == 0 {
		return ""
	}
	return string(q[len(q)-1].e.Message.Payload)
}

func TestFilterUnsubscribe(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	do(t, h, "POST", "/filter/v2/subscriptions", jsonCT, subBody("1", shard0, ctA, ctB)).want(t, 200, jsonCT)

	// Dropping ctA keeps ctB subscribed (through a replacement subscription).
	r := do(t, h, "DELETE", "/filter/v2/subscriptions", jsonCT, subBody("2", shard0, ctA))
	r.want(t, 200, jsonCT)
	if r.body != `{"requestId":"2","statusDesc":"OK"}` {
		t.Fatalf("body %s", r.body)
	}
	active := f.activeFilterTopics()
	if len(active) != 1 || active[filter.Criterion{PubsubTopic: shard0, ContentTopic: ctB}] != 1 {
		t.Fatalf("active %v", active)
	}
	do(t, h, "GET", "/filter/v2/messages/"+url.PathEscape(ctA), "", "").want(t, 400, "text/plain")
	f.filterPush(envelope(t, shard0, ctB, "still here"))
	pollFilter(t, h, ctB, 1)

	// Nothing to drop: 404. Another pubsub topic does not match.
	r = do(t, h, "DELETE", "/filter/v2/subscriptions", jsonCT, subBody("3", "/waku/2/rs/1/5", ctB))
	r.want(t, 404, jsonCT)
	if !strings.HasPrefix(r.body, `{"requestId":"3","statusDesc":`) {
		t.Fatalf("body %s", r.body)
	}

	do(t, h, "DELETE", "/filter/v2/subscriptions", jsonCT, subBody("4", shard0, ctB)).want(t, 200, jsonCT)
	if len(f.activeFilterTopics()) != 0 {
		t.Fatalf("active %v", f.activeFilterTopics())
	}
	do(t, h, "GET", "/filter/v2/messages/"+url.PathEscape(ctB), "", "").want(t, 400, "text/plain")
}

func TestFilterUnsubscribeAllAndPing(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()

	r := do(t, h, "GET", "/filter/v2/subscriptions/ping-1", "", "")
	r.want(t, 404, jsonCT)
	if !strings.HasPrefix(r.body, `{"requestId":"ping-1","statusDesc":"`) {
		t.Fatalf("body %s", r.body)
	}
	do(t, h, "POST", "/filter/v2/subscriptions", jsonCT, subBody("1", shard0, ctA)).want(t, 200, jsonCT)
	do(t, h, "POST", "/filter/v2/subscriptions", jsonCT, subBody("2", shard0, ctB)).want(t, 200, jsonCT)
	r = do(t, h, "GET", "/filter/v2/subscriptions/ping-2", "", "")
	r.want(t, 200, jsonCT)
	if r.body != `{"requestId":"ping-2","statusDesc":"OK"}` {
		t.Fatalf("body %s", r.body)
	}

	r = do(t, h, "DELETE", "/filter/v2/subscriptions/all", jsonCT, `{"requestId":"all"}`)
	r.want(t, 200, jsonCT)
	if r.body != `{"requestId":"all","statusDesc":"OK"}` || len(f.activeFilterTopics()) != 0 {
		t.Fatalf("body %s active %v", r.body, f.activeFilterTopics())
	}
	for _, ct := range []string{ctA, ctB} {
		do(t, h, "GET", "/filter/v2/messages/"+url.PathEscape(ct), "", "").want(t, 400, "text/plain")
	}
}

// A subscription the node's client closes on its own (e.g. UnsubscribeAll from elsewhere)
// stops being served.
func TestFilterClosedElsewhere(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	do(t, h, "POST", "/filter/v2/subscriptions", jsonCT, subBody("1", shard0, ctA)).want(t, 200, jsonCT)
	if err := f.FilterUnsubscribeAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for do(t, h, "GET", "/filter/v2/messages/"+url.PathEscape(ctA), "", "").code != 400 {
		if time.Now().After(deadline) {
			t.Fatal("content topic still served after its subscription closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFilterBadRequests(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("/app/1/t%d/proto", i)
	}
	cases := []struct{ name, method, path, ctype, body, id string }{
		{"not json", "POST", "/filter/v2/subscriptions", jsonCT, `{`, unknownRequestID},
		{"wrong content type", "POST", "/filter/v2/subscriptions", "text/plain", subBody("1", shard0, ctA), unknownRequestID},
		{"requestId type", "POST", "/filter/v2/subscriptions", jsonCT, `{"requestId":1,"contentFilters":["/a/1/b/proto"]}`, unknownRequestID},
		{"duplicate key", "POST", "/filter/v2/subscriptions", jsonCT, `{"requestId":"x","requestId":"y"}`, unknownRequestID},
		{"no content filters", "POST", "/filter/v2/subscriptions", jsonCT, `{"requestId":"7","pubsubTopic":"/waku/2/rs/1/0"}`, "7"},
		{"content filters type", "PUT", "/filter/v2/subscriptions", jsonCT, `{"requestId":"7","contentFilters":"x"}`, "7"},
		{"too many", "POST", "/filter/v2/subscriptions", jsonCT, subBody("8", shard0, many...), "8"},
		{"bad autoshard topic", "POST", "/filter/v2/subscriptions", jsonCT, subBody("9", "", "nonsense"), "9"},
		{"unsubscribe empty", "DELETE", "/filter/v2/subscriptions", jsonCT, `{"requestId":"10","contentFilters":[]}`, "10"},
		{"all without body", "DELETE", "/filter/v2/subscriptions/all", jsonCT, ``, unknownRequestID},
		{"subscribe without requestId", "POST", "/filter/v2/subscriptions", jsonCT, `{"pubsubTopic":"/waku/2/rs/1/0","contentFilters":["/a/1/b/proto"]}`, unknownRequestID},
		{"update without requestId", "PUT", "/filter/v2/subscriptions", jsonCT, `{"pubsubTopic":"/waku/2/rs/1/0","contentFilters":["/a/1/b/proto"]}`, unknownRequestID},
		{"unsubscribe without requestId", "DELETE", "/filter/v2/subscriptions", jsonCT, `{"pubsubTopic":"/waku/2/rs/1/0","contentFilters":["/a/1/b/proto"]}`, unknownRequestID},
		{"all without requestId", "DELETE", "/filter/v2/subscriptions/all", jsonCT, `{}`, unknownRequestID},
		{"null requestId", "POST", "/filter/v2/subscriptions", jsonCT, `{"requestId":null,"contentFilters":["/a/1/b/proto"]}`, unknownRequestID},
		{"unknown field", "POST", "/filter/v2/subscriptions", jsonCT, `{"requestId":"11","contentFilters":["/a/1/b/proto"],"peer":"x"}`, unknownRequestID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, h, tc.method, tc.path, tc.ctype, tc.body)
			r.want(t, 400, jsonCT)
			var resp FilterSubscriptionResponse
			if err := json.Unmarshal([]byte(r.body), &resp); err != nil || resp.RequestID != tc.id || resp.StatusDesc == "" {
				t.Fatalf("body %s (%v)", r.body, err)
			}
		})
	}
	if len(f.activeFilterTopics()) != 0 {
		t.Fatal("a bad request subscribed")
	}
}

func TestFilterStatusMapping(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	cases := []struct {
		err  error
		code int
	}{
		{&filter.StatusError{Code: filter.StatusBadRequest}, 400},
		{&filter.StatusError{Code: filter.StatusNotFound}, 404},
		{&filter.StatusError{Code: filter.StatusTooManyRequests}, 429},
		{&filter.StatusError{Code: filter.StatusServiceUnavailable}, 503},
		{&filter.StatusError{Code: filter.StatusPeerDialFailure}, 504},
		{&filter.StatusError{Code: filter.StatusPaymentRequired}, 402},
		{&filter.StatusError{Code: filter.StatusBadResponse}, 500},
		{&filter.StatusError{Code: 0}, 200},
		{fmt.Errorf("filter: %w", node.ErrNoServicePeer), 503},
		{context.DeadlineExceeded, 503},
		{fmt.Errorf("%w: /ip4/127.0.0.1/tcp/1/p2p/x: %w", node.ErrDialFailure, errFake), 504},
		{node.ErrNoAutosharding, 400},
		{errFake, 500},
	}
	calls := []struct{ method, path, body string }{
		{"POST", "/filter/v2/subscriptions", subBody("s", shard0, ctA)},
		{"DELETE", "/filter/v2/subscriptions/all", `{"requestId":"s"}`},
		{"GET", "/filter/v2/subscriptions/s", ""},
	}
	for _, tc := range cases {
		for _, c := range calls {
			t.Run(fmt.Sprintf("%s %s %v", c.method, c.path, tc.err), func(t *testing.T) {
				f.mu.Lock()
				f.svc.filterErr = tc.err
				f.mu.Unlock()
				ctype := ""
				if c.body != "" {
					ctype = jsonCT
				}
				r := do(t, h, c.method, c.path, ctype, c.body)
				r.want(t, tc.code, jsonCT)
				if !strings.HasPrefix(r.body, `{"requestId":"s","statusDesc":"`) {
					t.Fatalf("body %s", r.body)
				}
			})
		}
	}
}

func TestFilterCloseUnsubscribes(t *testing.T) {
	f := newFakeNode(t)
	s := newTestServer(t, f, nil)
	h := s.Handler()
	do(t, h, "POST", "/filter/v2/subscriptions", jsonCT, subBody("1", shard0, ctA)).want(t, 200, jsonCT)
	do(t, h, "POST", "/filter/v2/subscriptions", jsonCT, subBody("2", shard0, ctB)).want(t, 200, jsonCT)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.activeFilterTopics()) != 0 || f.svc.unsubCalls != 2 {
		t.Fatalf("after Close: active %v, %d unsubscribe calls", f.activeFilterTopics(), f.svc.unsubCalls)
	}
	// Subscribing after Close is refused and undone.
	r := do(t, h, "POST", "/filter/v2/subscriptions", jsonCT, subBody("3", shard0, ctA))
	r.want(t, 503, jsonCT)
	if len(f.activeFilterTopics()) != 0 {
		t.Fatalf("active after Close %v", f.activeFilterTopics())
	}
}

// TestFilterOverlapDeduped: two REST subscriptions covering the same content topic (a refresh,
// an overlap) each receive the service's push; GET returns the message once.
func TestFilterOverlapDeduped(t *testing.T) {
	f := newFakeNode(t)
	srv := newTestServer(t, f, nil)
	h := srv.Handler()
	do(t, h, "POST", "/filter/v2/subscriptions", jsonCT, subBody("1", shard0, ctA, ctB)).want(t, 200, jsonCT)
	do(t, h, "POST", "/filter/v2/subscriptions", jsonCT, subBody("2", shard0, ctA, "/app/1/c/proto")).want(t, 200, jsonCT)
	if n := f.filterPush(envelope(t, shard0, ctA, "once")); n != 2 {
		t.Fatalf("push reached %d subscriptions, want 2", n)
	}
	c := srv.filters.cache
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		dupes := c.duplicates
		c.mu.Unlock()
		if dupes == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("second copy never reached the cache")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := do(t, h, "GET", "/filter/v2/messages/"+url.PathEscape(ctA), "", "")
	r.want(t, 200, jsonCT)
	var got []FilterWakuMessage
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || len(got) != 1 || got[0].Payload != b64.EncodeToString([]byte("once")) {
		t.Fatalf("GET after an overlapping push: %s", r.body)
	}
}

// TestFilterRefreshDoesNotPileUp: subscribing the same content topics again retires the older
// REST subscription, so refreshes keep one subscription (and one goroutine) per topic set.
func TestFilterRefreshDoesNotPileUp(t *testing.T) {
	f := newFakeNode(t)
	srv := newTestServer(t, f, nil)
	h := srv.Handler()
	for i := range 5 {
		do(t, h, "PUT", "/filter/v2/subscriptions", jsonCT, subBody(fmt.Sprint(i), shard0, ctA)).want(t, 200, jsonCT)
	}
	do(t, h, "PUT", "/filter/v2/subscriptions", jsonCT, subBody("wider", shard0, ctA, ctB)).want(t, 200, jsonCT)
	if n := len(srv.filters.list()); n != 1 {
		t.Fatalf("%d REST subscriptions after refreshes, want 1", n)
	}
	active := f.activeFilterTopics()
	if active[filter.Criterion{PubsubTopic: shard0, ContentTopic: ctA}] != 1 || active[filter.Criterion{PubsubTopic: shard0, ContentTopic: ctB}] != 1 {
		t.Fatalf("node subscriptions %v", active)
	}
	f.filterPush(envelope(t, shard0, ctA, "after refresh"))
	if got := pollFilter(t, h, ctA, 1); len(got) != 1 {
		t.Fatalf("got %+v", got)
	}
}
