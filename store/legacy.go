package store

import (
	"bytes"
	"context"
	"errors"
	"math"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/store/pb"
)

// Legacy v2 mapping onto the archive:
//   - The legacy cursor Index (digest = SHA-256(content_topic||payload), sender_time, pubsub_topic)
//     does not carry the message hash. The service resolves it by reading the messages stored
//     at exactly sender_time (on pubsub_topic when set) and picking the one whose digest
//     matches; that message's hash becomes the archive cursor, so paging still seeks by
//     (timestamp, hash). No match → INVALID_CURSOR.
//   - Response cursors are built from the boundary entry: digest, sender_time = receiver_time =
//     the message timestamp, pubsub_topic.
//   - end_time is inclusive in legacy queries (go-waku and nwaku legacy compare ts <= end).
//   - HistoryResponse.Error has no BAD_REQUEST value. A request that does not decode, has no
//     query or is otherwise malformed is answered with error 400 (legacyBadRequest), following
//     the enum's HTTP-like numbering (429, 503): nwaku's client reads any unknown value as an
//     error (INVALID_CURSOR), go-waku's and ours as a status code. INVALID_CURSOR is kept for
//     cursors that point at nothing.
//   - Any shape is answered, as in v3 (a pubsub topic alone, content topics alone, both).

// legacyBadRequest is the HistoryResponse error for a malformed request (see above).
const legacyBadRequest = pb.HistoryResponse_Error(StatusBadRequest)

func legacyErr(id string, e pb.HistoryResponse_Error) *pb.HistoryRPC {
	return &pb.HistoryRPC{RequestId: id, Response: &pb.HistoryResponse{Error: e}}
}

// AnswerLegacy runs one decoded legacy request (from = "" skips the per-peer rate limit) and
// returns the response with the status code it maps to (an accounting refusal, answered
// SERVICE_UNAVAILABLE, as 402).
func (s *Service) AnswerLegacy(ctx context.Context, from peer.ID, in *pb.HistoryRPC) (*pb.HistoryRPC, uint32) {
	if in.Query == nil {
		return legacyErr(in.GetRequestId(), legacyBadRequest), StatusBadRequest
	}
	id, hq := in.GetRequestId(), in.GetQuery()
	if from != "" && s.cfg.LegacyRateLimiter != nil && !s.cfg.LegacyRateLimiter.Allow(from) {
		return legacyErr(id, pb.HistoryResponse_TOO_MANY_REQUESTS), StatusTooManyRequests
	}
	if s.allow(from) != nil { // legacy has no 402: SERVICE_UNAVAILABLE, counted as 402
		return legacyErr(id, pb.HistoryResponse_SERVICE_UNAVAILABLE), StatusPaymentRequired
	}
	q, err := legacyToArchive(hq)
	if err != nil {
		return legacyErr(id, legacyBadRequest), StatusBadRequest
	}
	if c := hq.GetPagingInfo().GetCursor(); c != nil {
		h, err := s.resolveLegacyCursor(ctx, c)
		if errors.Is(err, archive.ErrUnknownCursor) {
			return legacyErr(id, pb.HistoryResponse_INVALID_CURSOR), StatusBadRequest
		}
		if err != nil {
			s.log.Warn("legacy store cursor lookup failed", "err", err)
			return legacyErr(id, pb.HistoryResponse_SERVICE_UNAVAILABLE), StatusServiceUnavailable
		}
		q.Cursor = &h
	}
	page, err := s.q.Query(ctx, q)
	switch {
	case errors.Is(err, archive.ErrUnknownCursor):
		return legacyErr(id, pb.HistoryResponse_INVALID_CURSOR), StatusBadRequest
	case err != nil:
		s.log.Warn("legacy store query failed", "peer", from, "err", err)
		return legacyErr(id, pb.HistoryResponse_SERVICE_UNAVAILABLE), StatusServiceUnavailable
	}
	dir := pb.PagingInfo_BACKWARD
	if q.Forward {
		dir = pb.PagingInfo_FORWARD
	}
	size := uint64(len(page.Entries))
	resp := &pb.HistoryResponse{PagingInfo: &pb.PagingInfo{PageSize: &size, Direction: &dir}}
	for _, e := range page.Entries {
		resp.Messages = append(resp.Messages, e.Message)
		if page.Cursor != nil && e.Hash == *page.Cursor {
			ts := e.Message.GetTimestamp()
			resp.PagingInfo.Cursor = &pb.Index{
				Digest:     LegacyDigest(e.Message.GetContentTopic(), e.Message.GetPayload()),
				SenderTime: ts, ReceiverTime: ts, PubsubTopic: e.PubsubTopic,
			}
		}
	}
	return &pb.HistoryRPC{RequestId: id, Response: resp}, StatusOK
}

// legacyToArchive maps a HistoryQuery; content topics without a pubsub topic are allowed here.
func legacyToArchive(hq *pb.HistoryQuery) (archive.Query, error) {
	q := archive.Query{
		PubsubTopic: hq.GetPubsubTopic(),
		TimeStart:   hq.StartTime,
		IncludeData: true,
		Forward:     hq.GetPagingInfo().GetDirection() == pb.PagingInfo_FORWARD,
	}
	if pi := hq.GetPagingInfo(); pi != nil {
		q.Limit = pageSize(pi.PageSize)
	} else {
		q.Limit = DefaultPageSize
	}
	if hq.EndTime != nil && *hq.EndTime < math.MaxInt64 {
		end := *hq.EndTime + 1 // inclusive
		q.TimeEnd = &end
	}
	if len(hq.ContentFilters) > MaxContentTopics {
		return q, errBad(descTooManyContentTopics)
	}
	for _, cf := range hq.ContentFilters {
		q.ContentTopics = append(q.ContentTopics, cf.GetContentTopic())
	}
	return q, nil
}

// resolveLegacyCursor finds the stored message an Index points at (see the mapping above).
func (s *Service) resolveLegacyCursor(ctx context.Context, idx *pb.Index) (message.Hash, error) {
	ts := idx.GetSenderTime()
	if ts == 0 {
		ts = idx.GetReceiverTime()
	}
	if len(idx.Digest) != 32 || ts == math.MaxInt64 {
		return message.Hash{}, archive.ErrUnknownCursor
	}
	end := ts + 1
	q := archive.Query{PubsubTopic: idx.GetPubsubTopic(), TimeStart: &ts, TimeEnd: &end, IncludeData: true, Forward: true, Limit: MaxPageSize}
	for {
		page, err := s.q.Query(ctx, q)
		if err != nil {
			return message.Hash{}, err
		}
		for _, e := range page.Entries {
			if bytes.Equal(LegacyDigest(e.Message.GetContentTopic(), e.Message.GetPayload()), idx.Digest) {
				return e.Hash, nil
			}
		}
		if page.Cursor == nil {
			return message.Hash{}, archive.ErrUnknownCursor
		}
		q.Cursor = page.Cursor
	}
}
