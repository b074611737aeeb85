package rest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/node"
)

// Two store nodes hold overlapping histories (A m0..m3, B m2..m5); a third node's REST API
// merges them when given both as peerAddr, reports each node's share and honours pageSize as
// the merged limit.
func TestStoreV3SeveralStoreNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes")
	}
	storeNode := func(c *node.Config) { c.Store.Enabled = true; c.Store.DBURL = "sqlite://store.sqlite3" }
	a, restA := e2eNode(t, storeNode)
	b, restB := e2eNode(t, storeNode)
	_, restC := e2eNode(t, func(*node.Config) {})
	topicPath := url.PathEscape(e2eTopic)
	base := time.Now().UnixNano()
	for i := range 6 {
		var targets []string
		if i <= 3 {
			targets = append(targets, restA)
		}
		if i >= 2 {
			targets = append(targets, restB)
		}
		for _, r := range targets {
			if code, body := httpDo(t, "POST", r+"/relay/v1/messages/"+topicPath, relayBody(e2eStoreCT, fmt.Sprintf("m%d", i), base+int64(i))); code != 200 {
				t.Fatalf("publish m%d: %d %s", i, code, body)
			}
		}
	}
	local := url.Values{"pubsubTopic": {e2eTopic}, "contentTopics": {e2eStoreCT}}
	pollStore(t, restA, local, 4)
	pollStore(t, restB, local, 4)

	addrA, addrB := p2pAddr(t, a).String(), p2pAddr(t, b).String()
	get := func(q url.Values) StoreQueryResponse {
		t.Helper()
		code, body := httpDo(t, "GET", restC+"/store/v3/messages?"+q.Encode(), "")
		if code != 200 {
			t.Fatalf("GET %v: %d %s", q, code, body)
		}
		var resp StoreQueryResponse
		if err := json.Unmarshal([]byte(body), &resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	q := url.Values{"pubsubTopic": {e2eTopic}, "contentTopics": {e2eStoreCT}, "includeData": {"true"},
		"peerAddr": {addrA + "," + addrB}, "pageSize": {"100"}}
	resp := get(q)
	all := resp.Messages
	if resp.StatusCode != 200 || len(resp.Messages) != 6 || resp.PaginationCursor != "" {
		t.Fatalf("merged: status %d, %d messages, cursor %q", resp.StatusCode, len(resp.Messages), resp.PaginationCursor)
	}
	for i, m := range resp.Messages {
		if want := b64.EncodeToString([]byte(fmt.Sprintf("m%d", i))); m.Message == nil || m.Message.Payload != want {
			t.Fatalf("message %d = %+v, want payload %s", i, m.Message, want)
		}
	}
	want := []StoreNodeReport{{PeerID: a.ID().String(), Pages: 1, Returned: 4, Unique: 2}, {PeerID: b.ID().String(), Pages: 1, Returned: 4, Unique: 2}}
	if fmt.Sprint(resp.StoreNodes) != fmt.Sprint(want) {
		t.Fatalf("storeNodes %+v, want %+v", resp.StoreNodes, want)
	}

	// Repeated peerAddr, pageSize as the merged limit (the oldest 3), hashes only.
	q = url.Values{"pubsubTopic": {e2eTopic}, "contentTopics": {e2eStoreCT}, "peerAddr": {addrA, addrB}, "pageSize": {"3"}}
	resp = get(q)
	if len(resp.Messages) != 3 || len(resp.StoreNodes) != 2 {
		t.Fatalf("limited: %d messages, %d reports", len(resp.Messages), len(resp.StoreNodes))
	}
	for i, m := range resp.Messages {
		if m.Message != nil || m.MessageHash != all[i].MessageHash {
			t.Fatalf("message %d = %+v, want hash %s only", i, m, all[i].MessageHash)
		}
	}
	// One address is the single-node query, with its cursor.
	q = url.Values{"pubsubTopic": {e2eTopic}, "contentTopics": {e2eStoreCT}, "peerAddr": {addrB}, "pageSize": {"3"}}
	if resp = get(q); len(resp.Messages) != 3 || resp.PaginationCursor == "" || resp.StoreNodes != nil {
		t.Fatalf("single node: %d messages, cursor %q, reports %v", len(resp.Messages), resp.PaginationCursor, resp.StoreNodes)
	}
}

// More than 16 store nodes or one bad address is a 400 before any query; a backend that
// cannot merge answers 501 rather than querying one node only.
func TestStoreV3SeveralStoreNodesRefused(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	addr := func(i int) string {
		return fmt.Sprintf("/ip4/127.0.0.%d/tcp/60000/p2p/%s", i+1, f.ID())
	}
	var many []string
	for i := range 17 {
		many = append(many, addr(i))
	}
	for _, tt := range []struct {
		name  string
		addrs []string
		code  int
		text  string
	}{
		{"too many", many, 400, "at most 16"},
		{"bad second address", []string{addr(0), "/ip4/127.0.0.1/tcp/1"}, 400, "/p2p/"},
		{"no merging backend", []string{addr(0), addr(1)}, 501, "several store nodes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, h, "GET", "/store/v3/messages?"+url.Values{"peerAddr": tt.addrs}.Encode(), "", "")
			if r.code != tt.code || !strings.Contains(r.body, tt.text) {
				t.Fatalf("%d %q, want %d containing %q", r.code, r.body, tt.code, tt.text)
			}
		})
	}
}
