package rest

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/store"
	storepb "github.com/wakunode/wakunode/store/pb"
)

func hashOf(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func hexHash(b byte) string { return "0x" + strings.Repeat(fmt.Sprintf("%02x", b), 32) }

func TestStoreV3Params(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	peerAddr := "/ip4/127.0.0.1/tcp/60001/p2p/" + f.id.String()
	cases := []struct {
		name  string
		query string
		check func(t *testing.T, r *storepb.StoreQueryRequest)
	}{
		{"defaults", "", func(t *testing.T, r *storepb.StoreQueryRequest) {
			if r.IncludeData || r.PubsubTopic != nil || r.ContentTopics != nil || r.TimeStart != nil || r.TimeEnd != nil ||
				r.MessageHashes != nil || r.PaginationCursor != nil || !r.PaginationForward || r.GetPaginationLimit() != 20 || r.RequestId == "" {
				t.Fatalf("defaults: %v", r)
			}
		}},
		{"content query", "includeData=true&pubsubTopic=" + url.QueryEscape(shard0) + "&contentTopics=" +
			url.QueryEscape(chatCT+",/a/1/b/proto") + "&startTime=100&endTime=200&pageSize=5&ascending=false",
			func(t *testing.T, r *storepb.StoreQueryRequest) {
				if !r.IncludeData || r.GetPubsubTopic() != shard0 || strings.Join(r.ContentTopics, "|") != chatCT+"|/a/1/b/proto" ||
					r.GetTimeStart() != 100 || r.GetTimeEnd() != 200 || r.GetPaginationLimit() != 5 || r.PaginationForward {
					t.Fatalf("got %v", r)
				}
			}},
		{"hashes and cursor", "hashes=" + hexHash(1) + "," + hexHash(2) + "&cursor=" + hexHash(3) + "&ascending=true",
			func(t *testing.T, r *storepb.StoreQueryRequest) {
				if len(r.MessageHashes) != 2 || !bytes.Equal(r.MessageHashes[1], hashOf(2)) ||
					!bytes.Equal(r.PaginationCursor, hashOf(3)) || !r.PaginationForward {
					t.Fatalf("got %v", r)
				}
			}},
		{"page size capped", "pageSize=1000", func(t *testing.T, r *storepb.StoreQueryRequest) {
			if r.GetPaginationLimit() != 100 {
				t.Fatalf("limit %d", r.GetPaginationLimit())
			}
		}},
		{"negative page size is default", "pageSize=-1", func(t *testing.T, r *storepb.StoreQueryRequest) {
			if r.GetPaginationLimit() != 20 {
				t.Fatalf("limit %d", r.GetPaginationLimit())
			}
		}},
		// Query shapes the wire codec and the archive accept: passed through unchanged.
		{"pubsubTopic only", "pubsubTopic=" + url.QueryEscape(shard0), func(t *testing.T, r *storepb.StoreQueryRequest) {
			if r.GetPubsubTopic() != shard0 || r.ContentTopics != nil || r.MessageHashes != nil {
				t.Fatalf("got %v", r)
			}
		}},
		{"contentTopics only", "contentTopics=" + url.QueryEscape(chatCT), func(t *testing.T, r *storepb.StoreQueryRequest) {
			if r.PubsubTopic != nil || len(r.ContentTopics) != 1 || r.ContentTopics[0] != chatCT {
				t.Fatalf("got %v", r)
			}
		}},
		{"hashes with pubsubTopic", "pubsubTopic=" + url.QueryEscape(shard0) + "&hashes=" + hexHash(4), func(t *testing.T, r *storepb.StoreQueryRequest) {
			if r.GetPubsubTopic() != shard0 || len(r.MessageHashes) != 1 || !bytes.Equal(r.MessageHashes[0], hashOf(4)) {
				t.Fatalf("got %v", r)
			}
		}},
		{"page size zero is default", "pageSize=0", func(t *testing.T, r *storepb.StoreQueryRequest) {
			if r.GetPaginationLimit() != 20 {
				t.Fatalf("limit %d", r.GetPaginationLimit())
			}
		}},
		{"non-positive times ignored", "startTime=0&endTime=-5", func(t *testing.T, r *storepb.StoreQueryRequest) {
			if r.TimeStart != nil || r.TimeEnd != nil {
				t.Fatalf("times %v %v", r.TimeStart, r.TimeEnd)
			}
		}},
		{"peerAddr", "peerAddr=" + url.QueryEscape(peerAddr), func(t *testing.T, _ *storepb.StoreQueryRequest) {
			if f.svc.addr == nil || f.svc.addr.String() != peerAddr {
				t.Fatalf("addr %v", f.svc.addr)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, h, "GET", "/store/v3/messages?"+tc.query, "", "")
			r.want(t, 200, jsonCT)
			f.mu.Lock()
			req := f.svc.storeReq
			f.mu.Unlock()
			tc.check(t, req)
		})
	}
}

func TestStoreV3BadParams(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	for _, q := range []string{
		"includeData=maybe", "startTime=abc", "endTime=1.5", "hashes=0x1234", "hashes=" + hexHash(1) + ",zz",
		"cursor=nothex", "pageSize=x", "pageSize=1.5", "peerAddr=garbage", "peerAddr=" + url.QueryEscape("/ip4/127.0.0.1/tcp/1"),
	} {
		t.Run(q, func(t *testing.T) {
			f.mu.Lock()
			f.svc.storeReq = nil
			f.mu.Unlock()
			do(t, h, "GET", "/store/v3/messages?"+q, "", "").want(t, 400, "text/plain")
			if f.svc.storeReq != nil {
				t.Fatal("node queried despite a bad parameter")
			}
		})
	}
}

func TestStoreV3Response(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	ts, ver, eph := int64(1700000000000000000), uint32(1), true
	topic := shard0
	f.svc.storeFn = func(_ multiaddr.Multiaddr, req *storepb.StoreQueryRequest) (*storepb.StoreQueryResponse, error) {
		code, desc := uint32(200), "OK"
		return &storepb.StoreQueryResponse{
			RequestId: req.RequestId, StatusCode: &code, StatusDesc: &desc,
			Messages: []*storepb.WakuMessageKeyValue{
				{MessageHash: hashOf(0xab), PubsubTopic: &topic, Message: &pb.WakuMessage{
					Payload: []byte("hi"), ContentTopic: chatCT, Version: &ver, Timestamp: &ts, Meta: []byte{1}, Ephemeral: &eph}},
				{MessageHash: hashOf(0xcd), PubsubTopic: &topic, Message: &pb.WakuMessage{
					Payload: []byte("yo"), ContentTopic: chatCT, Timestamp: &ts, RateLimitProof: []byte{2}}},
				{MessageHash: hashOf(0xef)}, // hashes only
			},
			PaginationCursor: hashOf(0xcd),
		}, nil
	}
	r := do(t, h, "GET", "/store/v3/messages?includeData=true", "", "")
	r.want(t, 200, jsonCT)
	id := f.svc.storeReq.RequestId
	want := `{"requestId":"` + id + `","statusCode":200,"statusDesc":"OK","messages":[` +
		`{"messageHash":"` + hexHash(0xab) + `","message":{"payload":"aGk=","contentTopic":"` + chatCT + `","version":1,"timestamp":1700000000000000000,"meta":"AQ==","ephemeral":true},"pubsubTopic":"` + shard0 + `"},` +
		`{"messageHash":"` + hexHash(0xcd) + `","message":{"payload":"eW8=","contentTopic":"` + chatCT + `","version":0,"timestamp":1700000000000000000,"ephemeral":false,"proof":"Ag=="},"pubsubTopic":"` + shard0 + `"},` +
		`{"messageHash":"` + hexHash(0xef) + `"}],` +
		`"paginationCursor":"` + hexHash(0xcd) + `"}`
	if r.body != want {
		t.Fatalf("body\n%s\nwant\n%s", r.body, want)
	}

	// Last page: no cursor, and an empty page is [] rather than null.
	f.svc.storeFn = nil
	r = do(t, h, "GET", "/store/v3/messages", "", "")
	if !strings.Contains(r.body, `"messages":[]`) || strings.Contains(r.body, "paginationCursor") {
		t.Fatalf("body %s", r.body)
	}
}

func TestStoreV3Errors(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	status := func(code uint32) *storepb.StoreQueryResponse {
		d := "desc"
		return &storepb.StoreQueryResponse{RequestId: "x", StatusCode: &code, StatusDesc: &d}
	}
	cases := []struct {
		name     string
		resp     *storepb.StoreQueryResponse
		err      error
		code     int
		ctype    string
		wantBody string
	}{
		{"no peer", nil, fmt.Errorf("x: %w", node.ErrNoServicePeer), 412, "text/plain", msgNoStorePeer},
		{"timeout", nil, fmt.Errorf("query: %w", context.DeadlineExceeded), 500, "text/plain", msgStoreTimeout},
		{"rate limited answer", status(429), nil, 429, "text/plain", msgRateLimited},
		{"rate limited error", nil, &store.StatusError{Code: 429}, 429, "text/plain", msgRateLimited},
		{"payment required", status(402), nil, 402, "text/plain", "desc"},
		{"bad response", nil, &store.StatusError{Code: store.StatusBadResponse, Desc: "no status"}, 500, "text/plain", "no status"},
		{"dial failure", nil, errFake, 500, "text/plain", errFake.Error()},
		{"refusal is an HTTP error", status(400), nil, 500, "text/plain", "desc"},
		{"unavailable is an HTTP error", status(503), nil, 500, "text/plain", "desc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.svc.storeFn = func(multiaddr.Multiaddr, *storepb.StoreQueryRequest) (*storepb.StoreQueryResponse, error) {
				return tc.resp, tc.err
			}
			f.mu.Unlock()
			r := do(t, h, "GET", "/store/v3/messages", "", "")
			r.want(t, tc.code, tc.ctype)
			if !strings.Contains(r.body, tc.wantBody) {
				t.Fatalf("body %q lacks %q", r.body, tc.wantBody)
			}
		})
	}
}

