package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/node"
)

const (
	e2eTopic     = "/waku/2/rs/16/3"
	e2eStoreCT   = "/e2e/1/store/proto"
	e2ePushCT    = "/e2e/1/push/proto"
	e2eFilterCT  = "/e2e/1/filter/proto"
	e2eMessages  = 250
	e2ePollLimit = 30 * time.Second
)

// e2eNode starts a loopback node on cluster 16, shard 3, and a REST server over it;
// both stop at cleanup (the server first).
func e2eNode(t *testing.T, mod func(*node.Config)) (*node.Node, string) {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.ListenAddress = "127.0.0.1"
	cfg.TCPPort = 0
	cfg.WebSocketPort = 0
	cfg.ClusterID = 16
	cfg.Shards = []uint16{3}
	cfg.Logger = slog.New(slog.DiscardHandler)
	mod(&cfg)
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	s := New(Config{Logger: cfg.Logger, Admin: true}, NodeBackend(n))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return n, "http://" + s.Addr().String()
}

func httpDo(t *testing.T, method, u, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", jsonCT)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// storeAll follows the pagination cursor of /store/v3/messages and returns every entry and
// the page sizes.
func storeAll(t *testing.T, base string, params url.Values) ([]StoreMessage, []int) {
	t.Helper()
	var all []StoreMessage
	var pages []int
	for {
		code, body := httpDo(t, "GET", base+"/store/v3/messages?"+params.Encode(), "")
		if code != 200 {
			t.Fatalf("store: %d %s", code, body)
		}
		var resp StoreQueryResponse
		if err := json.Unmarshal([]byte(body), &resp); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("store status %d %s", resp.StatusCode, resp.StatusDesc)
		}
		all = append(all, resp.Messages...)
		pages = append(pages, len(resp.Messages))
		if resp.PaginationCursor == "" {
			return all, pages
		}
		params.Set("cursor", resp.PaginationCursor)
	}
}

