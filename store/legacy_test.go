package store

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/store/pb"
)

func TestLegacyPaging(t *testing.T) {
	ms := corpus(45)
	c, p := setup(t, openArchive(t, ms), ServiceConfig{})
	var wantA []*message.Envelope
	for _, e := range ordered(ms) {
		if e.Message.ContentTopic == ctA {
			wantA = append(wantA, e)
		}
	}
	for _, tc := range []struct {
		forward bool
		size    uint64
		filter  bool
	}{{true, 7, true}, {false, 7, true}, {true, 0, false}, {false, 10, false}} {
		t.Run(fmt.Sprintf("forward=%v size=%d filter=%v", tc.forward, tc.size, tc.filter), func(t *testing.T) {
			dir := pb.PagingInfo_BACKWARD
			if tc.forward {
				dir = pb.PagingInfo_FORWARD
			}
			q := &pb.HistoryQuery{PagingInfo: &pb.PagingInfo{Direction: &dir}}
			if tc.size > 0 {
				q.PagingInfo.PageSize = &tc.size
			}
			want := ordered(ms)
			if tc.filter {
				// Content topics alone are a valid legacy filter.
				q.ContentFilters, want = []*pb.ContentFilter{{ContentTopic: ctA}}, wantA
			}
			var got []string
			pages := 0
			for resp, err := range c.LegacyPages(context.Background(), p, q) {
				if err != nil {
					t.Fatal(err)
				}
				pages++
				var page []string
				for _, m := range resp.Messages {
					page = append(page, string(m.Payload))
				}
				if c := resp.PagingInfo.GetCursor(); c != nil {
					b := resp.Messages[len(resp.Messages)-1]
					if !tc.forward {
						b = resp.Messages[0]
					}
					if string(c.Digest) != string(LegacyDigest(b.ContentTopic, b.Payload)) || c.SenderTime != b.GetTimestamp() || c.PubsubTopic != testTopic {
						t.Fatalf("cursor %v does not index the boundary message", c)
					}
				}
				if tc.forward {
					got = append(got, page...)
				} else {
					got = append(page, got...)
				}
			}
			var wantP []string
			for _, e := range want {
				wantP = append(wantP, string(e.Message.Payload))
			}
			if !slices.Equal(got, wantP) {
				t.Fatalf("got %v\nwant %v", got, wantP)
			}
			size := pageSize(q.PagingInfo.PageSize)
			if wantPages := (len(want) + size - 1) / size; pages != wantPages {
				t.Fatalf("%d pages, want %d", pages, wantPages)
			}
		})
	}
}

func TestLegacyErrorsAndTime(t *testing.T) {
	ms := corpus(10)
	all := ordered(ms)
	c, p := setup(t, openArchive(t, ms), ServiceConfig{})
	ctx := context.Background()
	fwd := pb.PagingInfo_FORWARD
	// end_time is inclusive in legacy queries.
	start, end := all[2].Message.GetTimestamp(), all[5].Message.GetTimestamp()
	resp, err := c.LegacyQuery(ctx, p, &pb.HistoryQuery{StartTime: &start, EndTime: &end, PagingInfo: &pb.PagingInfo{Direction: &fwd}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range all {
		if ts := e.Message.GetTimestamp(); ts >= start && ts <= end {
			n++
		}
	}
	if len(resp.Messages) != n {
		t.Fatalf("%d messages in [start, end], want %d", len(resp.Messages), n)
	}
	for _, cur := range []*pb.Index{
		{Digest: make([]byte, 32), SenderTime: start, PubsubTopic: testTopic},                              // no such digest
		{Digest: LegacyDigest(ctA, all[0].Message.Payload), SenderTime: start + 1, PubsubTopic: testTopic}, // wrong time
		{Digest: []byte{1}, SenderTime: start},                                                             // short digest
	} {
		_, err := c.LegacyQuery(ctx, p, &pb.HistoryQuery{PagingInfo: &pb.PagingInfo{Cursor: cur}})
		if !IsStatus(err, StatusBadRequest) {
			t.Fatalf("cursor %v: %v, want invalid cursor", cur, err)
		}
	}
	// An empty query object is a query for everything; a missing one is a bad request (400),
	// not an invalid cursor.
	if resp, err := c.LegacyQuery(ctx, p, nil); !IsStatus(err, StatusBadRequest) || resp.GetError() != legacyBadRequest {
		t.Fatalf("missing query: %v, %v", resp, err)
	}
	// Content topics without a pubsub topic, and a pubsub topic alone, are answered.
	for _, q := range []*pb.HistoryQuery{
		{ContentFilters: []*pb.ContentFilter{{ContentTopic: ctB}}, PagingInfo: &pb.PagingInfo{PageSize: ptr(uint64(100))}},
		{PubsubTopic: ptr(testTopic), PagingInfo: &pb.PagingInfo{PageSize: ptr(uint64(100))}},
	} {
		resp, err := c.LegacyQuery(ctx, p, q)
		want := 10
		if q.PubsubTopic == nil {
			want = 3 // every third message of corpus(10) is on ctB
		}
		if err != nil || len(resp.Messages) != want {
			t.Fatalf("query %v: %d messages (%v), want %d", q, len(resp.GetMessages()), err, want)
		}
	}
}

// TestLegacyUndecodable: bytes that are not a HistoryRPC get error 400, not INVALID_CURSOR.
func TestLegacyUndecodable(t *testing.T) {
	resp := &pb.HistoryRPC{}
	rawExchange(t, LegacyProtocol, []byte{0xff, 0xff, 0xff}, resp)
	if got := resp.GetResponse().GetError(); got != legacyBadRequest {
		t.Fatalf("error %v, want 400", got)
	}
}
