package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
)

// LightpushNode answers /lightpush/v{1,3}/message. A nil peerAddr uses --lightpushnode or a
// selected peer, or publishes locally when the node serves lightpush and has no such peer.
type LightpushNode interface {
	Publish(ctx context.Context, peerAddr multiaddr.Multiaddr, pubsubTopic string, m *pb.WakuMessage, legacy bool) (relayPeers int, err error)
}

// PushResponse is /lightpush/v3/message's body: relayPeerCount on success, statusDesc on
// failure (rest-api.md §9).
type PushResponse struct {
	StatusDesc     string  `json:"statusDesc,omitempty"`
	RelayPeerCount *uint32 `json:"relayPeerCount,omitempty"`
}

// Texts of nwaku's lightpush handlers.
const (
	msgNoLightpushPeer   = "No suitable service peer & no discovery method"
	msgPushTimeout       = "Push request timed out"
	msgPushFailed        = "Failed to request a message push: "
	msgLegacyRateLimited = "Request rate limmit reached" // sic, nwaku's text
	// legacyRateLimitInfo is the info text of a legacy push refused by a rate limit.
	legacyRateLimitInfo = "Request rejected due to too many requests"
)

func (s *Server) lightpushRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /lightpush/v3/message", s.handleLightpushV3)
	mux.HandleFunc("POST /lightpush/v1/message", s.handleLightpushLegacy)
}

// pushFields are the keys of a lightpush request body.
var pushFields = map[string]bool{"pubsubTopic": true, "message": true}

// readPushRequest reads {"pubsubTopic": "...", "message": {...}}; on failure it has
// answered 400 as text.
func (s *Server) readPushRequest(w http.ResponseWriter, r *http.Request) (string, *pb.WakuMessage, bool) {
	body, ok := s.readBody(w, r)
	if !ok {
		return "", nil, false
	}
	obj, err := decodeObject(body, "push request", pushFields)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return "", nil, false
	}
	var topic string
	if err := field(obj, "pubsubTopic", &topic); err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return "", nil, false
	}
	raw, ok := obj["message"]
	if !ok {
		writeText(w, http.StatusBadRequest, "Field `message` is missing")
		return "", nil, false
	}
	m, err := decodeMessage(raw)
	if err != nil {
		writeText(w, http.StatusBadRequest, "Invalid message: "+err.Error())
		return "", nil, false
	}
	return topic, m, true
}

