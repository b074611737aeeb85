package rest

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/node"
)

// nwaku's error texts that REST clients (interop suites, scripts) match on, in this one file.
// Validation refusals carry their own text (message.ValidationError.Text).
const (
	// textNotPublished is legacy lightpush's answer when the message reached no relay peer
	// (gossipsub dropped it as a duplicate, or there was no peer).
	textNotPublished = "not_published_to_any_peer"
	// textNoPeersV3 is lightpush v3's NO_PEERS_TO_RELAY description for the same case.
	textNoPeersV3 = "No peers for topic, skipping publish"
	// textDialFailure is lightpush's answer when the service peer cannot be dialled.
	textDialFailure = "dial_failure"
	// textBadRequestID is filter's answer to a missing or malformed requestId.
	textBadRequestID = "bad request id"
	// textInvalidMultiaddr prefixes a multiaddr that does not parse (admin peers, peerAddr).
	textInvalidMultiaddr = "Invalid MultiAddress"
	// textTooManyTopics is filter's refusal of more than MaxContentTopicsPerRequest.
	textTooManyTopics = "exceeds maximum content topics: %d"
)

// validationText is the text of a message the validation path refused (a
// *message.ValidationError carries nwaku's wording, e.g. "Message size exceeded maximum of
// 153600 bytes"); other errors keep their own text.
func validationText(err error) string {
	if ve, ok := message.AsValidationError(err); ok {
		return ve.Text
	}
	return err.Error()
}

// filterKinds are nwaku's FilterSubscribeErrorKind names, which prefix its statusDesc texts
// ("NOT_FOUND: peer has no subscriptions").
var filterKinds = map[uint32]string{
	0: "UNKNOWN", filter.StatusPeerDialFailure: "PEER_DIAL_FAILURE", 500: "BAD_RESPONSE",
	filter.StatusBadRequest: "BAD_REQUEST", filter.StatusNotFound: "NOT_FOUND",
	filter.StatusTooManyRequests: "TOO_MANY_REQUESTS", filter.StatusServiceUnavailable: "SERVICE_UNAVAILABLE",
	filter.StatusPaymentRequired: "PAYMENT_REQUIRED", // accounting (ours, not nwaku's)
}

// filterText is the statusDesc of a failed filter call in nwaku's "KIND: cause" form. A
// service node's description is kept (nwaku's already carry the prefix).
func filterText(err error) string {
	var se *filter.StatusError
	if errors.As(err, &se) {
		kind, ok := filterKinds[se.Code]
		if !ok {
			kind = filterKinds[500]
		}
		if se.Desc == "" || strings.HasPrefix(se.Desc, kind+":") {
			return cmp.Or(se.Desc, kind)
		}
		return kind + ": " + se.Desc
	}
	if errors.Is(err, node.ErrDialFailure) {
		return filterKinds[filter.StatusPeerDialFailure] + ": " + err.Error()
	}
	return err.Error()
}

func tooManyTopicsText() string {
	return filterKinds[filter.StatusBadRequest] + ": " + fmt.Sprintf(textTooManyTopics, filter.MaxContentTopicsPerRequest)
}
