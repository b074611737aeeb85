package message

import (
	"bytes"
	"testing"
	"unsafe"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
)

func TestDecodeAliasesPayload(t *testing.T) {
	ts := int64(5)
	raw, err := proto.Marshal(&pb.WakuMessage{Payload: []byte("payload-bytes"), ContentTopic: "/a/1/b/c", Timestamp: &ts, Meta: []byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Decode("/waku/2/rs/1/0", raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := e.Message.Payload
	if !bytes.Equal(p, []byte("payload-bytes")) {
		t.Fatalf("payload %q", p)
	}
	start, end := uintptr(unsafe.Pointer(&raw[0])), uintptr(unsafe.Pointer(&raw[len(raw)-1]))
	if a := uintptr(unsafe.Pointer(&p[0])); a < start || a > end {
		t.Fatal("payload is a copy, not a view of the raw bytes")
	}
	if cap(p) != len(p) {
		t.Fatalf("payload cap %d > len %d: an append could write into raw", cap(p), len(p))
	}
	// Repeated field 1: the last one wins, as in Unmarshal.
	dup := append(append([]byte{}, raw...), 0x0a, 0x02, 'z', 'z')
	e, err = Decode("/t", dup, 0)
	if err != nil || string(e.Message.Payload) != "zz" {
		t.Fatalf("duplicate payload field: %q, %v", e.Message.GetPayload(), err)
	}
}
