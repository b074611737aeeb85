package store

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/store/pb"
)

// fakeQuerier answers any valid query with up to Limit copies of one entry and knows one cursor.
type fakeQuerier struct{}

var fakeEntry = func() archive.Entry {
	e := corpus(1)[0]
	return archive.Entry{Hash: e.Hash, Timestamp: e.Message.GetTimestamp(), PubsubTopic: e.PubsubTopic, Message: e.Message}
}()

func (fakeQuerier) Query(_ context.Context, q archive.Query) (archive.Page, error) {
	if q.Limit <= 0 || q.Limit > MaxPageSize {
		panic("service passed a bad limit")
	}
	if q.Cursor != nil && *q.Cursor != fakeEntry.Hash {
		return archive.Page{}, archive.ErrUnknownCursor
	}
	p := archive.Page{Entries: []archive.Entry{fakeEntry}}
	if q.Limit == 1 {
		p.Cursor = &fakeEntry.Hash
	}
	return p, nil
}

func seeds(f *testing.F) {
	for _, m := range []proto.Message{
		&pb.StoreQueryRequest{RequestId: "a", PubsubTopic: ptr(testTopic), ContentTopics: []string{ctA}, PaginationLimit: ptr(uint64(1))},
		&pb.StoreQueryRequest{MessageHashes: [][]byte{fakeEntry.Hash[:]}, IncludeData: true},
		&pb.StoreQueryRequest{PaginationCursor: fakeEntry.Hash[:], TimeStart: ptr(int64(-5))},
		&pb.HistoryRPC{RequestId: "b", Query: &pb.HistoryQuery{PagingInfo: &pb.PagingInfo{Cursor: &pb.Index{Digest: make([]byte, 32)}}}},
	} {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0x01})
}

// FuzzV3Request feeds arbitrary bytes to the v3 decode+validate+answer path.
func FuzzV3Request(f *testing.F) {
	seeds(f)
	s := NewService(nil, fakeQuerier{}, ServiceConfig{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		req := &pb.StoreQueryRequest{}
		if proto.Unmarshal(raw, req) != nil {
			return // answered 400 by rpc.Server (TestMalformedBytes)
		}
		resp := s.Answer(context.Background(), "", req)
		if resp.StatusCode == nil || resp.StatusDesc == nil {
			t.Fatal("response without status")
		}
		if resp.RequestId != req.RequestId {
			t.Fatalf("request id %q not echoed (%q)", req.RequestId, resp.RequestId)
		}
		_, verr := toArchiveQuery(req)
		if (resp.GetStatusCode() == StatusOK) != (verr == nil && (req.PaginationCursor == nil || string(req.PaginationCursor) == string(fakeEntry.Hash[:]))) {
			t.Fatalf("status %d for validation error %v", resp.GetStatusCode(), verr)
		}
		if resp.GetStatusCode() != StatusOK && len(resp.Messages) > 0 {
			t.Fatal("messages on an error")
		}
		if _, err := proto.Marshal(resp); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzLegacyRequest feeds arbitrary bytes to the legacy decode+answer path.
func FuzzLegacyRequest(f *testing.F) {
	seeds(f)
	s := NewService(nil, fakeQuerier{}, ServiceConfig{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		in := &pb.HistoryRPC{}
		if proto.Unmarshal(raw, in) != nil {
			return // answered error 400 by rpc.Server (TestLegacyUndecodable)
		}
		out, _ := s.AnswerLegacy(context.Background(), "", in)
		if out.Response == nil {
			t.Fatal("no response")
		}
		if _, err := proto.Marshal(out); err != nil {
			t.Fatal(err)
		}
	})
}
