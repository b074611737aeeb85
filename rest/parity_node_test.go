package rest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/sharding"
)

// TestNodeParity checks nwaku's observable REST behaviour over a real node on loopback
// (cluster 16, shard 3, autosharding over 8 shards with one --content-topic, lightpush and a
// SQLite store).
func TestNodeParity(t *testing.T) {
	const ct = "/parity/1/chat/proto"
	_, api := e2eNode(t, func(c *node.Config) {
		c.NumShardsInNetwork = 8
		c.ContentTopics = []string{ct}
		c.Lightpush = true
		c.Store.Enabled = true
		c.Store.DBURL = "sqlite://store.sqlite3"
	})
	sh, err := sharding.Autosharding{Cluster: 16, NumShards: 8}.Shard(ct)
	if err != nil {
		t.Fatal(err)
	}
	ctShard := sh.PubsubTopic()
	get := func(path string) []RelayWakuMessage {
		t.Helper()
		code, body := httpDo(t, "GET", api+path, "")
		var out []RelayWakuMessage
		if code != 200 || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		return out
	}
	// getAtLeast polls until the relay has delivered n messages to the cache (asynchronously).
	getAtLeast := func(path string, n int) []RelayWakuMessage {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		var all []RelayWakuMessage
		for {
			all = append(all, get(path)...)
			if len(all) >= n || time.Now().After(deadline) {
				return all
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	post := func(path, body string, wantCode int, wantBody string) {
		t.Helper()
		code, got := httpDo(t, "POST", api+path, body)
		if code != wantCode || (wantBody != "" && got != wantBody) {
			t.Fatalf("POST %s: %d %q, want %d %q", path, code, got, wantCode, wantBody)
		}
	}

	t.Run("another cluster's shard", func(t *testing.T) {
		other := "/waku/2/rs/99/4"
		post("/relay/v1/subscriptions", `["`+other+`"]`, 200, "OK")
		post("/relay/v1/messages/"+url.PathEscape(other), relayBody("/x/1/y/proto", "foreign", time.Now().UnixNano()), 200, "OK")
		if got := getAtLeast("/relay/v1/messages/"+url.PathEscape(other), 1); len(got) != 1 {
			t.Fatalf("messages on %s: %+v", other, got)
		}
	})

	t.Run("content topic read from the shard's traffic, once", func(t *testing.T) {
		post("/relay/v1/messages/"+url.PathEscape(ctShard), relayBody(ct, "before any GET", time.Now().UnixNano()), 200, "OK")
		got := getAtLeast("/relay/v1/auto/messages/"+url.PathEscape(ct), 1)
		if len(got) != 1 || got[0].Payload != b64.EncodeToString([]byte("before any GET")) {
			t.Fatalf("first auto GET: %+v", got)
		}
		if got := get("/relay/v1/messages/" + url.PathEscape(ctShard)); len(got) != 0 {
			t.Fatalf("read again by pubsub topic: %+v", got)
		}
	})

	t.Run("lightpush stamps and refuses a duplicate", func(t *testing.T) {
		post("/lightpush/v1/message", fmt.Sprintf(`{"pubsubTopic":%q,"message":{"payload":"aGk=","contentTopic":%q}}`, e2eTopic, ct), 200, "OK")
		body := fmt.Sprintf(`{"pubsubTopic":%q,"message":%s}`, e2eTopic, relayBody(ct, "twice", time.Now().UnixNano()))
		post("/lightpush/v1/message", body, 200, "OK")
		post("/lightpush/v1/message", body, 503, "Failed to request a message push: not_published_to_any_peer")
		post("/lightpush/v3/message", body, 505, `{"statusDesc":"No peers for topic, skipping publish"}`)
	})

	t.Run("store refusal is an HTTP error", func(t *testing.T) {
		q := "pubsubTopic=" + url.QueryEscape(e2eTopic) + "&contentTopics=" + url.QueryEscape(ct)
		code, body := httpDo(t, "GET", api+"/store/v3/messages?pageSize=-1&"+q, "")
		if code != 200 {
			t.Fatalf("pageSize=-1: %d %s", code, body)
		}
		code, body = httpDo(t, "GET", api+"/store/v3/messages?"+q+"&cursor="+hexHash(9), "")
		if code != 500 || body == "" {
			t.Fatalf("unknown cursor: %d %q", code, body)
		}
	})
}
