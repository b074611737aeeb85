package lightpush

import (
	"context"
	"testing"

	"github.com/wakunode/wakunode/message"
	mpb "github.com/wakunode/wakunode/message/pb"
)

type envelopeSink struct{ got []*message.Envelope }

func (s *envelopeSink) PublishEnvelope(_ context.Context, env *message.Envelope) (int, error) {
	s.got = append(s.got, env)
	return 3, nil
}

func TestRelayPublisherHashesOnceAndForwards(t *testing.T) {
	sink := &envelopeSink{}
	ts := int64(42)
	m := &mpb.WakuMessage{Payload: []byte("p"), ContentTopic: "/a/1/b/proto", Timestamp: &ts}
	n, err := RelayPublisher{Relay: sink}.Publish(context.Background(), "/waku/2/rs/1/0", m)
	if err != nil || n != 3 {
		t.Fatalf("publish: %d, %v", n, err)
	}
	if len(sink.got) != 1 || sink.got[0].Hash != message.ComputeHash("/waku/2/rs/1/0", m) || sink.got[0].PubsubTopic != "/waku/2/rs/1/0" {
		t.Fatalf("relay got %+v, want the hashed envelope on the topic", sink.got)
	}
}
