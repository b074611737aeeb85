package message

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
)

// Envelope is a WakuMessage accepted on a pubsub topic, decoded, validated and hashed exactly
// once. It is what travels on the node's message bus; consumers must treat it as read-only.
type Envelope struct {
	Message     *pb.WakuMessage
	PubsubTopic string
	Hash        Hash
	// Raw is the serialized WakuMessage exactly as received or published: relay forwards these
	// bytes unchanged because the gossip message id hashes them.
	Raw []byte
	// ReceivedAt is the local receive time in Unix nanoseconds.
	ReceivedAt int64
}

// NewEnvelope serializes m deterministically and hashes it. For messages that arrive as bytes use
// Decode instead, so the original bytes are kept.
func NewEnvelope(pubsubTopic string, m *pb.WakuMessage, receivedAt int64) (*Envelope, error) {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode waku message: %w", err)
	}
	return &Envelope{Message: m, PubsubTopic: pubsubTopic, Hash: ComputeHash(pubsubTopic, m), Raw: raw, ReceivedAt: receivedAt}, nil
}

// Decode parses raw WakuMessage bytes received on pubsubTopic. The message's bytes fields
// are views of raw (see unmarshal), so a message held by relay's history and by consumers
// costs its size once, not twice; raw must not be modified afterwards.
func Decode(pubsubTopic string, raw []byte, receivedAt int64) (*Envelope, error) {
	m, err := unmarshal(raw)
	if err != nil {
		return nil, fmt.Errorf("decode waku message: %w", err)
	}
	return &Envelope{Message: m, PubsubTopic: pubsubTopic, Hash: ComputeHash(pubsubTopic, m), Raw: raw, ReceivedAt: receivedAt}, nil
}
