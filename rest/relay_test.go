package rest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/sharding"
)

const (
	shard0    = "/waku/2/rs/1/0"
	shard0Enc = "%2Fwaku%2F2%2Frs%2F1%2F0"
	chatCT    = "/toychat/2/huilong/proto"
)

func TestRelaySubscriptions(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()

	r := do(t, h, "POST", "/relay/v1/subscriptions", jsonCT, `["/waku/2/rs/1/0","/waku/2/rs/1/7"]`)
	r.want(t, 200, "text/plain")
	if r.body != "OK" || !f.IsSubscribed(shard0) || !f.IsSubscribed("/waku/2/rs/1/7") {
		t.Fatalf("body %q subs %v", r.body, f.RelayTopics())
	}
	// Subscribing again is fine (the fake errors if the server re-subscribes).
	do(t, h, "POST", "/relay/v1/subscriptions", jsonCT, `["/waku/2/rs/1/0"]`).want(t, 200, "text/plain")
	// Another cluster's shard is relayed on request, as nwaku does.
	do(t, h, "POST", "/relay/v1/subscriptions", jsonCT, `["/waku/2/rs/2/0"]`).want(t, 200, "text/plain")
	if !f.IsSubscribed("/waku/2/rs/2/0") {
		t.Fatalf("other cluster's shard not subscribed: %v", f.RelayTopics())
	}
	do(t, h, "DELETE", "/relay/v1/subscriptions", jsonCT, `["/waku/2/rs/2/0"]`).want(t, 200, "text/plain")

	bad := []struct{ name, ctype, body, wantSub string }{
		{"not static sharding", jsonCT, `["/waku/2/default-waku/proto"]`, "Invalid pubsub topic"},
		{"shard out of range", jsonCT, `["/waku/2/rs/1/1024"]`, "1023"},
		{"one bad among good", jsonCT, `["/waku/2/rs/1/3","garbage"]`, "garbage"},
		{"missing body", jsonCT, ``, "Missing"},
		{"null", jsonCT, `null`, "Missing"},
		{"not strings", jsonCT, `[1,2]`, "array of strings"},
		{"wrong content type", "text/plain", `["/waku/2/rs/1/0"]`, "Wrong Content-Type"},
		{"no content type", "", `["/waku/2/rs/1/0"]`, "Wrong Content-Type"},
	}
	for _, method := range []string{"POST", "DELETE"} {
		for _, tc := range bad {
			t.Run(method+" "+tc.name, func(t *testing.T) {
				r := do(t, h, method, "/relay/v1/subscriptions", tc.ctype, tc.body)
				r.want(t, 400, "text/plain")
				if !strings.Contains(r.body, tc.wantSub) {
					t.Errorf("body %q lacks %q", r.body, tc.wantSub)
				}
			})
		}
	}
	if f.IsSubscribed("/waku/2/rs/1/3") {
		t.Error("a request with an invalid topic still subscribed the valid one")
	}

	do(t, h, "DELETE", "/relay/v1/subscriptions", jsonCT, `["/waku/2/rs/1/7","/waku/2/rs/1/5"]`).want(t, 200, "text/plain")
	if f.IsSubscribed("/waku/2/rs/1/7") || !f.IsSubscribed(shard0) {
		t.Errorf("after DELETE: %v", f.RelayTopics())
	}

	f.mu.Lock()
	f.subs = map[string]bool{}
	f.mu.Unlock()
	failing := &failingSubscribe{fakeNode: f}
	s2 := New(Config{}, backendOf(failing))
	defer s2.Close()
	r = do(t, s2.Handler(), "POST", "/relay/v1/subscriptions", jsonCT, `["/waku/2/rs/1/0"]`)
	r.want(t, 503, "text/plain")
}

type failingSubscribe struct{ *fakeNode }

func (f *failingSubscribe) RelaySubscribeAnyCluster(string) error {
	return fmt.Errorf("subscribe: %w", node.ErrRelayDisabled)
}

// deliverMsg puts a message on the fake bus as if relay had received it.
func deliverMsg(t *testing.T, f *fakeNode, topic, ct, payload string, ts int64) {
	t.Helper()
	m := &pb.WakuMessage{Payload: []byte(payload), ContentTopic: ct, Timestamp: &ts}
	e, err := message.NewEnvelope(topic, m, ts)
	if err != nil {
		t.Fatal(err)
	}
	f.deliver(e)
}

