package sds

import (
	"bytes"
	"encoding/hex"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/sds/pb"
)

func ptr[T any](v T) *T { return &v }

// sds.md §10 vectors, byte for byte, and their classes.
func TestEncodingVectors(t *testing.T) {
	id, prev := hexSHA("hello"), hexSHA("world")
	ab := bytes.Repeat([]byte{0xab}, 32)
	cases := []struct {
		name  string
		m     *pb.SdsMessage
		hex   string
		class Class
	}{
		{"content", &pb.SdsMessage{SenderId: "alice", MessageId: id, ChannelId: "chan", LamportTimestamp: ptr(uint64(1_700_000_000_000)),
			CausalHistory: []*pb.HistoryEntry{{MessageId: prev, RetrievalHint: ab, SenderId: ptr("bob")}}, BloomFilter: []byte{1, 2}, Content: []byte("hello")},
			"0a05616c6963651240326366323464626135666230613330653236653833623261633562396532396531623136316535633166613734323565373330343333363239333862393832341a046368616e5080d095ffbc315a690a40343836656134363232346431626234666236383066333466376339616439366138663234656338386265373365613865356136633635323630653963623861371220abababababababababababababababababababababababababababababababab1a03626f6262020102a2010568656c6c6f",
			Content},
		{"sync", &pb.SdsMessage{SenderId: "alice", MessageId: "sync-abc", ChannelId: "chan", LamportTimestamp: ptr(uint64(1_700_000_000_001)), CausalHistory: []*pb.HistoryEntry{{MessageId: prev}}},
			"0a05616c696365120873796e632d6162631a046368616e5081d095ffbc315a420a40" + hex.EncodeToString([]byte(prev)), Sync},
		{"ephemeral", &pb.SdsMessage{SenderId: "alice", MessageId: id, ChannelId: "chan", Content: []byte("hi")},
			"0a05616c6963651240" + hex.EncodeToString([]byte(id)) + "1a046368616ea201026869", Ephemeral},
		{"repair", &pb.SdsMessage{SenderId: "alice", MessageId: "sync-x", ChannelId: "chan", LamportTimestamp: ptr(uint64(5)), RepairRequest: []*pb.HistoryEntry{{MessageId: prev, SenderId: ptr("bob")}}},
			"0a05616c696365120673796e632d781a046368616e50056a470a40" + hex.EncodeToString([]byte(prev)) + "1a03626f62", Sync},
		{"lamport 0", &pb.SdsMessage{SenderId: "a", MessageId: "s", ChannelId: "c", LamportTimestamp: ptr(uint64(0)), CausalHistory: []*pb.HistoryEntry{{MessageId: "x"}}},
			"0a01611201731a016350005a030a0178", Sync},
	}
	for _, tc := range cases {
		b, err := Encode(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != tc.hex {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.hex)
		}
		d, err := Decode(b)
		if err != nil || !proto.Equal(d, tc.m) || ClassOf(d) != tc.class {
			t.Errorf("%s: decode %v class %v", tc.name, err, ClassOf(d))
		}
	}
	if _, err := Decode([]byte{0x0a, 0x01, 0x61}); err == nil {
		t.Error("message without lamport and content decoded")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x0a, 0x01, 0x61, 0x12, 0x01, 0x73, 0x1a, 0x01, 0x63, 0x50, 0x00, 0x5a, 0x03, 0x0a, 0x01, 0x78})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		if ClassOf(m) == Invalid {
			t.Fatal("invalid class decoded")
		}
		c := NewChannel(Config{ChannelID: m.GetChannelId(), SenderID: "fuzz"})
		c.Receive(b, nil)
	})
}
