// Package lightpush implements WAKU-LIGHTPUSH v3 and the legacy 19/WAKU2-LIGHTPUSH v2: a service
// that publishes light clients' messages through the node's relay, and the matching client.
package lightpush

import (
	"errors"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/message"
)

// Protocol IDs (spec/lightpush.md).
const (
	ProtocolV3     protocol.ID = "/vac/waku/lightpush/3.0.0"
	ProtocolLegacy protocol.ID = "/vac/waku/lightpush/2.0.0-beta1"
)

// MaxRPCSize bounds a request (nwaku's 10 max-size messages plus overhead); MaxResponseSize a response.
const (
	MaxRPCSize      = 10*message.DefaultMaxMessageSize + 64*1024
	MaxResponseSize = 64 * 1024
)

// v3 status codes with nwaku's numbers (spec/lightpush.md: nwaku's NO_PEERS_TO_RELAY is 505).
const (
	StatusOK                     uint32 = 200
	StatusBadRequest             uint32 = 400
	StatusPaymentRequired        uint32 = 402 // accounting refused (issue 12; not in nwaku)
	StatusPayloadTooLarge        uint32 = 413
	StatusInvalidMessage         uint32 = 420
	StatusUnsupportedPubsubTopic uint32 = 421
	StatusTooManyRequests        uint32 = 429
	StatusInternalServerError    uint32 = 500
	StatusServiceNotAvailable    uint32 = 503
	StatusOutOfRLNProof          uint32 = 504
	StatusNoPeersToRelay         uint32 = 505
)

// Errors a Publisher may wrap to choose the status code. The validation path's refusals are
// *message.ValidationError and carry their own code (ValidationError.StatusCode).
var (
	ErrInvalidMessage     = errors.New("invalid message")               // 420: validator, RLN, ...
	ErrUnsupportedTopic   = message.ErrUnservedShard                    // 421
	ErrServiceUnavailable = errors.New("service not available")         // 503
	ErrOutOfRLNProof      = errors.New("no RLN message quota left")     // 504
	ErrNoPeersToRelay     = errors.New("no peers to relay the message") // 505
)

// nwaku's texts, which clients and operators match on.
const (
	descRateLimited = "Request rejected due to too many requests"
	// DescNotPublished is the legacy (v2) info when the message reached no relay peer.
	DescNotPublished = "not_published_to_any_peer"
	// DescDialFailure is in the client's error when the service node cannot be reached.
	DescDialFailure = "dial_failure"
)

// StatusError is a failed push as answered by the service node. Code is the v3 status code;
// it is 0 for the legacy protocol, which carries only is_success and an info text.
type StatusError = rpc.StatusError

// IsStatus reports whether err is a *StatusError with the given code.
func IsStatus(err error, code uint32) bool { return rpc.IsStatus(err, code) }

// StatusFor is the one mapping from a push error to its v3 status code, read by the service
// and by REST (whose lightpush answers use the same codes as HTTP statuses): a service node's
// answer keeps its code, a validation refusal has its own, this package's Err* values theirs,
// anything else is 500.
func StatusFor(err error) uint32 {
	var se *StatusError
	if errors.As(err, &se) && se.Code != 0 {
		return se.Code
	}
	if ve, ok := message.AsValidationError(err); ok {
		return ve.StatusCode()
	}
	switch {
	case errors.Is(err, ErrUnsupportedTopic):
		return StatusUnsupportedPubsubTopic
	case errors.Is(err, ErrNoPeersToRelay), errors.Is(err, message.ErrDuplicate):
		return StatusNoPeersToRelay
	case errors.Is(err, ErrServiceUnavailable):
		return StatusServiceNotAvailable
	case errors.Is(err, ErrOutOfRLNProof):
		return StatusOutOfRLNProof
	case errors.Is(err, ErrInvalidMessage):
		return StatusInvalidMessage
	default:
		return StatusInternalServerError
	}
}
