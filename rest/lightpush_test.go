package rest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
)

const pushBody = `{"pubsubTopic":"/waku/2/rs/1/0","message":{"payload":"aGk=","contentTopic":"/toychat/2/huilong/proto","timestamp":5}}`

// pushBodyAt is pushBody with timestamp ts: another message (hash) for each ts.
func pushBodyAt(ts int) string {
	return fmt.Sprintf(`{"pubsubTopic":"/waku/2/rs/1/0","message":{"payload":"aGk=","contentTopic":"/toychat/2/huilong/proto","timestamp":%d}}`, ts)
}

func TestLightpushV3(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	f.svc.pushPeers = 4
	r := do(t, h, "POST", "/lightpush/v3/message", jsonCT, pushBody)
	r.want(t, 200, jsonCT)
	if r.body != `{"relayPeerCount":4}` {
		t.Fatalf("body %s", r.body)
	}
	m := f.svc.pushed[0]
	if f.svc.pushTopic != shard0 || f.svc.pushLegacy || string(m.Payload) != "hi" || m.ContentTopic != chatCT || m.GetTimestamp() != 5 {
		t.Fatalf("pushed %v on %q legacy=%v", m, f.svc.pushTopic, f.svc.pushLegacy)
	}
	// No pubsubTopic: the node derives it.
	do(t, h, "POST", "/lightpush/v3/message", jsonCT, `{"message":{"payload":"aGk=","contentTopic":"/a/1/b/proto"}}`).want(t, 200, jsonCT)
	if f.svc.pushTopic != "" {
		t.Fatalf("topic %q", f.svc.pushTopic)
	}

	bad := []struct{ name, ctype, body, want string }{
		{"no message", jsonCT, `{"pubsubTopic":"/waku/2/rs/1/0"}`, "message"},
		{"null message", jsonCT, `{"message":null}`, "message"},
		{"empty payload", jsonCT, `{"message":{"payload":"","contentTopic":"/a/1/b/proto"}}`, "payload"},
		{"bad base64", jsonCT, `{"message":{"payload":"!!","contentTopic":"/a/1/b/proto"}}`, "base64"},
		{"topic not a string", jsonCT, `{"pubsubTopic":1,"message":{"payload":"aGk=","contentTopic":"/a/1/b/proto"}}`, "pubsubTopic"},
		{"duplicate key", jsonCT, `{"message":{"payload":"aGk=","contentTopic":"/a"},"message":{}}`, "duplicate"},
		{"array", jsonCT, `[]`, "invalid JSON"},
		{"unknown message field", jsonCT, `{"message":{"payload":"aGk=","contentTopic":"/a/1/b/proto","extra":"x"}}`, `unknown field "extra"`},
		{"unknown request field", jsonCT, `{"message":{"payload":"aGk=","contentTopic":"/a/1/b/proto"},"peer":"x"}`, `unknown field "peer"`},
		{"null timestamp", jsonCT, `{"message":{"payload":"aGk=","contentTopic":"/a/1/b/proto","timestamp":null}}`, "invalid timestamp"},
		{"content type", "text/plain", pushBody, "Content-Type"},
	}
	for _, path := range []string{"/lightpush/v3/message", "/lightpush/v1/message"} {
		for _, tc := range bad {
			t.Run(path+" "+tc.name, func(t *testing.T) {
				r := do(t, h, "POST", path, tc.ctype, tc.body)
				r.want(t, 400, "text/plain")
				if !strings.Contains(r.body, tc.want) {
					t.Fatalf("body %q lacks %q", r.body, tc.want)
				}
			})
		}
	}
}

func TestLightpushV3Status(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	cases := []struct {
		err  error
		code int
		desc string
	}{
		{&lightpush.StatusError{Code: 421, Desc: "shard not served"}, 421, "shard not served"},
		{fmt.Errorf("push: %w", &lightpush.StatusError{Code: 429, Desc: "slow down"}), 429, "slow down"},
		{&lightpush.StatusError{Code: 505, Desc: "no peers"}, 505, "no peers"},
		{&lightpush.StatusError{Code: 413}, 413, "413"},
		{&lightpush.StatusError{Code: 0, Desc: "nonsense"}, 500, "nonsense"},
		{fmt.Errorf("x: %w", node.ErrNoServicePeer), 503, msgNoLightpushPeer},
		{context.DeadlineExceeded, 503, msgPushTimeout},
		{fmt.Errorf("relay publish: %w", message.Rules{}.CheckSize(200000)), 413, `"Message size exceeded maximum of 153600 bytes"`},
		{fmt.Errorf("%w: 16Uiu2: no route", node.ErrDialFailure), 505, `"dial_failure"`},
		{refusal(t, "/waku/2/rs/1/0", &pb.WakuMessage{ContentTopic: chatCT}), 420, `"missing Payload field"`},
		{refusal(t, "/waku/2/rs/2/0", &pb.WakuMessage{ContentTopic: chatCT, Payload: []byte("x")}), 421, "cluster 2"},
		{refusal(t, "", &pb.WakuMessage{ContentTopic: chatCT, Payload: []byte("x")}), 400, "autosharding"},
		{fmt.Errorf("%w: x", lightpush.ErrInvalidMessage), 420, "invalid"},
		{fmt.Errorf("%w: /waku/2/rs/1/9", lightpush.ErrUnsupportedTopic), 421, "not served"},
		{node.ErrRelayDisabled, 503, "relay"},
		{lightpush.ErrNoPeersToRelay, 505, "no peers"},
		{errFake, 500, "fake"},
	}
	for i, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			f.mu.Lock()
			f.svc.pushErr = tc.err
			f.mu.Unlock()
			r := do(t, h, "POST", "/lightpush/v3/message", jsonCT, pushBodyAt(100+i))
			r.want(t, tc.code, jsonCT)
			if !strings.HasPrefix(r.body, `{"statusDesc":`) || !strings.Contains(r.body, tc.desc) || strings.Contains(r.body, "relayPeerCount") {
				t.Fatalf("body %s lacks %q", r.body, tc.desc)
			}
		})
	}
}

