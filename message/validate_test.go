package message

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
)

func TestRulesCheck(t *testing.T) {
	nowNS := time.Unix(1681964442, 0).UnixNano()
	msg := func(mut func(m *pb.WakuMessage)) *pb.WakuMessage {
		m := &pb.WakuMessage{Payload: []byte("hello"), ContentTopic: "/toychat/2/huilong/proto", Timestamp: proto.Int64(nowNS)}
		if mut != nil {
			mut(m)
		}
		return m
	}
	base, err := NewEnvelope("/waku/2/rs/1/0", msg(nil), nowNS)
	if err != nil {
		t.Fatal(err)
	}
	size := len(base.Raw)

	cases := []struct {
		name   string
		rules  Rules
		m      *pb.WakuMessage
		want   error
		reason Reason
		status uint32
	}{
		{"ok", Rules{}, msg(nil), nil, "", 0},
		{"size at limit", Rules{MaxSize: size}, msg(nil), nil, "", 0},
		{"size over limit", Rules{MaxSize: size - 1}, msg(nil), ErrTooLarge, ReasonTooLarge, 413},
		{"default limit holds 150 KiB", Rules{}, msg(func(m *pb.WakuMessage) { m.Payload = make([]byte, DefaultMaxMessageSize-64) }), nil, "", 0},
		{"default limit rejects more", Rules{}, msg(func(m *pb.WakuMessage) { m.Payload = make([]byte, DefaultMaxMessageSize) }), ErrTooLarge, ReasonTooLarge, 413},
		{"meta 64", Rules{}, msg(func(m *pb.WakuMessage) { m.Meta = make([]byte, 64) }), nil, "", 0},
		{"meta 65", Rules{}, msg(func(m *pb.WakuMessage) { m.Meta = make([]byte, 65) }), ErrMetaTooLarge, ReasonMetaTooLarge, 420},
		{"empty content topic", Rules{}, msg(func(m *pb.WakuMessage) { m.ContentTopic = "" }), ErrEmptyContent, ReasonEmptyContentTopic, 420},
		{"empty payload", Rules{}, msg(func(m *pb.WakuMessage) { m.Payload = nil }), ErrEmptyPayload, ReasonEmptyPayload, 420},
		// nwaku's relay has no timestamp rule (without RLN): neither have we.
		{"old timestamp", Rules{}, msg(func(m *pb.WakuMessage) { m.Timestamp = proto.Int64(1) }), nil, "", 0},
		{"future timestamp", Rules{}, msg(func(m *pb.WakuMessage) { m.Timestamp = proto.Int64(nowNS + int64(time.Hour)) }), nil, "", 0},
		{"no timestamp", Rules{}, msg(func(m *pb.WakuMessage) { m.Timestamp = nil }), nil, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := NewEnvelope("/waku/2/rs/1/0", c.m, nowNS)
			if err != nil {
				t.Fatal(err)
			}
			before := proto.Clone(e.Message)
			raw := bytes.Clone(e.Raw)
			err = c.rules.Check(e)
			if c.want == nil && err != nil {
				t.Fatalf("Check: %v", err)
			}
			if c.want != nil {
				ve, ok := AsValidationError(err)
				if !errors.Is(err, c.want) || !ok || ve.Reason != c.reason || ve.StatusCode() != c.status {
					t.Fatalf("Check error = %#v, want %v (%s, %d)", err, c.want, c.reason, c.status)
				}
			}
			if !proto.Equal(before, e.Message) || !bytes.Equal(raw, e.Raw) {
				t.Fatal("Check mutated the envelope")
			}
		})
	}
}

