package message

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
)

func TestEnvelopeDecodeRoundTrip(t *testing.T) {
	const topic = "/waku/2/rs/1/3"
	msgs := []*pb.WakuMessage{
		{Payload: []byte{1, 2, 3}, ContentTopic: "/toychat/2/huilong/proto"},
		{
			Payload: []byte("all fields"), ContentTopic: "/myapp/1/mytopic/cbor",
			Version: proto.Uint32(2), Timestamp: proto.Int64(-5), Meta: []byte("m"),
			RateLimitProof: []byte{9, 9}, Ephemeral: proto.Bool(true),
		},
		{Payload: []byte("ts"), ContentTopic: "/a/1/b/c", Timestamp: proto.Int64(0x175789bfa23f8400)},
	}
	for _, m := range msgs {
		enc, err := NewEnvelope(topic, m, 7)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := Decode(topic, enc.Raw, 8)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(dec.Message, m) {
			t.Fatalf("decoded %v, want %v", dec.Message, m)
		}
		if dec.Hash != enc.Hash || dec.Hash != ComputeHash(topic, m) {
			t.Fatalf("hash mismatch %s vs %s", dec.Hash, enc.Hash)
		}
		if !bytes.Equal(dec.Raw, enc.Raw) || dec.PubsubTopic != topic || dec.ReceivedAt != 8 {
			t.Fatalf("envelope fields wrong: %+v", dec)
		}
	}
}

// The timestamp is sint64 on the wire: zigzag, so -1 is the single byte 0x01.
func TestTimestampZigzag(t *testing.T) {
	raw, err := proto.Marshal(&pb.WakuMessage{Timestamp: proto.Int64(-1)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{10 << 3, 0x01}; !bytes.Equal(raw, want) {
		t.Fatalf("encoded %x, want %x", raw, want)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, raw := range [][]byte{{0xff}, {0x0a, 0x05, 1}, {0x12, 0x02, 0xff, 0xfe}} {
		if _, err := Decode("t", raw, 0); err == nil {
			t.Fatalf("Decode(%x): want error", raw)
		}
	}
}
