package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// TestGoAPIRefusesInvalid: relay.PublishEnvelope trusts its callers, so the node's own doors
// (Publish and the local lightpush) must refuse an invalid message through the validation
// path, with its *message.ValidationError, and nothing of it reaches a subscriber.
func TestGoAPIRefusesInvalid(t *testing.T) {
	cfg := testConfig(t)
	cfg.Lightpush = true // no --lightpushnode: Lightpush().Publish publishes locally
	n := startNode(t, cfg)
	sub := n.Subscribe(nil, 16)
	defer sub.Close()

	doors := map[string]func(*pb.WakuMessage) error{
		"Publish": func(m *pb.WakuMessage) error {
			_, err := n.Publish(context.Background(), testTopic, m)
			return err
		},
		"local lightpush": func(m *pb.WakuMessage) error {
			_, err := n.Lightpush().Publish(context.Background(), nil, testTopic, m, false)
			return err
		},
	}
	for door, publish := range doors {
		for _, tc := range []struct {
			name   string
			mutate func(*pb.WakuMessage)
			want   error
			reason message.Reason
		}{
			{"meta-65", func(m *pb.WakuMessage) { m.Meta = make([]byte, 65) }, message.ErrMetaTooLarge, message.ReasonMetaTooLarge},
			{"empty payload", func(m *pb.WakuMessage) { m.Payload = nil }, message.ErrEmptyPayload, message.ReasonEmptyPayload},
			{"oversize", func(m *pb.WakuMessage) { m.Payload = make([]byte, message.DefaultMaxMessageSize) }, message.ErrTooLarge, message.ReasonTooLarge},
		} {
			m := testMessage("invalid " + door + " " + tc.name)
			tc.mutate(m)
			err := publish(m)
			ve, ok := message.AsValidationError(err)
			if !ok || !errors.Is(err, tc.want) || ve.Reason != tc.reason {
				t.Fatalf("%s %s: err %v, want a %s refusal", door, tc.name, err, tc.reason)
			}
		}
		// A valid message after the refusals is the first thing delivered.
		fence := "fence " + door
		if err := publish(testMessage(fence)); err != nil {
			t.Fatalf("%s: valid message: %v", door, err)
		}
		select {
		case e := <-sub.C:
			if got := string(e.Message.Payload); got != fence {
				t.Fatalf("%s: delivered %q before the fence", door, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: fence not delivered", door)
		}
	}
}
