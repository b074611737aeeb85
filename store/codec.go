// Package store implements 13/WAKU2-STORE: the store v3 query service and client
// (/vac/waku/store-query/3.0.0) and the legacy v2 ones (/vac/waku/store/2.0.0-beta4). It sees
// the archive only through the Querier interface and never speaks SQL.
package store

import (
	"crypto/sha256"
	"fmt"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/store/pb"
)

// Protocol IDs (spec/store.md).
const (
	QueryProtocol  protocol.ID = "/vac/waku/store-query/3.0.0"
	LegacyProtocol protocol.ID = "/vac/waku/store/2.0.0-beta4"
)

// Page sizes (nwaku DefaultPageSize / MaxPageSize, both protocols).
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	// MaxContentTopics bounds content topics per query (each becomes one index seek).
	MaxContentTopics = 100
	// MaxRequestSize bounds a request read by the service: 64 KiB of fields plus a list of 100
	// hashes (32 bytes + 2 bytes of framing each).
	MaxRequestSize = 64*1024 + 100*34
	// DefaultMaxResponseSize bounds a response read by the client: a full page of max-size
	// messages plus framing.
	DefaultMaxResponseSize = MaxPageSize*(message.DefaultMaxMessageSize+1024) + 64*1024
)

// Status codes (nwaku StatusCode, spec/store.md).
const (
	StatusOK                 uint32 = 200
	StatusBadResponse        uint32 = 300
	StatusBadRequest         uint32 = 400
	StatusPaymentRequired    uint32 = 402 // accounting refused (issue 12; not in nwaku)
	StatusTooManyRequests    uint32 = 429
	StatusServiceUnavailable uint32 = 503
	StatusPeerDialFailure    uint32 = 504
)

// StatusError is a non-200 answer from a store node (or 300 for an answer that makes no sense).
type StatusError = rpc.StatusError

// IsStatus reports whether err is a StatusError with code.
func IsStatus(err error, code uint32) bool { return rpc.IsStatus(err, code) }

// toArchiveQuery maps a v3 request to an archive query. Like nwaku it answers every shape: a
// pubsub topic alone (every message on that shard), content topics alone (on any shard), and
// hashes together with any other filter (all filters are ANDed). What nwaku refuses is refused:
// more than MaxContentTopics content topics and a cursor that is not a 32-byte hash (and, here,
// a message hash that is not 32 bytes, which could never match).
func toArchiveQuery(req *pb.StoreQueryRequest) (archive.Query, error) {
	q := archive.Query{
		PubsubTopic:   req.GetPubsubTopic(),
		ContentTopics: req.GetContentTopics(),
		TimeStart:     req.TimeStart,
		TimeEnd:       req.TimeEnd,
		IncludeData:   req.GetIncludeData(),
		Forward:       req.GetPaginationForward(),
		Limit:         pageSize(req.PaginationLimit),
	}
	if len(q.ContentTopics) > MaxContentTopics {
		return q, errBad(descTooManyContentTopics)
	}
	if len(req.MessageHashes) > 0 {
		q.Hashes = make([]message.Hash, len(req.MessageHashes))
		for i, b := range req.MessageHashes {
			h, err := message.HashFromBytes(b)
			if err != nil {
				return q, errBad(fmt.Sprintf("message_hashes[%d]: %v", i, err))
			}
			q.Hashes[i] = h
		}
	}
	if req.PaginationCursor != nil {
		h, err := message.HashFromBytes(req.PaginationCursor)
		if err != nil {
			return q, errBad(fmt.Sprintf("pagination_cursor: %v", err))
		}
		q.Cursor = &h
	}
	return q, nil
}

// descTooManyContentTopics is nwaku's archive refusal text.
const descTooManyContentTopics = "too many content topics"

func errBad(s string) error { return &StatusError{Protocol: "store", Code: StatusBadRequest, Desc: s} }

// pageSize applies the default when unset or 0 and caps at MaxPageSize.
func pageSize(limit *uint64) int {
	switch {
	case limit == nil || *limit == 0:
		return DefaultPageSize
	case *limit > MaxPageSize:
		return MaxPageSize
	}
	return int(*limit)
}

// toResponse renders an archive page as a v3 response body.
func toResponse(p archive.Page, includeData bool) *pb.StoreQueryResponse {
	resp := &pb.StoreQueryResponse{Messages: make([]*pb.WakuMessageKeyValue, len(p.Entries))}
	for i, e := range p.Entries {
		kv := &pb.WakuMessageKeyValue{MessageHash: e.Hash[:]}
		if includeData {
			kv.Message, kv.PubsubTopic = e.Message, &e.PubsubTopic
		}
		resp.Messages[i] = kv
	}
	if p.Cursor != nil {
		resp.PaginationCursor = p.Cursor[:]
	}
	return resp
}

// LegacyDigest is the legacy v2 cursor digest, SHA-256(content_topic || payload); it is not
// the v3 message hash.
func LegacyDigest(contentTopic string, payload []byte) []byte {
	h := sha256.New()
	h.Write([]byte(contentTopic))
	h.Write(payload)
	return h.Sum(nil)
}
