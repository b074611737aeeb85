package rest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/store"
	storepb "github.com/wakunode/wakunode/store/pb"
)

// StoreNode answers /store/v3/messages and /store/v1/messages. A nil peerAddr asks the
// node's own archive when it stores, else its --storenode or a selected store peer
// (node.ErrNoServicePeer when there is none).
type StoreNode interface {
	Query(ctx context.Context, peerAddr multiaddr.Multiaddr, req *storepb.StoreQueryRequest) (*storepb.StoreQueryResponse, error)
	LegacyQuery(ctx context.Context, peerAddr multiaddr.Multiaddr, q *storepb.HistoryQuery) (*storepb.HistoryResponse, error)
}

// Texts of nwaku's store handlers.
const (
	msgNoStorePeer  = "No suitable service peer & no discovery method"
	msgStoreTimeout = "No history response received (timeout)"
	msgRateLimited  = "Request rate limit reached"
)

// StoreWakuMessage is a WakuMessage as the store endpoints emit it: meta and proof only
// when set (rest-api.md §1.1).
type StoreWakuMessage struct {
	MessageJSON
	Proof string `json:"proof,omitempty"`
}

func toStoreMessage(m *pb.WakuMessage) *StoreWakuMessage {
	out := &StoreWakuMessage{MessageJSON: toMessageJSON(m)}
	if len(m.GetRateLimitProof()) > 0 {
		out.Proof = b64.EncodeToString(m.GetRateLimitProof())
	}
	return out
}

// StoreMessage is one entry of a v3 answer; message and pubsubTopic only with includeData.
type StoreMessage struct {
	MessageHash string            `json:"messageHash"`
	Message     *StoreWakuMessage `json:"message,omitempty"`
	PubsubTopic string            `json:"pubsubTopic,omitempty"`
}

// StoreQueryResponse is GET /store/v3/messages' body (rest-api.md §8).
type StoreQueryResponse struct {
	RequestID        string         `json:"requestId"`
	StatusCode       uint32         `json:"statusCode"`
	StatusDesc       string         `json:"statusDesc"`
	Messages         []StoreMessage `json:"messages"`
	PaginationCursor string         `json:"paginationCursor,omitempty"`
	// StoreNodes is set only for a query over several store nodes (store_multi.go).
	StoreNodes []StoreNodeReport `json:"storeNodes,omitempty"`
}

func toStoreResponse(r *storepb.StoreQueryResponse) StoreQueryResponse {
	out := StoreQueryResponse{
		RequestID:  r.GetRequestId(),
		StatusCode: r.GetStatusCode(),
		StatusDesc: r.GetStatusDesc(),
		Messages:   make([]StoreMessage, 0, len(r.GetMessages())),
	}
	for _, kv := range r.GetMessages() {
		e := StoreMessage{MessageHash: "0x" + hex.EncodeToString(kv.GetMessageHash())}
		if kv.Message != nil {
			e.Message = toStoreMessage(kv.Message)
			e.PubsubTopic = kv.GetPubsubTopic()
		}
		out.Messages = append(out.Messages, e)
	}
	if c := r.GetPaginationCursor(); len(c) > 0 {
		out.PaginationCursor = "0x" + hex.EncodeToString(c)
	}
	return out
}

func (s *Server) storeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /store/v3/messages", s.handleStoreV3)
	mux.HandleFunc("GET /store/v1/messages", s.handleStoreLegacy)
}

