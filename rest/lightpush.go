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
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	n, err := s.push.Publish(ctx, nil, topic, m, false)
	if err != nil {
		code, desc := lightpushStatus(err)
		writeJSONStatus(w, code, PushResponse{StatusDesc: desc})
		return
	}
	count := uint32(max(n, 0))
	writeJSON(w, PushResponse{RelayPeerCount: &count})
}

// lightpushStatus maps a failed push to the HTTP status of rest-api.md §9. Pushes that
// reached a service (ours or a peer) take lightpush.StatusFor's code, the one mapping the
// service uses (its v3 codes are HTTP codes), with the refusal's own text; only the failures
// that never reached a service are REST's own, in nwaku's texts.
func lightpushStatus(err error) (int, string) {
	switch {
	case errors.Is(err, node.ErrNoServicePeer):
		return http.StatusServiceUnavailable, msgNoLightpushPeer
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, msgPushTimeout
	case errors.Is(err, node.ErrNotStarted), errors.Is(err, node.ErrRelayDisabled):
		return int(lightpush.StatusServiceNotAvailable), err.Error()
	case errors.Is(err, node.ErrDialFailure):
		return int(lightpush.StatusNoPeersToRelay), textDialFailure
	case errors.Is(err, message.ErrDuplicate):
		return int(lightpush.StatusNoPeersToRelay), textNoPeersV3
	}
	code := lightpush.StatusFor(err)
	if code < 300 || code > 599 { // a service's nonsense code is no HTTP error status
		code = lightpush.StatusInternalServerError
	}
	return int(code), pushText(err)
}

// pushText is the description of a failed push: a service's own statusDesc, else the
// validation path's text (nwaku's wording), else the error.
func pushText(err error) string {
	var se *lightpush.StatusError
	if errors.As(err, &se) && se.Desc != "" {
		return se.Desc
	}
	return validationText(err)
}

// handleLightpushLegacy answers "OK", or text: 400 for a bad message, 429 when rate limited,
// 503 for anything else (rest-api.md §9).
func (s *Server) handleLightpushLegacy(w http.ResponseWriter, r *http.Request) {
	topic, m, ok := s.readPushRequest(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	_, err := s.push.Publish(ctx, nil, topic, m, true)
	var se *lightpush.StatusError
	switch {
	case err == nil:
		writeOK(w)
	case errors.Is(err, message.ErrDuplicate):
		writeText(w, http.StatusServiceUnavailable, msgPushFailed+textNotPublished)
	case errors.Is(err, node.ErrNoServicePeer):
		writeText(w, http.StatusServiceUnavailable, msgNoLightpushPeer)
	case errors.Is(err, node.ErrDialFailure):
		writeText(w, http.StatusServiceUnavailable, msgPushFailed+textDialFailure)
	case errors.Is(err, context.DeadlineExceeded):
		writeText(w, http.StatusServiceUnavailable, msgPushTimeout)
	case errors.As(err, &se) && (se.Desc == legacyRateLimitInfo || se.Code == lightpush.StatusTooManyRequests):
		writeText(w, http.StatusTooManyRequests, msgLegacyRateLimited)
	case errors.As(err, new(*message.ValidationError)):
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