// nwaku's exact text: clients match on it.
func TestTooLargeText(t *testing.T) {
	m := &pb.WakuMessage{Payload: make([]byte, DefaultMaxMessageSize), ContentTopic: "/a/1/b/c"}
	e, err := NewEnvelope("/waku/2/rs/1/0", m, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = Rules{}.Check(e)
	if err == nil || err.Error() != "Message size exceeded maximum of 153600 bytes" {
		t.Fatalf("error text %q", err)
	}
}

func TestDecodeChecked(t *testing.T) {
	r := Rules{MaxSize: 100}
	if _, err := r.DecodeChecked("t", []byte{0xff, 0xff}, 0); !errors.Is(err, ErrUndecodable) {
		t.Fatalf("garbage: %v", err)
	} else if ve, _ := AsValidationError(err); ve.Reason != ReasonDecode || ve.StatusCode() != 400 {
		t.Fatalf("garbage: %#v", ve)
	}
	if _, err := r.DecodeChecked("t", make([]byte, 101), 0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	raw, _ := proto.Marshal(&pb.WakuMessage{Payload: []byte("x"), ContentTopic: "/a/1/b/c"})
	e, err := r.DecodeChecked("t", raw, 7)
	if err != nil || e.ReceivedAt != 7 || e.Hash != ComputeHash("t", e.Message) {
		t.Fatalf("valid: %v %v", e, err)
	}
}

func TestValidatorRoute(t *testing.T) {
	served := map[string]bool{"/waku/2/rs/1/0": true, "/waku/2/rs/1/2": true, LegacyDefaultPubsubTopic: true}
	auto := func(ct string) (Shard, error) { // a stand-in for sharding.Autosharding
		if _, err := ParseContentTopic(ct); err != nil {
			return Shard{}, err
		}
		return Shard{Cluster: 1, Index: 2}, nil
	}
	v := Validator{Cluster: 1, Served: func(t string) bool { return served[t] }, Autoshard: auto}
	noAuto := Validator{Cluster: 1}
	for _, tc := range []struct {
		name      string
		v         Validator
		topic, ct string
		want      string
		reason    Reason
		status    uint32
	}{
		{"static served", v, "/waku/2/rs/1/0", "anything", "/waku/2/rs/1/0", "", 0},
		{"autosharded", v, "", "/app/1/chat/proto", "/waku/2/rs/1/2", "", 0},
		{"bad content topic", v, "", "app/1/chat/proto", "", ReasonContentTopic, 420},
		{"empty content topic", v, "", "", "", ReasonEmptyContentTopic, 420},
		{"no autosharding", noAuto, "", "/app/1/chat/proto", "", ReasonNoPubsubTopic, 400},
		{"no autosharding, any served", noAuto, "/waku/2/rs/1/9", "x", "/waku/2/rs/1/9", "", 0},
		{"other cluster", v, "/waku/2/rs/2/0", "x", "", ReasonWrongCluster, 421},
		{"unserved shard", v, "/waku/2/rs/1/1", "x", "", ReasonUnservedShard, 421},
		{"not a shard", v, "/waku/2/default-waku/proto", "x", "", ReasonPubsubTopic, 421},
		{"shard out of range", v, "/waku/2/rs/1/1024", "x", "", ReasonPubsubTopic, 421},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.v.Route(tc.topic, tc.ct)
			if tc.reason == "" {
				if err != nil || got != tc.want {
					t.Fatalf("Route = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			ve, ok := AsValidationError(err)
			if !ok || ve.Reason != tc.reason || ve.StatusCode() != tc.status || ve.Text == "" {
				t.Fatalf("Route error %#v, want %s (%d)", err, tc.reason, tc.status)
			}
		})
	}
}

func TestValidatorValidate(t *testing.T) {
	v := Validator{Cluster: 1, Rules: Rules{MaxSize: 64}}
	m := &pb.WakuMessage{Payload: []byte("hi"), ContentTopic: "/a/1/b/c"}
	e, err := v.Validate("/waku/2/rs/1/3", m, 5)
	if err != nil || e.PubsubTopic != "/waku/2/rs/1/3" || e.Hash != ComputeHash("/waku/2/rs/1/3", m) || e.ReceivedAt != 5 {
		t.Fatalf("Validate = %+v, %v", e, err)
	}
	if _, err := v.Validate("/waku/2/rs/1/3", &pb.WakuMessage{Payload: make([]byte, 64), ContentTopic: "/a/1/b/c"}, 0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	if _, err := v.Validate("/waku/2/rs/1/3", nil, 0); err == nil {
		t.Fatal("nil message accepted")
	}
}

// Size is measured on the bytes as received, not on a re-encoding.
func TestRulesCheckUsesRawSize(t *testing.T) {
	m := &pb.WakuMessage{Payload: []byte("x"), ContentTopic: "/a/1/b/c"}
	raw, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	// Unknown field 99 padding: decodes to the same message, but the raw bytes are larger.
	padded := append(bytes.Clone(raw), 0x9a, 0x06, 0x04, 1, 2, 3, 4)
	e, err := Decode("t", padded, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := (Rules{MaxSize: len(raw)}).Check(e); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Check = %v, want ErrTooLarge", err)
	}
}
