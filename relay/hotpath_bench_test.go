package relay

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// countingSink stands in for the node's bus.
type countingSink struct{ n int }

func (s *countingSink) Deliver(*message.Envelope) { s.n++ }

// BenchmarkReceivePath is relay's own work per message received from a peer, without the
// network: the message id, the validator (size, decode, rules, hash), the tracer's byte and
// acceptance accounting, the duplicate set and the hand-off to the sink. issue 14's profiles
// compare it before and after; run it under callgrind for instruction counts.
func BenchmarkReceivePath(b *testing.B) {
	for _, size := range []int{1024, 10240} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			topic := "/waku/2/rs/1/3"
			raw, err := proto.Marshal(&pb.WakuMessage{Payload: make([]byte, size),
				ContentTopic: "/toychat/2/huilong/proto", Timestamp: proto.Int64(1)})
			if err != nil {
				b.Fatal(err)
			}
			cfg := Config{}
			cfg.setDefaults()
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			sink := &countingSink{}
			r := &Relay{cfg: cfg, log: cfg.Logger, sink: sink, tr: newTracer(cfg.Metrics),
				seen: message.NewRecentHashes(maxSeen, cfg.Params.SeenMessagesTTL)}
			rpc := &pubsub.RPC{RPC: pubsubpb.RPC{Publish: []*pubsubpb.Message{{Data: raw, Topic: &topic}}}}
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				pm := &pubsubpb.Message{Data: raw, Topic: &topic}
				msg := &pubsub.Message{Message: pm}
				r.tr.RecvRPC(rpc)
				_ = MsgID(pm)
				if r.validateRemote(msg) != pubsub.ValidationAccept {
					b.Fatal("rejected")
				}
				r.tr.DeliverMessage(msg)
				r.tr.SendRPC(rpc, "")
				env := msg.ValidatorData.(*message.Envelope)
				// A new hash each time, as on the wire, and never the decoded one, which the
				// validator would then find in the duplicate set.
				binary.BigEndian.PutUint64(env.Hash[:8], uint64(i))
				env.Hash[31] ^= 1
				r.seen.Add(env.Hash, r.now())
				r.sink.Deliver(env)
			}
		})
	}
}
