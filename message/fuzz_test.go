package message

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
)

func FuzzDecode(f *testing.F) {
	seed, _ := proto.Marshal(&pb.WakuMessage{Payload: []byte{1}, ContentTopic: "/a/1/b/c", Timestamp: proto.Int64(5), Meta: []byte{7}})
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := Decode("/waku/2/rs/1/0", raw, 0)
		if err != nil {
			return
		}
		if e.Hash != ComputeHash("/waku/2/rs/1/0", e.Message) {
			t.Fatal("hash differs from ComputeHash")
		}
		// Whatever decodes re-encodes and decodes to the same message.
		again, err := proto.Marshal(e.Message)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := Decode("/waku/2/rs/1/0", again, 0)
		if err != nil || e2.Hash != e.Hash {
			t.Fatalf("re-decode: %v", err)
		}
		_ = Rules{}.Check(e)
	})
}

func FuzzParseTopics(f *testing.F) {
	for _, s := range []string{"/toychat/2/huilong/proto", "/0/a/1/b/c", "invalid", "/waku/2/rs/1/4", "/waku/2/rs/1", "/waku/2/rs/65535/1023/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ct, err := ParseContentTopic(s); err == nil {
			back, err := ParseContentTopic(ct.String())
			if err != nil || back != ct {
				t.Fatalf("content topic %q -> %q -> %+v, %v", s, ct.String(), back, err)
			}
		} else if !errors.Is(err, ErrContentTopicSlash) && !errors.Is(err, ErrContentTopicStructure) {
			t.Fatalf("content topic %q: unexpected error %v", s, err)
		}
		if sh, err := ParseShard(s); err == nil {
			if sh.Index > MaxShardIndex {
				t.Fatalf("%q: shard %d accepted", s, sh.Index)
			}
			back, err := ParseShard(sh.PubsubTopic())
			if err != nil || back != sh {
				t.Fatalf("shard %q -> %q -> %+v, %v", s, sh.PubsubTopic(), back, err)
			}
		}
	})
}