func getMessages(t *testing.T, h http.Handler, path string) []RelayWakuMessage {
	t.Helper()
	r := do(t, h, "GET", path, "", "")
	r.want(t, 200, "application/json")
	var out []RelayWakuMessage
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	if out == nil {
		t.Fatalf("%s: want a JSON array, got %s", path, r.body)
	}
	return out
}

func TestRelayGetMessages(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler() // capacity 3
	path := "/relay/v1/messages/" + shard0Enc

	r := do(t, h, "GET", path, "", "")
	r.want(t, 404, "text/plain")
	if !strings.Contains(r.body, shard0) {
		t.Errorf("404 body %q", r.body)
	}

	do(t, h, "POST", "/relay/v1/subscriptions", jsonCT, `["`+shard0+`"]`).want(t, 200, "text/plain")
	if r := do(t, h, "GET", path, "", ""); r.body != "[]" {
		t.Fatalf("empty cache: %s", r.body)
	}

	// Exact JSON shape: proof always present, meta only when set.
	ts := int64(1700000000123456789)
	meta := []byte{1, 2}
	m := &pb.WakuMessage{Payload: []byte("hi"), ContentTopic: chatCT, Timestamp: &ts, Meta: meta}
	e, _ := message.NewEnvelope(shard0, m, ts)
	f.deliver(e)
	deliverMsg(t, f, "/waku/2/rs/1/5", chatCT, "other topic", ts) // not ours to return
	r = do(t, h, "GET", path, "", "")
	want := `[{"payload":"aGk=","contentTopic":"/toychat/2/huilong/proto","version":0,"timestamp":1700000000123456789,"meta":"AQI=","ephemeral":false,"proof":""}]`
	if r.body != want {
		t.Fatalf("got  %s\nwant %s", r.body, want)
	}
	if r := do(t, h, "GET", path, "", ""); r.body != "[]" {
		t.Fatalf("cache not cleared on read: %s", r.body)
	}

	// Capacity 3: the newest three survive, oldest first.
	for i := range 5 {
		deliverMsg(t, f, shard0, chatCT, fmt.Sprint("m", i), ts+int64(i))
	}
	got := getMessages(t, h, path)
	var payloads []string
	for _, m := range got {
		b, _ := base64.StdEncoding.DecodeString(m.Payload)
		payloads = append(payloads, string(b))
	}
	if strings.Join(payloads, ",") != "m2,m3,m4" {
		t.Errorf("capacity: got %v", payloads)
	}

	// Unsubscribed: 404 again.
	do(t, h, "DELETE", "/relay/v1/subscriptions", jsonCT, `["`+shard0+`"]`).want(t, 200, "text/plain")
	do(t, h, "GET", path, "", "").want(t, 404, "text/plain")
}

// TestEncodedSlashOverTCP checks the encoded path survives a real HTTP round trip and
// ServeMux's path cleaning: %2F (and %2f) stay inside the segment.
func TestEncodedSlashOverTCP(t *testing.T) {
	f := newFakeNode(t)
	f.subs[shard0] = true
	s := newTestServer(t, f, nil)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	for _, p := range []string{
		"/relay/v1/messages/" + shard0Enc,
		"/relay/v1/messages/" + strings.ToLower(shard0Enc),
		"/relay/v1/messages/" + url.PathEscape(shard0),
	} {
		res, err := http.Post(srv.URL+p, jsonCT, strings.NewReader(`{"payload":"aGk=","contentTopic":"`+chatCT+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", p, res.StatusCode, b)
		}
		if got := f.lastPublished(t).PubsubTopic; got != shard0 {
			t.Fatalf("POST %s published on %q", p, got)
		}
		res, err = http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), `"payload":"aGk="`) {
			t.Fatalf("GET %s: %d %s", p, res.StatusCode, b)
		}
	}
	// An unencoded topic is a different path, not this endpoint.
	res, err := http.Get(srv.URL + "/relay/v1/messages" + shard0)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("unencoded topic: %d", res.StatusCode)
	}

	// Content topics with slashes, same mechanism.
	do(t, s.Handler(), "POST", "/relay/v1/auto/subscriptions", jsonCT, `["`+chatCT+`"]`).want(t, 200, "text/plain")
	res, err = http.Get(srv.URL + "/relay/v1/auto/messages/" + url.PathEscape(chatCT))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("auto GET: %d", res.StatusCode)
	}
}

