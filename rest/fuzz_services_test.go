package rest

import (
	"encoding/json"
	"log/slog"
	"net/url"
	"testing"

	"github.com/wakunode/wakunode/store"
)

// FuzzStoreQuery: any query string either is refused or yields a request within the
// store's bounds; the legacy parser must not panic either.
func FuzzStoreQuery(f *testing.F) {
	for _, s := range []string{
		"", "includeData=true&pageSize=1000&ascending=false", "hashes=0x" + "ab" + "&cursor=zz",
		"contentTopics=%2Fa%2F1%2Fb%2Fc,,&startTime=-1&endTime=99",
		"pubsubTopic=x&senderTime=1&storeTime=2&digest=" + url.QueryEscape(b64.EncodeToString(hashOf(1))),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if req, err := parseStoreQuery(q); err == nil {
			if l := req.GetPaginationLimit(); l == 0 || l > store.MaxPageSize {
				t.Fatalf("page size %d from %q", l, raw)
			}
			for _, h := range req.MessageHashes {
				if len(h) != 32 {
					t.Fatalf("hash of %d bytes from %q", len(h), raw)
				}
			}
			if c := req.PaginationCursor; c != nil && len(c) != 32 {
				t.Fatalf("cursor of %d bytes from %q", len(c), raw)
			}
		}
		if hq, err := parseLegacyQuery(q); err == nil {
			if l := hq.GetPagingInfo().GetPageSize(); l == 0 || l > store.MaxPageSize {
				t.Fatalf("legacy page size %d from %q", l, raw)
			}
		}
	})
}

// FuzzServiceBodies sends arbitrary bodies to the lightpush and filter endpoints over the
// fake: each answers 200 or a 4xx/5xx, and filter answers always carry a requestId.
func FuzzServiceBodies(f *testing.F) {
	for _, s := range []string{
		pushBody, `{"message":null}`, `{"requestId":"1","contentFilters":["/a/1/b/proto"]}`,
		`{"requestId":"1","pubsubTopic":"/waku/2/rs/1/0","contentFilters":["/a/1/b/proto","/a/1/c/proto"]}`, `[]`, `{`,
	} {
		f.Add(s)
	}
	fn := newFakeNode(f)
	s := New(Config{Logger: slog.New(slog.DiscardHandler)}, backendOf(fn))
	f.Cleanup(func() { _ = s.Close() })
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		for _, c := range []struct{ method, path string }{
			{"POST", "/lightpush/v3/message"}, {"POST", "/lightpush/v1/message"},
			{"POST", "/filter/v2/subscriptions"}, {"DELETE", "/filter/v2/subscriptions"},
			{"DELETE", "/filter/v2/subscriptions/all"},
		} {
			r := do(t, h, c.method, c.path, jsonCT, body)
			if r.code != 200 && (r.code < 400 || r.code > 599) {
				t.Fatalf("%s %s: status %d for %q", c.method, c.path, r.code, body)
			}
			if c.path[1] == 'f' {
				var resp FilterSubscriptionResponse
				if err := json.Unmarshal([]byte(r.body), &resp); err != nil || resp.StatusDesc == "" {
					t.Fatalf("%s %s: body %q for %q", c.method, c.path, r.body, body)
				}
			}
		}
	})
}
