package relay

import (
	"context"
	"errors"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/message"
)

// validate is the pubsub validator and the one validation path for gossip: it decodes the data
// once, applies Config.Rules, hashes once (message.Decode) and passes the Envelope on as
// ValidatorData, where the delivery loop picks it up. Our own publications arrive with the
// Envelope already built and checked by PublishEnvelope and are accepted as they are.
//
// Decode and rule failures are Reject (relay.md), which penalises the forwarding peer.
func (r *Relay) validate(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if from == r.h.ID() {
		if env, ok := msg.ValidatorData.(*message.Envelope); ok {
			// pubsub reports only remote deliveries to tracers; duplicates never get here.
			r.cfg.Metrics.MessageAccepted(env.PubsubTopic, len(env.Raw))
			return pubsub.ValidationAccept
		}
	}
	return r.validateRemote(msg)
}

func (r *Relay) validateRemote(msg *pubsub.Message) pubsub.ValidationResult {
	topic := msg.GetTopic()
	if n := len(msg.Data); n > r.maxSize {
		// Checked before decoding so oversize data costs nothing more.
		r.cfg.Metrics.MessageRejected(topic, ReasonTooLarge)
		return pubsub.ValidationReject
	}
	env, err := message.Decode(topic, msg.Data, r.now().UnixNano())
	if err != nil {
		r.cfg.Metrics.MessageRejected(topic, ReasonDecode)
		r.log.Debug("reject undecodable message", "topic", topic, "from", msg.ReceivedFrom, "err", err)
		return pubsub.ValidationReject
	}
	if err := r.cfg.Rules.Check(env); err != nil {
		r.cfg.Metrics.MessageRejected(topic, reason(err))
		r.log.Debug("reject invalid message", "topic", topic, "from", msg.ReceivedFrom, "hash", env.Hash, "err", err)
		return pubsub.ValidationReject
	}
	msg.ValidatorData = env
	return pubsub.ValidationAccept
}

// reason maps a message.Rules error onto a Metrics reason label.
func reason(err error) string {
	for _, c := range []struct {
		err    error
		reason string
	}{
		{message.ErrTooLarge, ReasonTooLarge},
		{message.ErrMetaTooLarge, ReasonMetaTooLarge},
		{message.ErrEmptyContent, ReasonEmptyContentTopic},
		{message.ErrEmptyPayload, ReasonEmptyPayload},
		{message.ErrTimestampMissing, ReasonTimestampMissing},
		{message.ErrTimestampDrift, ReasonTimestampDrift},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return ReasonInvalid
}
