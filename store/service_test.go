package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/ratelimit"
	"github.com/wakunode/wakunode/store/pb"
)

func TestV3Status(t *testing.T) {
	ms := corpus(30)
	all := ordered(ms)
	c, p := setup(t, openArchive(t, ms), ServiceConfig{})
	tooMany := make([]string, MaxContentTopics+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("/x/1/t%d/proto", i)
	}
	unknown := message.Hash{7}
	last := all[len(all)-1].Hash
	for _, tc := range []struct {
		name      string
		req       *pb.StoreQueryRequest
		code      uint32
		wantCount int
	}{
		{"content filter", &pb.StoreQueryRequest{PubsubTopic: ptr(testTopic), ContentTopics: []string{ctA}}, 200, 20},
		{"everything, default page", &pb.StoreQueryRequest{}, 200, 20},
		{"time range only", &pb.StoreQueryRequest{TimeStart: ptr(all[0].Message.GetTimestamp()), TimeEnd: ptr(all[4].Message.GetTimestamp())}, 200, 4},
		// nwaku answers every shape; all set filters are ANDed.
		{"only pubsub topic", &pb.StoreQueryRequest{PubsubTopic: ptr(testTopic), PaginationLimit: ptr(uint64(100))}, 200, 30},
		{"only other pubsub topic", &pb.StoreQueryRequest{PubsubTopic: ptr("/waku/2/rs/1/7")}, 200, 0},
		{"only content topics", &pb.StoreQueryRequest{ContentTopics: []string{ctB}, PaginationLimit: ptr(uint64(100))}, 200, 10},
		{"empty content topic", &pb.StoreQueryRequest{PubsubTopic: ptr(testTopic), ContentTopics: []string{""}}, 200, 0},
		{"too many content topics", &pb.StoreQueryRequest{PubsubTopic: ptr(testTopic), ContentTopics: tooMany}, 400, 0},
		{"hashes with pubsub topic", &pb.StoreQueryRequest{PubsubTopic: ptr(testTopic), MessageHashes: [][]byte{last[:], unknown[:]}}, 200, 1},
		{"hashes with other pubsub topic", &pb.StoreQueryRequest{PubsubTopic: ptr("/waku/2/rs/1/7"), MessageHashes: [][]byte{last[:]}}, 200, 0},
		{"hashes with time", &pb.StoreQueryRequest{TimeStart: ptr(int64(1)), MessageHashes: [][]byte{last[:]}}, 200, 1},
		{"short hash", &pb.StoreQueryRequest{MessageHashes: [][]byte{{1, 2}}}, 400, 0},
		{"short cursor", &pb.StoreQueryRequest{PaginationCursor: []byte{1}}, 400, 0},
		{"unknown cursor", &pb.StoreQueryRequest{PaginationCursor: unknown[:]}, 400, 0},
		{"cursor at the end", &pb.StoreQueryRequest{PaginationCursor: last[:], PaginationForward: true}, 200, 0},
		{"limit above max", &pb.StoreQueryRequest{PaginationLimit: ptr(uint64(1000))}, 200, 30},
		{"hash lookup", &pb.StoreQueryRequest{MessageHashes: [][]byte{last[:], unknown[:]}}, 200, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.RequestId = "req-" + tc.name
			resp, err := c.Query(context.Background(), p, tc.req)
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.GetStatusCode() != tc.code || resp.RequestId != tc.req.RequestId || resp.StatusDesc == nil {
				t.Fatalf("status %d %q id %q, want %d and the request id", resp.GetStatusCode(), resp.GetStatusDesc(), resp.RequestId, tc.code)
			}
			if (err == nil) != (tc.code == 200) || (tc.code != 200 && !IsStatus(err, tc.code)) {
				t.Fatalf("client error %v for status %d", err, tc.code)
			}
			if len(resp.Messages) != tc.wantCount {
				t.Fatalf("%d messages, want %d", len(resp.Messages), tc.wantCount)
			}
			if tc.name == "cursor at the end" && resp.PaginationCursor != nil {
				t.Fatal("cursor on the last page")
			}
		})
	}
}

func TestV3RateLimitAndUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ServiceConfig
		q    Querier
		code uint32
	}{
		{"rate limited", ServiceConfig{RateLimiter: denyAll{}, LegacyRateLimiter: denyAll{}}, openArchive(t, nil), StatusTooManyRequests},
		{"archive failing", ServiceConfig{}, failing{}, StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, p := setup(t, tc.q, tc.cfg)
			resp, err := c.Query(context.Background(), p, &pb.StoreQueryRequest{RequestId: "x"})
			if !IsStatus(err, tc.code) || resp.GetRequestId() != "x" {
				t.Fatalf("got %v (%v), want %d", resp, err, tc.code)
			}
			lresp, err := c.LegacyQuery(context.Background(), p, &pb.HistoryQuery{})
			if !IsStatus(err, tc.code) || lresp.GetError() != pb.HistoryResponse_Error(tc.code) {
				t.Fatalf("legacy: %v (%v), want %d", lresp, err, tc.code)
			}
		})
	}
}

