package rest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
)

func TestCheckJSON(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{`{}`, ""},
		{` [1, "a", {"a":{"a":1}}, null] `, ""},
		{`{"a":1,"b":{"a":1,"b":2}}`, ""},
		{`{"a":1,"a":1}`, "duplicate key"},
		{`{"a":{"x":1,"x":2}}`, "duplicate key"},
		{`[{"x":1},{"y":1,"y":1}]`, "duplicate key"},
		{`{"a":1}{"a":1}`, "after the JSON value"},
		{`{"a":1`, "invalid JSON"},
		{`{"a" 1}`, "invalid JSON"},
		{`{"a":1,}`, "invalid JSON"},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), "nesting"},
	}
	for _, tc := range tests {
		err := checkJSON([]byte(tc.in))
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("checkJSON(%.40s) = %v, want %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestMessageRoundTrip(t *testing.T) {
	v, ts, ts2, eph := uint32(1), int64(-5), int64(1700000000000000001), true
	msgs := []*pb.WakuMessage{
		{Payload: []byte{0}, ContentTopic: "/a/1/b/c", Timestamp: &ts2},
		{Payload: []byte("\xff\xfe payload"), ContentTopic: "x", Version: &v, Timestamp: &ts, Meta: []byte("m"), RateLimitProof: []byte{1, 2, 3}, Ephemeral: &eph},
	}
	for _, m := range msgs {
		b, err := json.Marshal(toRelayMessage(m))
		if err != nil {
			t.Fatal(err)
		}
		if err := checkJSON(b); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		got, err := decodeMessage(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !proto.Equal(got, m) {
			t.Errorf("round trip %s:\n got  %v\n want %v", b, got, m)
		}
	}
}

// TestDecodeMessageStrict: nwaku's reader refuses unknown keys and null values; an absent or
// zero timestamp is stamped with the current time.
func TestDecodeMessageStrict(t *testing.T) {
	for _, body := range []string{
		`{"payload":"AA==","contentTopic":"x","rateLimitProof":"AA=="}`,
		`{"payload":"AA==","contentTopic":"x","extra":1}`,
		`{"payload":"AA==","contentTopic":"x","timestamp":null}`,
		`{"payload":"AA==","contentTopic":"x","version":null}`,
		`{"payload":"AA==","contentTopic":"x","meta":null}`,
		`{"payload":null,"contentTopic":"x"}`,
	} {
		if m, err := decodeMessage([]byte(body)); err == nil {
			t.Errorf("%s accepted as %v", body, m)
		}
	}
	before := time.Now().UnixNano()
	for _, body := range []string{`{"payload":"AA==","contentTopic":"x"}`, `{"payload":"AA==","contentTopic":"x","timestamp":0}`} {
		m, err := decodeMessage([]byte(body))
		if err != nil || m.GetTimestamp() < before || m.GetTimestamp() > time.Now().UnixNano() {
			t.Errorf("%s: timestamp %d, err %v", body, m.GetTimestamp(), err)
		}
	}
}

// FuzzDecodeMessage: the request path (checkJSON then decodeMessage) never panics, accepts only
// valid JSON, and whatever it accepts survives encode → decode unchanged.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"payload":"aGk=","contentTopic":"/a/1/b/c"}`,
		`{"payload":"aGk=","contentTopic":"/a/1/b/c","version":2,"timestamp":1700000000000000001,"meta":"AQI=","ephemeral":true,"proof":"AAE="}`,
		`{"payload":"aGk=","payload":"aGk="}`,
		`{"payload":"aGk","contentTopic":1}`,
		`[{"a":[{"b":null}]}]`,
		`{"version":-1,"timestamp":1e3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := checkJSON(b); err != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("checkJSON accepted invalid JSON %q", b)
		}
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		if len(m.Payload) == 0 || m.ContentTopic == "" {
			t.Fatalf("accepted a message without payload or content topic: %q", b)
		}
		out, err := json.Marshal(toRelayMessage(m))
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeMessage(out)
		if err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if !proto.Equal(m, again) {
			t.Fatalf("round trip changed the message:\n %v\n %v", m, again)
		}
	})
}