func TestRelayPostMessage(t *testing.T) {
	f := newFakeNode(t)
	f.subs[shard0] = true
	h := newTestServer(t, f, func(c *Config) { c.MaxBodyBytes = 4096 }).Handler()
	path := "/relay/v1/messages/" + shard0Enc

	r := do(t, h, "POST", path, "application/json; charset=utf-8",
		`{"payload":"aGVsbG8=","contentTopic":"`+chatCT+`","version":2,"timestamp":1700000000000000001,"meta":"AQI=","ephemeral":true,"proof":"AAE="}`)
	r.want(t, 200, "text/plain")
	if r.body != "OK" {
		t.Errorf("body %q", r.body)
	}
	m := f.lastPublished(t).Message
	if string(m.Payload) != "hello" || m.ContentTopic != chatCT || m.GetVersion() != 2 || m.GetTimestamp() != 1700000000000000001 ||
		string(m.Meta) != "\x01\x02" || !m.GetEphemeral() || string(m.RateLimitProof) != "\x00\x01" {
		t.Errorf("published %v", m)
	}

	before := time.Now().UnixNano()
	do(t, h, "POST", path, jsonCT, `{"payload":"aGk=","contentTopic":"`+chatCT+`","timestamp":0}`).want(t, 200, "text/plain")
	if ts := f.lastPublished(t).Message.GetTimestamp(); ts < before {
		t.Errorf("timestamp 0 not stamped: %d", ts)
	}
	// The published message reaches the cache through the bus, once.
	if got := getMessages(t, h, path); len(got) != 2 {
		t.Errorf("cache after two publishes: %d", len(got))
	}

	big := base64.StdEncoding.EncodeToString(make([]byte, 2000)) // fake node's MaxSize is 1024
	huge := strings.Repeat("A", 8000)                            // beyond MaxBodyBytes
	tests := []struct{ name, ctype, body, wantSub string }{
		{"wrong content type", "text/plain", `{"payload":"aGk=","contentTopic":"/a/1/b/c"}`, "Wrong Content-Type"},
		{"form content type", "application/x-www-form-urlencoded", `{"payload":"aGk=","contentTopic":"/a/1/b/c"}`, "Wrong Content-Type"},
		{"duplicate key", jsonCT, `{"payload":"aGk=","payload":"aGk=","contentTopic":"/a/1/b/c"}`, "duplicate key"},
		{"bad base64", jsonCT, `{"payload":"not base64!","contentTopic":"/a/1/b/c"}`, "invalid payload"},
		{"unpadded base64", jsonCT, `{"payload":"aGk","contentTopic":"/a/1/b/c"}`, "invalid payload"},
		{"bad meta", jsonCT, `{"payload":"aGk=","contentTopic":"/a/1/b/c","meta":"%%"}`, "invalid meta"},
		{"missing payload", jsonCT, `{"contentTopic":"/a/1/b/c"}`, "payload"},
		{"empty payload", jsonCT, `{"payload":"","contentTopic":"/a/1/b/c"}`, "payload"},
		{"payload wrong case", jsonCT, `{"Payload":"aGk=","contentTopic":"/a/1/b/c"}`, `unknown field "Payload"`},
		{"missing contentTopic", jsonCT, `{"payload":"aGk="}`, "contentTopic"},
		{"unknown field", jsonCT, `{"payload":"aGk=","contentTopic":"/a/1/b/c","extra":1}`, `unknown field "extra"`},
		{"null timestamp", jsonCT, `{"payload":"aGk=","contentTopic":"/a/1/b/c","timestamp":null}`, "invalid timestamp"},
		{"negative version", jsonCT, `{"payload":"aGk=","contentTopic":"/a/1/b/c","version":-1}`, "invalid version"},
		{"string timestamp", jsonCT, `{"payload":"aGk=","contentTopic":"/a/1/b/c","timestamp":"1"}`, "invalid timestamp"},
		{"not an object", jsonCT, `["x"]`, "WakuMessage"},
		{"trailing data", jsonCT, `{"payload":"aGk=","contentTopic":"/a/1/b/c"} {}`, "after the JSON value"},
		{"truncated", jsonCT, `{"payload":"aGk=",`, "invalid JSON"},
		{"empty body", jsonCT, ``, "Missing"},
		{"oversize message", jsonCT, `{"payload":"` + big + `","contentTopic":"/a/1/b/c"}`, "size exceeded"},
		{"oversize body", jsonCT, `{"payload":"` + huge + `","contentTopic":"/a/1/b/c"}`, "exceeds 4096 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, h, "POST", path, tc.ctype, tc.body)
			r.want(t, 400, "text/plain")
			if !strings.Contains(r.body, tc.wantSub) {
				t.Errorf("body %q lacks %q", r.body, tc.wantSub)
			}
		})
	}

	r = do(t, h, "POST", "/relay/v1/messages/"+url.PathEscape("/waku/2/rs/1/9"), jsonCT, `{"payload":"aGk=","contentTopic":"/a/1/b/c"}`)
	r.want(t, 400, "text/plain")
	if !strings.Contains(r.body, "not subscribed") {
		t.Errorf("unsubscribed topic: %q", r.body)
	}

	for _, tc := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("relay publish: %w", errTimeout{}), 500},
		{fmt.Errorf("x: %w", node.ErrNotStarted), 503},
		{fmt.Errorf("relay publish: %w", message.Rules{}.CheckSize(200000)), 400},
	} {
		f.publishErr = tc.err
		r := do(t, h, "POST", path, jsonCT, `{"payload":"aGk=","contentTopic":"/a/1/b/c"}`)
		r.want(t, tc.code, "text/plain")
		if !strings.HasPrefix(r.body, "Failed to publish: ") {
			t.Errorf("%v: body %q", tc.err, r.body)
		}
	}
}

