package relay

import (
	"context"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/message"
)

// validate is the pubsub validator and the gossip door of the one validation path: it checks
// the size, decodes once, applies Config.Rules and hashes once (message.Rules.DecodeChecked),
// then passes the Envelope on as ValidatorData, where the delivery loop picks it up. Our own
// publications arrive with the Envelope already built and validated (PublishEnvelope) and are
// accepted as they are.
//
// The rules are nwaku relay's (size, meta, payload and content topic present): no timestamp
// rule, so that what nwaku forwards we forward and gossipsub scores agree. Failures are Reject
// (relay.md), which penalises the forwarding peer.
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
	env, err := r.cfg.Rules.DecodeChecked(topic, msg.Data, r.now().UnixNano())
	if err != nil {
		r.cfg.Metrics.MessageRejected(topic, reason(err))
		r.log.Debug("reject invalid message", "topic", topic, "from", msg.ReceivedFrom, "err", err)
		return pubsub.ValidationReject
	}
	if r.seen.Has(env.Hash, time.Now()) {
		// Delivered before: longer ago than gossipsub's seen cache remembers (GossipSeenTTL),
		// or in another encoding (another gossipsub ID, the same Waku message).
		return pubsub.ValidationIgnore
	}
	msg.ValidatorData = env
	return pubsub.ValidationAccept
}

// reason is the metrics label of a validation error: its message.Reason.
func reason(err error) string {
	if ve, ok := message.AsValidationError(err); ok {
		return string(ve.Reason)
	}
	return ReasonInvalid
}
