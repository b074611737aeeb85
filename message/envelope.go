package message

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
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

// Decode parses raw WakuMessage bytes received on pubsubTopic.
func Decode(pubsubTopic string, raw []byte, receivedAt int64) (*Envelope, error) {
	m := &pb.WakuMessage{}
	if err := proto.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("decode waku message: %w", err)
	}
	aliasPayload(m, raw)
	return &Envelope{Message: m, PubsubTopic: pubsubTopic, Hash: ComputeHash(pubsubTopic, m), Raw: raw, ReceivedAt: receivedAt}, nil
}

// aliasPayload points m.Payload into raw instead of the copy Unmarshal made, so a message held
// by relay's history and by consumers costs its size once, not twice. raw is never modified.
func aliasPayload(m *pb.WakuMessage, raw []byte) {
	var last []byte // the last occurrence wins, as in Unmarshal
	for b := raw; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return
			}
			last = v[:len(v):len(v)]
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return
		}
		b = b[n:]
	}
	if len(last) == len(m.Payload) && len(last) > 0 {
		m.Payload = last
	}
}