// errTimeout is a context.DeadlineExceeded look-alike from deep inside the node.
type errTimeout struct{}

func (errTimeout) Error() string { return "deadline" }
func (errTimeout) Is(target error) bool {
	return target == contextDeadline
}

func TestAutoRelay(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	auto := sharding.Autosharding{Cluster: 1, NumShards: 8}
	sh, err := auto.Shard(chatCT)
	if err != nil {
		t.Fatal(err)
	}
	shardTopic := sh.PubsubTopic()
	getPath := "/relay/v1/auto/messages/" + url.PathEscape(chatCT)

	do(t, h, "GET", getPath, "", "").want(t, 404, "text/plain")

	for _, tc := range []struct{ name, body, wantSub string }{
		{"bad content topic", `["nope"]`, "Invalid content topic"},
		{"too few segments", `["/a/b"]`, "Invalid content topic"},
	} {
		r := do(t, h, "POST", "/relay/v1/auto/subscriptions", jsonCT, tc.body)
		r.want(t, 400, "text/plain")
		if !strings.Contains(r.body, tc.wantSub) {
			t.Errorf("%s: %q", tc.name, r.body)
		}
	}

	do(t, h, "POST", "/relay/v1/auto/subscriptions", jsonCT, `["`+chatCT+`"]`).want(t, 200, "text/plain")
	if !f.IsSubscribed(shardTopic) {
		t.Fatalf("autoshard %s not subscribed: %v", shardTopic, f.RelayTopics())
	}
	if got := getMessages(t, h, getPath); len(got) != 0 {
		t.Fatalf("fresh subscription: %v", got)
	}

	r := do(t, h, "POST", "/relay/v1/auto/messages", jsonCT, `{"payload":"aGk=","contentTopic":"`+chatCT+`"}`)
	r.want(t, 200, "text/plain")
	if got := f.lastPublished(t).PubsubTopic; got != shardTopic {
		t.Errorf("published on %s, want %s", got, shardTopic)
	}
	deliverMsg(t, f, shardTopic, "/other/1/x/proto", "not this content topic", 1)
	got := getMessages(t, h, getPath)
	if len(got) != 1 || got[0].ContentTopic != chatCT || got[0].Payload != "aGk=" {
		t.Fatalf("auto GET: %+v", got)
	}
	if got := getMessages(t, h, getPath); len(got) != 0 {
		t.Fatalf("not cleared on read: %+v", got)
	}

	for _, tc := range []struct{ name, body, wantSub string }{
		{"missing contentTopic", `{"payload":"aGk="}`, "contentTopic"},
		{"bad contentTopic", `{"payload":"aGk=","contentTopic":"bad"}`, "Failed to publish"},
		{"duplicate", `{"payload":"aGk=","contentTopic":"/a/1/b/c","contentTopic":"/a/1/b/c"}`, "duplicate key"},
	} {
		r := do(t, h, "POST", "/relay/v1/auto/messages", jsonCT, tc.body)
		r.want(t, 400, "text/plain")
		if !strings.Contains(r.body, tc.wantSub) {
			t.Errorf("%s: %q", tc.name, r.body)
		}
	}

	do(t, h, "DELETE", "/relay/v1/auto/subscriptions", jsonCT, `["`+chatCT+`"]`).want(t, 200, "text/plain")
	if f.IsSubscribed(shardTopic) {
		t.Error("shard still subscribed after the last content topic left")
	}
	do(t, h, "GET", getPath, "", "").want(t, 404, "text/plain")

	// A content topic whose shard the node relays anyway (--content-topic) is served from
	// the shard's traffic: the first GET returns what arrived before it.
	f.mu.Lock()
	f.subs[shardTopic] = true
	f.mu.Unlock()
	deliverMsg(t, f, shardTopic, chatCT, "early", 2)
	if got := getMessages(t, h, getPath); len(got) != 1 || got[0].Payload != b64.EncodeToString([]byte("early")) {
		t.Fatalf("first GET of a relayed shard's content topic: %+v", got)
	}

	f.numShards = 0
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/relay/v1/auto/subscriptions", `["` + chatCT + `"]`},
		{"POST", "/relay/v1/auto/messages", `{"payload":"aGk=","contentTopic":"` + chatCT + `"}`},
	} {
		r := do(t, h, tc.method, tc.path, jsonCT, tc.body)
		r.want(t, 400, "text/plain")
		if !strings.Contains(r.body, "autosharding") {
			t.Errorf("%s %s without autosharding: %q", tc.method, tc.path, r.body)
		}
	}
}

