package storesync

import (
	"bytes"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	spb "github.com/wakunode/wakunode/storesync/pb"
)

// FuzzDecode: no input crashes the decoder, and whatever decodes re-encodes to bytes that
// decode to the same ranges.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0})
	f.Add(unhex(f, "010e2f77616b752f322f72732f312f30008080a8b1e39fe7cb1780c0e285e36801f4b46904ca22e480c94b7ed6fec26d792c3b95f89ca8623872f3992b7a724826"))
	f.Add(unhex(f, "00008080a8b1e39fe7cb170001ca00"))
	f.Add((&Payload{Ranges: []Range{{Upper: ID{Time: 5}, Type: ItemSet, Items: []ID{{Time: 1}}}}}).Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b, 1000)
		if err != nil || len(p.Ranges) == 0 {
			return
		}
		again, err := Decode(p.Encode(), 1000)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !equalRanges(again.Ranges, p.Ranges) && !bytes.Equal(again.Encode(), p.Encode()) {
			t.Fatalf("round trip changed ranges")
		}
	})
}

// FuzzTransferAdmit: any transfer frame is either refused with a cause or yields an envelope
// that is in scope and inside the window.
func FuzzTransferAdmit(f *testing.F) {
	s := New(nil, nil, Config{PubsubTopics: []string{tpc}, Validate: message.Rules{}.Check})
	s.peers["p"] = &peerState{active: 1}
	ts := time.Now().UnixNano()
	e, _ := message.NewEnvelope(tpc, &pb.WakuMessage{Payload: []byte("x"), ContentTopic: ct, Timestamp: &ts}, ts)
	good, _ := proto.Marshal(&spb.WakuMessageAndTopic{Pubsub: &e.PubsubTopic, Message: e.Raw})
	f.Add(good)
	f.Add([]byte{0x0a, 0x00, 0x12, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		s.peers["p"].accepted = 0
		env, reason, err := s.admit("p", b)
		if err != nil {
			if reason == "" {
				t.Fatal("refusal without a cause")
			}
			return
		}
		if env.PubsubTopic != tpc || env.Message.GetEphemeral() || message.ComputeHash(env.PubsubTopic, env.Message) != env.Hash {
			t.Fatalf("admitted %+v", env)
		}
	})
}
