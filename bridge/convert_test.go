package bridge

import (
	"errors"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/wakuv1"
	"github.com/wakunode/wakunode/wakuv1/payload"
)

func TestContentTopicMapping(t *testing.T) {
	if got := ContentTopic(wakuv1.Topic{0x12, 0x34, 0x56, 0x78}); got != "/waku/1/0x12345678/rfc26" {
		t.Fatalf("ContentTopic = %s", got)
	}
	for _, tc := range []struct {
		ct         string
		topic      wakuv1.Topic
		bridgeable bool
		err        bool
	}{
		{"/waku/1/0x12345678/rfc26", wakuv1.Topic{0x12, 0x34, 0x56, 0x78}, true, false},
		{"/waku/1/0xdeadbeef/proto", wakuv1.Topic{0xde, 0xad, 0xbe, 0xef}, true, false}, // encoding is not checked (nwaku)
		{"/0/waku/1/0x00000001/rfc26", wakuv1.Topic{0, 0, 0, 1}, true, false},
		{"/waku/2/0x12345678/rfc26", wakuv1.Topic{}, false, false},
		{"/toychat/1/0x12345678/rfc26", wakuv1.Topic{}, false, false},
		{"not a topic", wakuv1.Topic{}, false, false},
		{"/waku/1/12345678/rfc26", wakuv1.Topic{}, true, true},
		{"/waku/1/0x123456/rfc26", wakuv1.Topic{}, true, true},
		{"/waku/1/0xzz345678/rfc26", wakuv1.Topic{}, true, true},
	} {
		topic, ok, err := V1Topic(tc.ct)
		if ok != tc.bridgeable || (err != nil) != tc.err || (err == nil && topic != tc.topic) {
			t.Errorf("%s: topic %v bridgeable %v err %v", tc.ct, topic, ok, err)
		}
		if tc.err && !errors.Is(err, ErrValue) {
			t.Errorf("%s: err %v is not ErrValue", tc.ct, err)
		}
	}
}

func TestToV2Fields(t *testing.T) {
	e := &wakuv1.Envelope{Expiry: 1700000050, TTL: 50, Topic: wakuv1.Topic{1, 2, 3, 4}, Data: []byte("data"), Nonce: 77}
	m := ToV2(e)
	if string(m.Payload) != "data" || m.ContentTopic != "/waku/1/0x01020304/rfc26" || m.GetVersion() != 1 ||
		m.GetTimestamp() != 1700000000*int64(time.Second) || m.Meta != nil || m.Ephemeral != nil {
		t.Fatalf("message %+v", m)
	}
}

func TestV1Data(t *testing.T) {
	v1 := uint32(1)
	m := &pb.WakuMessage{Payload: []byte("already 7/WAKU-DATA"), Version: &v1}
	if d, _ := v1Data(m); string(d) != "already 7/WAKU-DATA" {
		t.Fatalf("version 1 payload changed: %q", d)
	}
	m0 := &pb.WakuMessage{Payload: []byte("plain")}
	d, err := v1Data(m0)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := v1Data(m0)
	dm, err := payload.Decode(d)
	if err != nil || string(dm.Payload) != "plain" || len(d)%256 != 0 || string(again) != string(d) {
		t.Fatalf("version 0 wrap: %v %q, %d bytes, deterministic %v", err, dm.Payload, len(d), string(again) == string(d))
	}
}

func TestSentTime(t *testing.T) {
	now := int64(1700000000)
	ts := func(s int64) *pb.WakuMessage { v := s * 1e9; return &pb.WakuMessage{Timestamp: &v} }
	for _, tc := range []struct {
		m    *pb.WakuMessage
		want int64
	}{
		{ts(now), now},
		{ts(now - 2), now - 2},   // 3 s of a 5 s ttl left: the message's own time
		{ts(now - 4), now},       // too little life left: now
		{ts(now + 30), now},      // from the future: now
		{&pb.WakuMessage{}, now}, // no timestamp
	} {
		if got := sentTime(tc.m, 5, now); got != tc.want {
			t.Errorf("timestamp %d: sent %d, want %d", tc.m.GetTimestamp(), got, tc.want)
		}
	}
}

func TestSeenSetBounds(t *testing.T) {
	s := newSeenSet(time.Minute, 3)
	now := time.Unix(1000, 0)
	k := func(b byte) key { return key{b} }
	for i := byte(1); i <= 3; i++ {
		if s.add(k(i), markSeen, now) != 0 {
			t.Fatal("fresh key reported seen")
		}
	}
	if s.add(k(2), markSeen, now) != markSeen {
		t.Fatal("key 2 forgotten")
	}
	s.add(k(4), markOwn, now) // evicts the oldest (1)
	if s.len() != 3 || s.add(k(1), markSeen, now) != 0 {
		t.Fatal("entry bound not applied oldest-first")
	}
	if s.add(k(4), markSeen, now) != markOwn {
		t.Fatal("mark not kept")
	}
	later := now.Add(2 * time.Minute)
	if s.add(k(4), markSeen, later) != 0 || s.len() != 1 {
		t.Fatalf("entries outlived the ttl: %d left", s.len())
	}
}