// TestRelayOneCache: the pubsub-topic and content-topic reads share one cache, and a read
// consumes: a message read by content topic does not come back by pubsub topic, nor the
// reverse.
func TestRelayOneCache(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, func(c *Config) { c.RelayCacheCapacity = 10 }).Handler()
	sh, err := sharding.Autosharding{Cluster: 1, NumShards: 8}.Shard(chatCT)
	if err != nil {
		t.Fatal(err)
	}
	shardTopic := sh.PubsubTopic()
	byPubsub := "/relay/v1/messages/" + url.PathEscape(shardTopic)
	byContent := "/relay/v1/auto/messages/" + url.PathEscape(chatCT)
	do(t, h, "POST", "/relay/v1/subscriptions", jsonCT, `["`+shardTopic+`"]`).want(t, 200, "text/plain")

	deliverMsg(t, f, shardTopic, chatCT, "chat-1", 1)
	deliverMsg(t, f, shardTopic, "/other/1/x/proto", "other", 2)
	deliverMsg(t, f, shardTopic, chatCT, "chat-2", 3)
	if got := getMessages(t, h, byContent); len(got) != 2 || got[0].Payload != b64.EncodeToString([]byte("chat-1")) {
		t.Fatalf("by content topic: %+v", got)
	}
	if got := getMessages(t, h, byPubsub); len(got) != 1 || got[0].Payload != b64.EncodeToString([]byte("other")) {
		t.Fatalf("by pubsub topic after the content read: %+v", got)
	}
	deliverMsg(t, f, shardTopic, chatCT, "chat-3", 4)
	if got := getMessages(t, h, byPubsub); len(got) != 1 {
		t.Fatalf("by pubsub topic: %+v", got)
	}
	if got := getMessages(t, h, byContent); len(got) != 0 {
		t.Fatalf("read twice, by pubsub then content topic: %+v", got)
	}
}
