// Package filter implements 12/WAKU2-FILTER v2: the service that pushes relay messages to
// subscribed light clients, and the client that subscribes and receives them.
package filter

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/message"
)

// Protocol IDs (spec/filter.md).
const (
	SubscribeProtocol protocol.ID = "/vac/waku/filter-subscribe/2.0.0-beta1"
	PushProtocol      protocol.ID = "/vac/waku/filter-push/2.0.0-beta1"
)

// Wire limits (nwaku's).
const (
	MaxContentTopicsPerRequest = 100
	// MaxRPCSize bounds a subscribe request and a push: 10 max-size messages plus overhead.
	MaxRPCSize      = 10*message.DefaultMaxMessageSize + 64*1024
	MaxResponseSize = 64 * 1024
)

// Status codes (nwaku FilterSubscribeErrorKind).
const (
	StatusOK                 uint32 = 200
	StatusBadResponse        uint32 = 300
	StatusBadRequest         uint32 = 400
	StatusPaymentRequired    uint32 = 402 // accounting refused (issue 12; not in nwaku)
	StatusNotFound           uint32 = 404
	StatusTooManyRequests    uint32 = 429
	StatusServiceUnavailable uint32 = 503
	StatusPeerDialFailure    uint32 = 504
)

// Status descriptions sent by the service.
const (
	descOK              = "OK"
	descMissingCriteria = "pubsub topic and content topics must be specified"
	descNoSubscriptions = "peer has no subscriptions"
	descNotSubscribed   = "peer is not subscribed to the given criteria"
	descMaxPeers        = "node has reached maximum number of subscriptions"
	descMaxCriteria     = "peer has reached maximum number of filter criteria"
	descRateLimited     = "Request rejected due to too many requests"
)

var descTooManyTopics = "exceeds maximum content topics: " + strconv.Itoa(MaxContentTopicsPerRequest)

// StatusError is a non-200 answer from a filter service node.
type StatusError = rpc.StatusError

// IsStatus reports whether err is a *StatusError with the given code.
func IsStatus(err error, code uint32) bool { return rpc.IsStatus(err, code) }

// Criterion is one (pubsub topic, content topic) pair; a peer's subscription is a set of them.
type Criterion struct {
	PubsubTopic  string
	ContentTopic string
}

// encodePush builds a MessagePush around the message's original bytes, once per message
// however many subscribers receive it.
func encodePush(e *message.Envelope) []byte {
	b := make([]byte, 0, len(e.Raw)+len(e.PubsubTopic)+16)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, e.Raw)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, e.PubsubTopic)
	return b
}

// decodePush splits a MessagePush into its pubsub topic and the raw WakuMessage bytes, so the
// message itself is decoded exactly once, by message.Decode.
func decodePush(b []byte) (topic string, hasTopic bool, raw []byte, err error) {
	var hasMsg bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", false, nil, fmt.Errorf("decode message push: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return "", false, nil, fmt.Errorf("decode message push: waku_message: %w", protowire.ParseError(n))
			}
			raw, hasMsg, b = v, true, b[n:]
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return "", false, nil, fmt.Errorf("decode message push: pubsub_topic: %w", protowire.ParseError(n))
			}
			topic, hasTopic, b = string(v), true, b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return "", false, nil, fmt.Errorf("decode message push: field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	if !hasMsg {
		return "", false, nil, errors.New("decode message push: no waku_message")
	}
	return topic, hasTopic, raw, nil
}

// readFrame reads one varint-length-prefixed frame of at most max bytes. io.EOF means the
// stream ended cleanly between frames.
func readFrame(s network.Stream, r interface{ ReadMsg() ([]byte, error) }) ([]byte, error) {
	b, err := r.ReadMsg()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read %s from %s: %w", s.Protocol(), s.Conn().RemotePeer(), err)
	}
	return b, nil
}
