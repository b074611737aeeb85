package lightpush

import (
	"context"
	"fmt"
	"time"

	"github.com/wakunode/wakunode/message"
	mpb "github.com/wakunode/wakunode/message/pb"
)

// EnvelopeRelay is the relay a pushed message goes into (*relay.Relay satisfies it). It applies
// the one validation path to the envelope.
type EnvelopeRelay interface {
	PublishEnvelope(ctx context.Context, env *message.Envelope) (relayPeers int, err error)
}

// RelayPublisher is the Publisher of a node that relays: it encodes and hashes the pushed
// message once and hands the envelope to relay, which validates it as it does every message.
type RelayPublisher struct{ Relay EnvelopeRelay }

// Publish implements Publisher.
func (p RelayPublisher) Publish(ctx context.Context, topic string, m *mpb.WakuMessage) (int, error) {
	env, err := message.NewEnvelope(topic, m, time.Now().UnixNano())
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	return p.Relay.PublishEnvelope(ctx, env)
}