func (s *Server) handleLightpushV3(w http.ResponseWriter, r *http.Request) {
	topic, m, ok := s.readPushRequest(w, r)
	if !ok {
		return
	}
	h, hashed := s.pushHash(topic, m)
	if hashed && s.cache.seen.has(h) {
		writeJSONStatus(w, int(lightpush.StatusNoPeersToRelay), PushResponse{StatusDesc: textNoPeersV3})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	n, err := s.push.Publish(ctx, nil, topic, m, false)
	if err != nil {
		code, desc := lightpushStatus(err)
		writeJSONStatus(w, code, PushResponse{StatusDesc: desc})
		return
	}
	if hashed {
		s.cache.seen.add(h)
	}
	count := uint32(max(n, 0))
	writeJSON(w, PushResponse{RelayPeerCount: &count})
}

// pushHash is the message hash of a push, for the duplicate check: gossipsub drops a message
// it has seen within its window without sending it to any peer (nwaku then answers
// not_published_to_any_peer), while go-libp2p-pubsub reports success. hashed is false when
// the topic cannot be resolved; the node then gives the answer.
func (s *Server) pushHash(topic string, m *pb.WakuMessage) (h message.Hash, hashed bool) {
	t, err := s.n.PubsubTopicFor(topic, m.GetContentTopic())
	if err != nil {
		return h, false
	}
	return message.ComputeHash(t, m), true
}

// lightpushStatus maps a failed push to the HTTP status of rest-api.md §9: the service's
// v3 code itself (the codes are chosen to be HTTP codes), 503 without a peer or in time.
func lightpushStatus(err error) (int, string) {
	var se *lightpush.StatusError
	switch {
	case errors.As(err, &se) && se.Code >= 300 && se.Code <= 599:
		desc := se.Desc
		if desc == "" {
			desc = err.Error()
		}
		return int(se.Code), desc
	case errors.Is(err, node.ErrNoServicePeer):
		return http.StatusServiceUnavailable, msgNoLightpushPeer
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, msgPushTimeout
	case errors.Is(err, node.ErrNotStarted), errors.Is(err, node.ErrRelayDisabled),
		errors.Is(err, lightpush.ErrServiceUnavailable):
		return int(lightpush.StatusServiceNotAvailable), err.Error()
	case errors.Is(err, message.ErrTooLarge):
		return int(lightpush.StatusPayloadTooLarge), validationText(err)
	case errors.Is(err, node.ErrDialFailure):
		return int(lightpush.StatusNoPeersToRelay), textDialFailure
	case errors.Is(err, lightpush.ErrUnsupportedTopic), errors.Is(err, node.ErrWrongCluster):
		return int(lightpush.StatusUnsupportedPubsubTopic), err.Error()
	case isInvalidMessage(err):
		return int(lightpush.StatusInvalidMessage), err.Error()
	case errors.Is(err, node.ErrNoAutosharding):
		return int(lightpush.StatusBadRequest), err.Error()
	case errors.Is(err, lightpush.ErrOutOfRLNProof):
		return int(lightpush.StatusOutOfRLNProof), err.Error()
	case errors.Is(err, lightpush.ErrNoPeersToRelay):
		return int(lightpush.StatusNoPeersToRelay), err.Error()
	}
	return int(lightpush.StatusInternalServerError), err.Error()
}

// isInvalidMessage recognizes the validation path's refusals (other than size, 413).
func isInvalidMessage(err error) bool {
	for _, target := range []error{lightpush.ErrInvalidMessage, message.ErrMetaTooLarge,
		message.ErrEmptyContent, message.ErrEmptyPayload, message.ErrTimestampMissing,
		message.ErrTimestampDrift, message.ErrContentTopicSlash, message.ErrContentTopicStructure,
		message.ErrGeneration} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// handleLightpushLegacy answers "OK", or text: 400 for a bad message, 429 when rate limited,
// 503 for anything else (rest-api.md §9).
func (s *Server) handleLightpushLegacy(w http.ResponseWriter, r *http.Request) {
	topic, m, ok := s.readPushRequest(w, r)
	if !ok {
		return
	}
	h, hashed := s.pushHash(topic, m)
	if hashed && s.cache.seen.has(h) {
		writeText(w, http.StatusServiceUnavailable, msgPushFailed+textNotPublished)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	_, err := s.push.Publish(ctx, nil, topic, m, true)
	var se *lightpush.StatusError
	switch {
	case err == nil:
		if hashed {
			s.cache.seen.add(h)
		}
		writeOK(w)
	case errors.Is(err, node.ErrNoServicePeer):
		writeText(w, http.StatusServiceUnavailable, msgNoLightpushPeer)
	case errors.Is(err, node.ErrDialFailure):
		writeText(w, http.StatusServiceUnavailable, msgPushFailed+textDialFailure)
	case errors.Is(err, context.DeadlineExceeded):
		writeText(w, http.StatusServiceUnavailable, msgPushTimeout)
	case errors.As(err, &se) && (se.Desc == legacyRateLimitInfo || se.Code == lightpush.StatusTooManyRequests):
		writeText(w, http.StatusTooManyRequests, msgLegacyRateLimited)
	case errors.Is(err, message.ErrTooLarge), isInvalidMessage(err):
		writeText(w, http.StatusBadRequest, "Invalid message: "+validationText(err))
	case errors.As(err, &se) && se.Desc != "":
		writeText(w, http.StatusServiceUnavailable, msgPushFailed+se.Desc) // the service's own text
	default:
		writeText(w, http.StatusServiceUnavailable, msgPushFailed+err.Error())
	}
}

// writeJSONStatus sends v with the given status; error texts keep '&', '<' and '>' as is.
func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeText(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