// pollStore repeats the query until it returns want entries (the archive writes in batches).
func pollStore(t *testing.T, base string, params url.Values, want int) ([]StoreMessage, []int) {
	t.Helper()
	deadline := time.Now().Add(e2ePollLimit)
	for {
		q := url.Values{}
		for k, v := range params {
			q[k] = v
		}
		all, pages := storeAll(t, base, q)
		if len(all) >= want {
			return all, pages
		}
		if time.Now().After(deadline) {
			t.Fatalf("store at %s has %d of %d messages", base, len(all), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func p2pAddr(t *testing.T, n *node.Node) multiaddr.Multiaddr {
	t.Helper()
	for _, a := range n.ListenAddrs() {
		if s := a.String(); strings.Contains(s, "/tcp/") && !strings.Contains(s, "/ws") {
			return a
		}
	}
	t.Fatalf("no tcp address in %v", n.ListenAddrs())
	return nil
}

func relayBody(ct, payload string, ts int64) string {
	return fmt.Sprintf(`{"payload":%q,"contentTopic":%q,"timestamp":%d}`, b64.EncodeToString([]byte(payload)), ct, ts)
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two nodes")
	}
	a, restA := e2eNode(t, func(c *node.Config) {
		c.Store.Enabled = true
		c.Store.DBURL = "sqlite://store.sqlite3"
		c.Lightpush = true
		c.Filter.Enabled = true
	})
	addrA := p2pAddr(t, a)
	_, restB := e2eNode(t, func(c *node.Config) {
		c.LightpushNode = addrA
		c.FilterNode = addrA
	})
	topicPath := url.PathEscape(e2eTopic)

	// 250 messages over REST relay on A, with strictly increasing timestamps.
	base := time.Now().UnixNano()
	for i := range e2eMessages {
		code, body := httpDo(t, "POST", restA+"/relay/v1/messages/"+topicPath, relayBody(e2eStoreCT, fmt.Sprintf("msg-%03d", i), base+int64(i)*1000))
		if code != 200 {
			t.Fatalf("publish %d: %d %s", i, code, body)
		}
	}
	query := url.Values{"pubsubTopic": {e2eTopic}, "contentTopics": {e2eStoreCT}, "includeData": {"true"}, "pageSize": {"100"}}
	check := func(name string, all []StoreMessage, pages []int) {
		t.Helper()
		if len(all) != e2eMessages || fmt.Sprint(pages) != "[100 100 50]" {
			t.Fatalf("%s: %d messages in pages %v", name, len(all), pages)
		}
		seen := map[string]bool{}
		for i, m := range all {
			want := b64.EncodeToString([]byte(fmt.Sprintf("msg-%03d", i)))
			if m.Message == nil || m.Message.Payload != want || m.PubsubTopic != e2eTopic || seen[m.MessageHash] || len(m.MessageHash) != 66 {
				t.Fatalf("%s: entry %d = %+v, want payload %s", name, i, m, want)
			}
			seen[m.MessageHash] = true
		}
	}
	all, pages := pollStore(t, restA, query, e2eMessages)
	check("local", all, pages)

	viaB := url.Values{"peerAddr": {addrA.String()}}
	for k, v := range query {
		viaB[k] = v
	}
	allB, pagesB := storeAll(t, restB, viaB)
	check("via peerAddr", allB, pagesB)

	// Backward: the newest page first, still in ascending order inside the page.
	code, body := httpDo(t, "GET", restA+"/store/v3/messages?"+url.Values{
		"contentTopics": {e2eStoreCT}, "pubsubTopic": {e2eTopic}, "ascending": {"false"}, "pageSize": {"100"}}.Encode(), "")
	var back StoreQueryResponse
	if err := json.Unmarshal([]byte(body), &back); code != 200 || err != nil || len(back.Messages) != 100 ||
		back.Messages[0].MessageHash != all[150].MessageHash || back.Messages[99].MessageHash != all[249].MessageHash ||
		back.Messages[0].Message != nil || back.PaginationCursor != all[150].MessageHash {
		t.Fatalf("backward page: %d %.300s", code, body)
	}

	// Lightpush v3 from B through A lands in A's archive.
	code, body = httpDo(t, "POST", restB+"/lightpush/v3/message",
		fmt.Sprintf(`{"pubsubTopic":%q,"message":%s}`, e2eTopic, relayBody(e2ePushCT, "pushed", time.Now().UnixNano())))
	if code != 200 || !strings.Contains(body, "relayPeerCount") {
		t.Fatalf("lightpush: %d %s", code, body)
	}
	pushed, _ := pollStore(t, restA, url.Values{"pubsubTopic": {e2eTopic}, "contentTopics": {e2ePushCT}, "includeData": {"true"}}, 1)
	if len(pushed) != 1 || pushed[0].Message.Payload != b64.EncodeToString([]byte("pushed")) {
		t.Fatalf("pushed: %+v", pushed)
	}

	// Filter on B (service A) receives what A publishes.
	code, body = httpDo(t, "POST", restB+"/filter/v2/subscriptions",
		fmt.Sprintf(`{"requestId":"e2e","pubsubTopic":%q,"contentFilters":[%q]}`, e2eTopic, e2eFilterCT))
	if code != 200 || body != `{"requestId":"e2e","statusDesc":"OK"}` {
		t.Fatalf("filter subscribe: %d %s", code, body)
	}
	code, body = httpDo(t, "GET", restA+"/admin/v1/filter/subscriptions", "")
	if code != 200 || !strings.Contains(body, e2eFilterCT) {
		t.Fatalf("A's filter subscriptions: %d %s", code, body)
	}
	if code, body := httpDo(t, "GET", restB+"/filter/v2/subscriptions/ping", ""); code != 200 {
		t.Fatalf("filter ping: %d %s", code, body)
	}
	if code, body := httpDo(t, "POST", restA+"/relay/v1/messages/"+topicPath, relayBody(e2eFilterCT, "filtered", time.Now().UnixNano())); code != 200 {
		t.Fatalf("publish for filter: %d %s", code, body)
	}
	deadline := time.Now().Add(e2ePollLimit)
	for {
		code, body := httpDo(t, "GET", restB+"/filter/v2/messages/"+url.PathEscape(e2eFilterCT), "")
		if code != 200 {
			t.Fatalf("filter messages: %d %s", code, body)
		}
		var msgs []FilterWakuMessage
		if err := json.Unmarshal([]byte(body), &msgs); err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 0 {
			if len(msgs) != 1 || msgs[0].Payload != b64.EncodeToString([]byte("filtered")) || msgs[0].ContentTopic != e2eFilterCT {
				t.Fatalf("filter messages: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("filter push not received on B")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
