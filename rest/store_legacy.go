package rest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/wakunode/wakunode/store"
	storepb "github.com/wakunode/wakunode/store/pb"
)

// LegacyStoreMessage is a WakuMessage in the legacy store answer: no proof.
type LegacyStoreMessage = MessageJSON

// LegacyDigest wraps the cursor digest as nwaku writes it: {"data": "<base64>"}.
type LegacyDigest struct {
	Data string `json:"data"`
}

// LegacyCursor is the legacy paging cursor; a next request passes its fields back as the
// pubsubTopic, senderTime, storeTime and digest parameters.
type LegacyCursor struct {
	PubsubTopic string       `json:"pubsubTopic"`
	SenderTime  int64        `json:"senderTime"`
	StoreTime   int64        `json:"storeTime"`
	Digest      LegacyDigest `json:"digest"`
}

// LegacyStoreResponse is GET /store/v1/messages' body (rest-api.md §8, legacy).
type LegacyStoreResponse struct {
	Messages     []LegacyStoreMessage `json:"messages"`
	Cursor       *LegacyCursor        `json:"cursor,omitempty"`
	ErrorMessage string               `json:"errorMessage,omitempty"`
}

func toLegacyResponse(r *storepb.HistoryResponse) LegacyStoreResponse {
	out := LegacyStoreResponse{Messages: make([]LegacyStoreMessage, 0, len(r.GetMessages()))}
	for _, m := range r.GetMessages() {
		out.Messages = append(out.Messages, toMessageJSON(m))
	}
	if c := r.GetPagingInfo().GetCursor(); c != nil {
		out.Cursor = &LegacyCursor{
			PubsubTopic: c.GetPubsubTopic(),
			SenderTime:  c.GetSenderTime(),
			StoreTime:   c.GetReceiverTime(),
			Digest:      LegacyDigest{Data: b64.EncodeToString(c.GetDigest())},
		}
	}
	return out
}

func (s *Server) handleStoreLegacy(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	addr, err := parsePeerAddr(q.Get("peerAddr"))
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	hq, err := parseLegacyQuery(q)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	resp, err := s.store.LegacyQuery(ctx, addr, hq)
	if err == nil {
		// The local archive reports its refusals in the response, a remote one as an error.
		switch resp.GetError() {
		case storepb.HistoryResponse_NONE:
		case storepb.HistoryResponse_INVALID_CURSOR:
			err = &store.StatusError{Protocol: "store", Code: store.StatusBadRequest, Desc: "invalid cursor"}
		default:
			err = &store.StatusError{Protocol: "store", Code: uint32(resp.GetError()), Desc: resp.GetError().String()}
		}
	}
	if err != nil {
		writeStoreError(w, err)
		return
	}
	writeJSON(w, toLegacyResponse(resp))
}

// parseLegacyQuery reads the legacy parameters. The cursor is used only when pubsubTopic,
// senderTime, storeTime and digest are all given, as in nwaku.
func parseLegacyQuery(q url.Values) (*storepb.HistoryQuery, error) {
	hq := &storepb.HistoryQuery{}
	topic := q.Get("pubsubTopic")
	if topic != "" {
		hq.PubsubTopic = &topic
	}
	for _, ct := range splitList(q.Get("contentTopics")) {
		hq.ContentFilters = append(hq.ContentFilters, &storepb.ContentFilter{ContentTopic: ct})
	}
	var err error
	if hq.StartTime, err = parseTimeParam("startTime", q.Get("startTime")); err != nil {
		return nil, err
	}
	if hq.EndTime, err = parseTimeParam("endTime", q.Get("endTime")); err != nil {
		return nil, err
	}
	size, err := parsePageSize(q.Get("pageSize"))
	if err != nil {
		return nil, err
	}
	dir := storepb.PagingInfo_FORWARD
	if a := q.Get("ascending"); a != "" && a != "true" {
		dir = storepb.PagingInfo_BACKWARD
	}
	hq.PagingInfo = &storepb.PagingInfo{PageSize: &size, Direction: &dir}

	sender, err := parseTimeParam("senderTime", q.Get("senderTime"))
	if err != nil {
		return nil, err
	}
	storeTime, err := parseTimeParam("storeTime", q.Get("storeTime"))
	if err != nil {
		return nil, err
	}
	digest, err := parseDigest(q.Get("digest"))
	if err != nil {
		return nil, err
	}
	if topic != "" && sender != nil && storeTime != nil && digest != nil {
		hq.PagingInfo.Cursor = &storepb.Index{PubsubTopic: topic, SenderTime: *sender, ReceiverTime: *storeTime, Digest: digest}
	}
	return hq, nil
}

// parseDigest reads the base64 cursor digest. A '+' that was not percent-encoded arrives as
// a space; unpadded and URL-alphabet forms are accepted too.
func parseDigest(v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	v = strings.ReplaceAll(v, " ", "+")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("Invalid digest: want 32 bytes, got %d", len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("Invalid digest %q: not base64", v)
}
