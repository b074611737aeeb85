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
	now := time.Unix(1681964442, 0)
	clock := func() time.Time { return now }
	nowNS := now.UnixNano()
	drift := DefaultMaxTimeDrift
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
		name  string
		rules Rules
		m     *pb.WakuMessage
		want  error
	}{
		{"ok", Rules{MaxTimeDrift: drift, Now: clock}, msg(nil), nil},
		{"size at limit", Rules{MaxSize: size, MaxTimeDrift: drift, Now: clock}, msg(nil), nil},
		{"size over limit", Rules{MaxSize: size - 1, MaxTimeDrift: drift, Now: clock}, msg(nil), ErrTooLarge},
		{"default limit holds 150 KiB", Rules{}, msg(func(m *pb.WakuMessage) { m.Payload = make([]byte, DefaultMaxMessageSize-64) }), nil},
		{"default limit rejects more", Rules{}, msg(func(m *pb.WakuMessage) { m.Payload = make([]byte, DefaultMaxMessageSize) }), ErrTooLarge},
		{"meta 64", Rules{}, msg(func(m *pb.WakuMessage) { m.Meta = make([]byte, 64) }), nil},
		{"meta 65", Rules{}, msg(func(m *pb.WakuMessage) { m.Meta = make([]byte, 65) }), ErrMetaTooLarge},
		{"empty content topic", Rules{}, msg(func(m *pb.WakuMessage) { m.ContentTopic = "" }), ErrEmptyContent},
		{"empty payload", Rules{}, msg(func(m *pb.WakuMessage) { m.Payload = nil }), ErrEmptyPayload},
		{"drift +20s accepted", Rules{MaxTimeDrift: drift, Now: clock}, msg(func(m *pb.WakuMessage) { m.Timestamp = proto.Int64(nowNS + int64(drift)) }), nil},
		{"drift -20s accepted", Rules{MaxTimeDrift: drift, Now: clock}, msg(func(m *pb.WakuMessage) { m.Timestamp = proto.Int64(nowNS - int64(drift)) }), nil},
		{"future beyond drift", Rules{MaxTimeDrift: drift, Now: clock}, msg(func(m *pb.WakuMessage) { m.Timestamp = proto.Int64(nowNS + int64(drift) + 1) }), ErrTimestampDrift},
		{"past beyond drift", Rules{MaxTimeDrift: drift, Now: clock}, msg(func(m *pb.WakuMessage) { m.Timestamp = proto.Int64(nowNS - int64(drift) - 1) }), ErrTimestampDrift},
		{"timestamp missing", Rules{MaxTimeDrift: drift, Now: clock}, msg(func(m *pb.WakuMessage) { m.Timestamp = nil }), ErrTimestampMissing},
		{"timestamp zero", Rules{MaxTimeDrift: drift, Now: clock}, msg(func(m *pb.WakuMessage) { m.Timestamp = proto.Int64(0) }), ErrTimestampMissing},
		{"drift disabled: old timestamp", Rules{Now: clock}, msg(func(m *pb.WakuMessage) { m.Timestamp = proto.Int64(1) }), nil},
		{"drift disabled: no timestamp", Rules{Now: clock}, msg(func(m *pb.WakuMessage) { m.Timestamp = nil }), nil},
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
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Check error = %v, want %v", err, c.want)
			}
			if !proto.Equal(before, e.Message) || !bytes.Equal(raw, e.Raw) {
				t.Fatal("Check mutated the envelope")
			}
		})
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