func TestV3Paging(t *testing.T) {
	ms := corpus(95)
	c, p := setup(t, openArchive(t, ms), ServiceConfig{})
	var wantA []*message.Envelope
	for _, e := range ordered(ms) {
		if e.Message.ContentTopic == ctA {
			wantA = append(wantA, e)
		}
	}
	for _, tc := range []struct {
		forward, data bool
		limit         uint64
		filter        bool
	}{
		{true, true, 10, true}, {false, true, 10, true}, {true, false, 7, false}, {false, false, 0, false},
		{true, true, 100, false}, {false, false, 19, true},
	} {
		t.Run(fmt.Sprintf("forward=%v data=%v limit=%d filter=%v", tc.forward, tc.data, tc.limit, tc.filter), func(t *testing.T) {
			req := &pb.StoreQueryRequest{IncludeData: tc.data, PaginationForward: tc.forward}
			if tc.limit > 0 {
				req.PaginationLimit = &tc.limit
			}
			want := ordered(ms)
			if tc.filter {
				req.PubsubTopic, req.ContentTopics, want = ptr(testTopic), []string{ctA}, wantA
			}
			var got []*pb.WakuMessageKeyValue
			pages := 0
			for resp, err := range c.Pages(context.Background(), p, req) {
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if tc.forward {
					got = append(got, resp.Messages...)
				} else {
					got = append(slices.Clone(resp.Messages), got...)
				}
			}
			limit := pageSize(req.PaginationLimit)
			if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
				t.Fatalf("%d pages, want %d", pages, wantPages)
			}
			if len(got) != len(want) {
				t.Fatalf("%d messages, want %d", len(got), len(want))
			}
			for i, kv := range got {
				if string(kv.MessageHash) != string(want[i].Hash[:]) {
					t.Fatalf("entry %d hash %x, want %s", i, kv.MessageHash, want[i].Hash)
				}
				if tc.data != (kv.Message != nil) || tc.data != (kv.PubsubTopic != nil) {
					t.Fatalf("entry %d: include_data=%v but message=%v topic=%v", i, tc.data, kv.Message != nil, kv.PubsubTopic)
				}
				if tc.data && (kv.GetPubsubTopic() != testTopic || string(kv.Message.Payload) != string(want[i].Message.Payload)) {
					t.Fatalf("entry %d data differs", i)
				}
			}
		})
	}
}

func TestPresence(t *testing.T) {
	ms := corpus(10)
	c, p := setup(t, openArchive(t, ms[:5]), ServiceConfig{})
	var ask [][]byte
	for _, e := range ms {
		ask = append(ask, e.Hash[:])
	}
	resp, err := c.Query(context.Background(), p, &pb.StoreQueryRequest{MessageHashes: ask})
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, kv := range resp.Messages {
		present[string(kv.MessageHash)] = true
		if kv.Message != nil {
			t.Fatal("presence query returned data")
		}
	}
	for i, e := range ms {
		if present[string(e.Hash[:])] != (i < 5) {
			t.Fatalf("message %d present=%v", i, !(i < 5))
		}
	}
}

// TestMalformedBytes: bytes that are not a StoreQueryRequest get a 400 with a status code.
func TestMalformedBytes(t *testing.T) {
	resp := &pb.StoreQueryResponse{}
	rawExchange(t, QueryProtocol, []byte{0xff, 0xff, 0xff}, resp)
	if resp.GetStatusCode() != StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.GetStatusCode())
	}
}

// TestOversizedRequest: a request over MaxRequestSize gets a 400 status, not a bare reset,
// even from a client that writes all of it before reading.
func TestOversizedRequest(t *testing.T) {
	resp := &pb.StoreQueryResponse{}
	rawExchange(t, QueryProtocol, make([]byte, MaxRequestSize+1), resp)
	if resp.GetStatusCode() != StatusBadRequest || !strings.Contains(resp.GetStatusDesc(), "exceed") {
		t.Fatalf("status %d %q, want 400", resp.GetStatusCode(), resp.GetStatusDesc())
	}
}

// TestSeparateLegacyBucket: --rate-limit storev2: and storev3: are two buckets, as in nwaku;
// spending the v3 one leaves legacy queries their own.
func TestSeparateLegacyBucket(t *testing.T) {
	v3 := ratelimit.NewLimiter(ratelimit.Setting{Volume: 1, Period: time.Hour}, nil)
	v2 := ratelimit.NewLimiter(ratelimit.Setting{Volume: 2, Period: time.Hour}, nil)
	c, p := setup(t, openArchive(t, nil), ServiceConfig{RateLimiter: v3, LegacyRateLimiter: v2})
	ctx := context.Background()
	if _, err := c.Query(ctx, p, &pb.StoreQueryRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(ctx, p, &pb.StoreQueryRequest{}); !IsStatus(err, StatusTooManyRequests) {
		t.Fatalf("second v3 query: %v, want 429", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.LegacyQuery(ctx, p, &pb.HistoryQuery{}); err != nil {
			t.Fatalf("legacy query %d: %v", i, err)
		}
	}
	if _, err := c.LegacyQuery(ctx, p, &pb.HistoryQuery{}); !IsStatus(err, StatusTooManyRequests) {
		t.Fatalf("third legacy query: %v, want 429", err)
	}
}
