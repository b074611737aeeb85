package rest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/node"
)

// TestNwakuErrorTexts: the answers clients match on carry nwaku's text.
func TestNwakuErrorTexts(t *testing.T) {
	f := newFakeNode(t)
	f.subs[shard0] = true
	h := newTestServer(t, f, func(c *Config) { c.Admin = true }).Handler()
	many := make([]string, filter.MaxContentTopicsPerRequest+1)
	for i := range many {
		many[i] = fmt.Sprintf("/app/1/t%d/proto", i)
	}
	filterDesc := func(method, path, body string, code int) string {
		t.Helper()
		r := do(t, h, method, path, jsonCT, body)
		r.want(t, code, jsonCT)
		var resp FilterSubscriptionResponse
		if err := json.Unmarshal([]byte(r.body), &resp); err != nil {
			t.Fatal(err)
		}
		return resp.StatusDesc
	}

	if d := filterDesc("GET", "/filter/v2/subscriptions/p1", "", 404); d != "NOT_FOUND: peer has no subscriptions" {
		t.Errorf("ping without subscriptions: %q", d)
	}
	if d := filterDesc("POST", "/filter/v2/subscriptions", subBody("1", shard0, many...), 400); d != "BAD_REQUEST: exceeds maximum content topics: 100" {
		t.Errorf("101 content topics: %q", d)
	}
	for _, body := range []string{`{"contentFilters":["/a/1/b/proto"]}`, `{"requestId":null,"contentFilters":["/a/1/b/proto"]}`, `{"requestId":7}`} {
		if d := filterDesc("POST", "/filter/v2/subscriptions", body, 400); d != "bad request id" {
			t.Errorf("%s: %q", body, d)
		}
	}
	f.mu.Lock()
	f.svc.filterErr = fmt.Errorf("%w: 16Uiu2HAm: connection refused", node.ErrDialFailure)
	f.mu.Unlock()
	if d := filterDesc("POST", "/filter/v2/subscriptions", subBody("2", shard0, ctA), 504); !strings.HasPrefix(d, "PEER_DIAL_FAILURE: ") {
		t.Errorf("dial failure: %q", d)
	}
	f.mu.Lock()
	f.svc.filterErr = &filter.StatusError{Code: filter.StatusNotFound, Desc: "NOT_FOUND: peer has no subscriptions"}
	f.mu.Unlock()
	if d := filterDesc("GET", "/filter/v2/subscriptions/p2", "", 404); d != "NOT_FOUND: peer has no subscriptions" {
		t.Errorf("nwaku service's own prefixed text: %q", d)
	}

	r := do(t, h, "POST", "/admin/v1/peers", jsonCT, `["garbage"]`)
	r.want(t, 400, "text/plain")
	if !strings.Contains(r.body, "Invalid MultiAddress") {
		t.Errorf("admin peers: %q", r.body)
	}
	r = do(t, h, "GET", "/store/v3/messages?peerAddr=garbage", "", "")
	r.want(t, 400, "text/plain")
	if !strings.HasPrefix(r.body, "Invalid MultiAddress") {
		t.Errorf("store peerAddr: %q", r.body)
	}

	big := base64.StdEncoding.EncodeToString(make([]byte, 2000)) // the fake's MaxSize is 1024
	r = do(t, h, "POST", "/relay/v1/messages/"+url.PathEscape(shard0), jsonCT, `{"payload":"`+big+`","contentTopic":"/a/1/b/proto"}`)
	r.want(t, 400, "text/plain")
	if r.body != "Failed to publish: Message size exceeded maximum of 1024 bytes" {
		t.Errorf("relay too large: %q", r.body)
	}
}