func TestLightpushLegacy(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	r := do(t, h, "POST", "/lightpush/v1/message", jsonCT, pushBody)
	r.want(t, 200, "text/plain")
	if r.body != "OK" || !f.svc.pushLegacy || f.svc.pushTopic != shard0 {
		t.Fatalf("body %q legacy=%v topic=%q", r.body, f.svc.pushLegacy, f.svc.pushTopic)
	}
	cases := []struct {
		err  error
		code int
		want string
	}{
		{&lightpush.StatusError{Desc: legacyRateLimitInfo}, 429, msgLegacyRateLimited},
		{&lightpush.StatusError{Desc: "refused"}, 503, "refused"},
		{node.ErrNoServicePeer, 503, msgNoLightpushPeer},
		{context.DeadlineExceeded, 503, msgPushTimeout},
		{fmt.Errorf("relay: %w", refusal(t, "/waku/2/rs/1/0", &pb.WakuMessage{ContentTopic: chatCT})), 400, "Invalid message: missing Payload field"},
		{errFake, 503, "Failed to request a message push"},
		{fmt.Errorf("%w: 16Uiu2: no route", node.ErrDialFailure), 503, "Failed to request a message push: dial_failure"},
		{fmt.Errorf("relay publish: %w", message.Rules{}.CheckSize(200000)), 400, "Invalid message: Message size exceeded maximum of 153600 bytes"},
	}
	for i, tc := range cases {
		f.mu.Lock()
		f.svc.pushErr = tc.err
		f.mu.Unlock()
		r := do(t, h, "POST", "/lightpush/v1/message", jsonCT, pushBodyAt(100+i))
		r.want(t, tc.code, "text/plain")
		if !strings.Contains(r.body, tc.want) {
			t.Errorf("%v: body %q lacks %q", tc.err, r.body, tc.want)
		}
	}
}

// TestLightpushDuplicate: a message this node already relayed or pushed within gossipsub's
// seen window reaches no relay peer; nwaku answers 505 (v3) and 503 not_published_to_any_peer
// (legacy) rather than 200.
func TestLightpushDuplicate(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	// relay answers a message it carried within gossipsub's seen window with ErrDuplicate
	// (relay.TestPublishDuplicate; a real node in TestNodeParity): REST gives nwaku's answers.
	f.svc.pushErr = fmt.Errorf("relay publish on %s: %w", shard0, message.ErrDuplicate)
	r := do(t, h, "POST", "/lightpush/v3/message", jsonCT, pushBodyAt(7))
	r.want(t, 505, jsonCT)
	if r.body != `{"statusDesc":"No peers for topic, skipping publish"}` {
		t.Fatalf("v3 duplicate: %s", r.body)
	}
	r = do(t, h, "POST", "/lightpush/v1/message", jsonCT, pushBodyAt(7))
	r.want(t, 503, "text/plain")
	if r.body != "Failed to request a message push: not_published_to_any_peer" {
		t.Fatalf("legacy duplicate: %q", r.body)
	}
}

// TestLightpushStampsTimestamp: a push without timestamp gets the current time, as relay
// publish does (nwaku stamps every REST message).
func TestLightpushStampsTimestamp(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	before := time.Now().UnixNano()
	for i, path := range []string{"/lightpush/v1/message", "/lightpush/v3/message"} {
		do(t, h, "POST", path, jsonCT, `{"pubsubTopic":"/waku/2/rs/1/0","message":{"payload":"aGk=","contentTopic":"/a/1/b/proto"}}`).want(t, 200, "")
		if ts := f.svc.pushed[i].GetTimestamp(); ts < before || ts > time.Now().UnixNano() {
			t.Fatalf("%s: pushed timestamp %d", path, ts)
		}
	}
}

// refusal is the validation path's answer (cluster 1, no autosharding) to m on topic; the
// node's lightpush returns exactly these.
func refusal(t *testing.T, topic string, m *pb.WakuMessage) error {
	t.Helper()
	_, err := message.Validator{Cluster: 1}.Validate(topic, m, 0)
	if err == nil {
		t.Fatalf("%v on %q passed validation", m, topic)
	}
	return err
}