// handleStoreV3 translates the query string into one store v3 request (one page), or, with
// several peerAddr, into a merged query over those store nodes.
func (s *Server) handleStoreV3(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	addrs, err := parsePeerAddrs(q)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	req, err := parseStoreQuery(q)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(addrs) > 1 {
		s.handleStoreMulti(w, r, addrs, req)
		return
	}
	var addr multiaddr.Multiaddr
	if len(addrs) == 1 {
		addr = addrs[0]
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	resp, err := s.store.Query(ctx, addr, req)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	if code := resp.GetStatusCode(); code != store.StatusOK {
		writeStoreError(w, &store.StatusError{Protocol: "store", Code: code, Desc: resp.GetStatusDesc()})
		return
	}
	writeJSON(w, toStoreResponse(resp))
}

// writeStoreError answers a failed query as nwaku does: 412 without a store peer, 429 when
// rate limited (402 with the store's text when its accounting refused us: ours, not nwaku's),
// and 500 for everything else, a store's refusal included (text: the store's
// own description, e.g. "cursor not found"), never 200 with the status in the body.
func writeStoreError(w http.ResponseWriter, err error) {
	var se *store.StatusError
	switch {
	case errors.Is(err, node.ErrNoServicePeer):
		writeText(w, http.StatusPreconditionFailed, msgNoStorePeer)
	case errors.Is(err, context.DeadlineExceeded):
		writeText(w, http.StatusInternalServerError, msgStoreTimeout)
	case store.IsStatus(err, store.StatusTooManyRequests):
		writeText(w, http.StatusTooManyRequests, msgRateLimited)
	case store.IsStatus(err, store.StatusPaymentRequired) && errors.As(err, &se): // accounting
		writeText(w, http.StatusPaymentRequired, se.Desc)
	case errors.As(err, &se) && se.Desc != "":
		writeText(w, http.StatusInternalServerError, se.Desc)
	case errors.Is(err, node.ErrNotStarted):
		writeText(w, http.StatusServiceUnavailable, "Store query failed: "+err.Error())
	default:
		writeText(w, http.StatusInternalServerError, "Store query failed: "+err.Error())
	}
}

// parsePeerAddr reads the peerAddr parameter: "" is nil, otherwise a multiaddr with /p2p/<id>.
func parsePeerAddr(v string) (multiaddr.Multiaddr, error) {
	if v == "" {
		return nil, nil
	}
	ma, err := multiaddr.NewMultiaddr(v)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %v", textInvalidMultiaddr, v, err)
	}
	if _, err := peer.AddrInfoFromP2pAddr(ma); err != nil {
		return nil, fmt.Errorf("Invalid peerAddr %q: must end in /p2p/<peerId>: %v", v, err)
	}
	return ma, nil
}

// parseStoreQuery reads §8's parameters. Page size defaults to 20 and is capped at 100.
func parseStoreQuery(q url.Values) (*storepb.StoreQueryRequest, error) {
	req := &storepb.StoreQueryRequest{RequestId: rpc.NewRequestID(), PaginationForward: true}
	var err error
	if req.IncludeData, err = parseBoolParam("includeData", q.Get("includeData")); err != nil {
		return nil, err
	}
	if t := q.Get("pubsubTopic"); t != "" {
		req.PubsubTopic = &t
	}
	req.ContentTopics = splitList(q.Get("contentTopics"))
	if req.TimeStart, err = parseTimeParam("startTime", q.Get("startTime")); err != nil {
		return nil, err
	}
	if req.TimeEnd, err = parseTimeParam("endTime", q.Get("endTime")); err != nil {
		return nil, err
	}
	for _, h := range splitList(q.Get("hashes")) {
		hash, err := message.ParseHash(h)
		if err != nil {
			return nil, fmt.Errorf("Invalid hashes: %v", err)
		}
		req.MessageHashes = append(req.MessageHashes, hash[:])
	}
	if c := q.Get("cursor"); c != "" {
		hash, err := message.ParseHash(c)
		if err != nil {
			return nil, fmt.Errorf("Invalid cursor: %v", err)
		}
		req.PaginationCursor = hash[:]
	}
	if a := q.Get("ascending"); a != "" {
		req.PaginationForward = a == "true"
	}
	size, err := parsePageSize(q.Get("pageSize"))
	if err != nil {
		return nil, err
	}
	req.PaginationLimit = &size
	return req, nil
}

// parsePageSize applies the store's default (20) and cap (100); 0 or a negative size is the
// default, as in nwaku.
func parsePageSize(v string) (uint64, error) {
	if v == "" {
		return store.DefaultPageSize, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if _, uerr := strconv.ParseUint(v, 10, 64); uerr == nil {
			return store.MaxPageSize, nil // beyond int64: capped like any large size
		}
		return 0, fmt.Errorf("Invalid pageSize %q: want an integer", v)
	}
	switch {
	case n <= 0:
		return store.DefaultPageSize, nil
	case n > store.MaxPageSize:
		return store.MaxPageSize, nil
	}
	return uint64(n), nil
}

// parseTimeParam reads Unix nanoseconds; as in nwaku only positive values filter.
func parseTimeParam(name, v string) (*int64, error) {
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("Invalid %s %q: want Unix nanoseconds", name, v)
	}
	if n <= 0 {
		return nil, nil
	}
	return &n, nil
}

// parseBoolParam accepts the spellings nwaku's parseBool does.
func parseBoolParam(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "no", "n", "off", "0":
		return false, nil
	case "true", "yes", "y", "on", "1":
		return true, nil
	}
	return false, fmt.Errorf("Invalid %s %q: want true or false", name, v)
}

// splitList splits a comma-separated parameter, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
