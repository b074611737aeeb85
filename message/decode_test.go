package message

import (
	"testing"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
)

// decodeSeeds are inputs where a hand decoder typically parts from proto.Unmarshal.
func decodeSeeds(t testing.TB) [][]byte {
	full, err := proto.Marshal(&pb.WakuMessage{Payload: []byte{1, 2}, ContentTopic: "/a/1/b/c",
		Version: proto.Uint32(1), Timestamp: proto.Int64(-5), Meta: []byte{7}, RateLimitProof: []byte{9},
		Ephemeral: proto.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	tag := func(b []byte, n protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(b, n, typ) }
	var seeds [][]byte
	add := func(b []byte) { seeds = append(seeds, b) }
	add(full)
	add(nil)
	add(protowire.AppendBytes(tag(nil, fieldMeta, protowire.BytesType), nil))                  // empty meta: present
	add(protowire.AppendBytes(tag(nil, fieldPayload, protowire.BytesType), nil))               // empty payload: unset
	add(protowire.AppendBytes(tag(nil, fieldContentTopic, protowire.BytesType), []byte{0xff})) // invalid UTF-8
	add(protowire.AppendVarint(tag(nil, fieldPayload, protowire.VarintType), 3))               // known field, wrong type
	add(protowire.AppendBytes(tag(nil, fieldTimestamp, protowire.BytesType), []byte{1}))       // known field, wrong type
	add(protowire.AppendFixed32(tag(full, 99, protowire.Fixed32Type), 1))                      // unknown field
	add(tag(tag(nil, 7, protowire.StartGroupType), 7, protowire.EndGroupType))                 // unknown group
	add(tag(nil, 7, protowire.EndGroupType))                                                   // stray end group
	add(protowire.AppendVarint(tag(nil, fieldVersion, protowire.VarintType), 1<<40))           // uint32 truncation
	add(protowire.AppendVarint(tag(nil, fieldEphemeral, protowire.VarintType), 2))             // bool from 2
	add([]byte{0x0a, 0x05, 1})                                                                 // truncated bytes
	add([]byte{0x80})                                                                          // truncated tag
	add(append([]byte{0xf8, 0xff, 0xff, 0xff, 0x0f}, 0))                                       // field number > max
	add(append(append([]byte{}, full...), full...))                                            // every field twice
	return seeds
}

func TestUnmarshalMatchesProto(t *testing.T) {
	for i, raw := range decodeSeeds(t) {
		checkUnmarshal(t, i, raw)
	}
}

func FuzzUnmarshalMatchesProto(f *testing.F) {
	for _, s := range decodeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) { checkUnmarshal(t, 0, raw) })
}

// checkUnmarshal holds unmarshal to proto.Unmarshal's result and checks that its bytes
// fields are capped views of raw.
func checkUnmarshal(t *testing.T, i int, raw []byte) {
	t.Helper()
	want := &pb.WakuMessage{}
	werr := proto.Unmarshal(raw, want)
	got, err := unmarshal(raw)
	if (err != nil) != (werr != nil) {
		t.Fatalf("seed %d %x: error %v, proto.Unmarshal %v", i, raw, err, werr)
	}
	if err != nil {
		if err.Error() != werr.Error() {
			t.Fatalf("seed %d %x: error %q, proto.Unmarshal %q", i, raw, err, werr)
		}
		return
	}
	if !proto.Equal(got, want) {
		t.Fatalf("seed %d %x: got %v, proto.Unmarshal %v", i, raw, got, want)
	}
	if string(got.ProtoReflect().GetUnknown()) != string(want.ProtoReflect().GetUnknown()) {
		t.Fatalf("seed %d %x: unknown fields %x, proto.Unmarshal %x", i, raw, got.ProtoReflect().GetUnknown(), want.ProtoReflect().GetUnknown())
	}
	for _, v := range [][]byte{got.Payload, got.Meta, got.RateLimitProof} {
		if len(v) == 0 {
			continue
		}
		if cap(v) != len(v) {
			t.Fatalf("seed %d: a field's cap %d > len %d: an append could write into raw", i, cap(v), len(v))
		}
		start, end := uintptr(unsafe.Pointer(&raw[0])), uintptr(unsafe.Pointer(&raw[len(raw)-1]))
		if a := uintptr(unsafe.Pointer(&v[0])); a < start || a > end {
			t.Fatalf("seed %d: a bytes field is a copy, not a view of raw", i)
		}
	}
}