func TestStoreLegacy(t *testing.T) {
	f := newFakeNode(t)
	h := newTestServer(t, f, nil).Handler()
	digest := hashOf(7)
	digestB64 := b64.EncodeToString(digest)

	q := "pubsubTopic=" + url.QueryEscape(shard0) + "&contentTopics=" + url.QueryEscape(chatCT) +
		"&startTime=10&endTime=20&pageSize=500&ascending=false&senderTime=5&storeTime=6&digest=" + url.QueryEscape(digestB64)
	ts := int64(15)
	f.svc.legacyFn = func(_ multiaddr.Multiaddr, hq *storepb.HistoryQuery) (*storepb.HistoryResponse, error) {
		size := uint64(1)
		return &storepb.HistoryResponse{
			Messages:   []*pb.WakuMessage{{Payload: []byte("hi"), ContentTopic: chatCT, Timestamp: &ts, RateLimitProof: []byte{1}}},
			PagingInfo: &storepb.PagingInfo{PageSize: &size, Cursor: &storepb.Index{Digest: digest, ReceiverTime: 16, SenderTime: 15, PubsubTopic: shard0}},
		}, nil
	}
	r := do(t, h, "GET", "/store/v1/messages?"+q, "", "")
	r.want(t, 200, jsonCT)
	want := `{"messages":[{"payload":"aGk=","contentTopic":"` + chatCT + `","version":0,"timestamp":15,"ephemeral":false}],` +
		`"cursor":{"pubsubTopic":"` + shard0 + `","senderTime":15,"storeTime":16,"digest":{"data":"` + digestB64 + `"}}}`
	if r.body != want {
		t.Fatalf("body\n%s\nwant\n%s", r.body, want)
	}
	hq := f.svc.legacyQ
	c := hq.GetPagingInfo().GetCursor()
	if hq.GetPubsubTopic() != shard0 || len(hq.ContentFilters) != 1 || hq.ContentFilters[0].ContentTopic != chatCT ||
		hq.GetStartTime() != 10 || hq.GetEndTime() != 20 || hq.GetPagingInfo().GetPageSize() != 100 ||
		hq.GetPagingInfo().GetDirection() != storepb.PagingInfo_BACKWARD ||
		c == nil || c.SenderTime != 5 || c.ReceiverTime != 6 || !bytes.Equal(c.Digest, digest) || c.PubsubTopic != shard0 {
		t.Fatalf("query %v", hq)
	}

	// An unencoded '+' in the digest arrives as a space and still parses; no cursor without a topic.
	f.svc.legacyFn = nil
	plain := strings.Repeat("+", 42) + "w="
	r = do(t, h, "GET", "/store/v1/messages?senderTime=5&storeTime=6&digest="+strings.ReplaceAll(plain, "+", "%20"), "", "")
	r.want(t, 200, jsonCT)
	if f.svc.legacyQ.GetPagingInfo().Cursor != nil || f.svc.legacyQ.GetPagingInfo().GetDirection() != storepb.PagingInfo_FORWARD {
		t.Fatalf("query %v", f.svc.legacyQ)
	}
	if r.body != `{"messages":[]}` {
		t.Fatalf("empty body %s", r.body)
	}

	for _, bad := range []string{"digest=!!!", "digest=" + url.QueryEscape(b64.EncodeToString([]byte("short"))), "senderTime=x", "pageSize=y", "peerAddr=nope"} {
		do(t, h, "GET", "/store/v1/messages?"+bad, "", "").want(t, 400, "text/plain")
	}

	errs := []struct {
		resp *storepb.HistoryResponse
		err  error
		code int
	}{
		{nil, node.ErrNoServicePeer, 412},
		{nil, context.DeadlineExceeded, 500},
		{&storepb.HistoryResponse{Error: storepb.HistoryResponse_INVALID_CURSOR}, nil, 500},
		{&storepb.HistoryResponse{Error: storepb.HistoryResponse_TOO_MANY_REQUESTS}, nil, 429},
		{&storepb.HistoryResponse{Error: storepb.HistoryResponse_SERVICE_UNAVAILABLE}, nil, 500},
		{nil, &store.StatusError{Code: 429}, 429},
	}
	for i, tc := range errs {
		f.mu.Lock()
		f.svc.legacyFn = func(multiaddr.Multiaddr, *storepb.HistoryQuery) (*storepb.HistoryResponse, error) {
			return tc.resp, tc.err
		}
		f.mu.Unlock()
		if r := do(t, h, "GET", "/store/v1/messages", "", ""); r.code != tc.code {
			t.Errorf("case %d: status %d, want %d (%s)", i, r.code, tc.code, r.body)
		}
	}
}
