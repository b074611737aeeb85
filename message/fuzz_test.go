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

// FuzzValidate drives the validation path of the non-gossip doors with arbitrary topics and
// messages: a refusal is always a *ValidationError with a known status; an acceptance is on a
// served shard of our cluster, hashed as ComputeHash says.
func FuzzValidate(f *testing.F) {
	f.Add("/waku/2/rs/1/0", "/app/1/chat/proto", []byte("hi"), []byte{})
	f.Add("", "/app/1/chat/proto", []byte("hi"), make([]byte, 65))
	f.Add("/waku/2/rs/2/0", "", []byte{}, []byte{})
	f.Add("/waku/2/rs/1/99999", "bad", []byte("x"), []byte{})
	v := Validator{Cluster: 1, Rules: Rules{MaxSize: 256},
		Served: func(t string) bool { return len(t) < 40 },
		Autoshard: func(ct string) (Shard, error) {
			c, err := ParseContentTopic(ct)
			return Shard{Cluster: 1, Index: uint16(len(c.Application) % 8)}, err
		}}
	codes := map[uint32]bool{400: true, 413: true, 420: true, 421: true}
	f.Fuzz(func(t *testing.T, topic, ct string, payload, meta []byte) {
		m := &pb.WakuMessage{ContentTopic: ct, Payload: payload, Meta: meta}
		e, err := v.Validate(topic, m, 0)
		if err != nil {
			ve, ok := AsValidationError(err)
			if !ok || !codes[ve.StatusCode()] || ve.Reason == "" || ve.Text == "" {
				t.Fatalf("refusal %#v", err)
			}
			return
		}
		s, perr := ParseShard(e.PubsubTopic)
		if perr != nil || s.Cluster != 1 || !v.Served(e.PubsubTopic) || e.Hash != ComputeHash(e.PubsubTopic, m) {
			t.Fatalf("accepted %q (%v)", e.PubsubTopic, perr)
		}
		if len(e.Raw) > 256 || len(meta) > MaxMetaSize || len(payload) == 0 || ct == "" {
			t.Fatal("accepted a message the rules refuse")
		}
	})
}
