package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/internal/testacct"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/store/pb"
)

// acctSetup starts a store node (legacy mounted) over q with acct, and a client observed by obs.
func acctSetup(t testing.TB, q Querier, acct Accounting, obs ClientObserver) (*Service, *Client, peer.ID, peer.ID) {
	t.Helper()
	server, client := testhost.New(t), testhost.New(t)
	s := NewService(server, q, ServiceConfig{Legacy: true, Accounting: acct})
	s.Start()
	t.Cleanup(s.Stop)
	testhost.Connect(t, client, server)
	return s, NewClient(client, ClientConfig{Observer: obs}), server.ID(), client.ID()
}

func TestAccountingRefusal(t *testing.T) {
	srv, obs := testacct.New(2), testacct.New(0)
	s, c, sp, cp := acctSetup(t, openArchive(t, corpus(30)), srv, obs)
	ctx := context.Background()
	for range 2 {
		if resp, err := c.Query(ctx, sp, &pb.StoreQueryRequest{}); err != nil || len(resp.Messages) != 20 {
			t.Fatalf("allowed query: %v", err)
		}
	}
	resp, err := c.Query(ctx, sp, &pb.StoreQueryRequest{RequestId: "r3"})
	if !IsStatus(err, StatusPaymentRequired) || resp.GetStatusCode() != 402 || resp.GetStatusDesc() != testacct.ErrRefused.Error() ||
		resp.RequestId != "r3" || len(resp.Messages) != 0 {
		t.Fatalf("refused query: %v, status %d %q", err, resp.GetStatusCode(), resp.GetStatusDesc())
	}
	// Legacy v2 has no 402: SERVICE_UNAVAILABLE.
	if _, err := c.LegacyQuery(ctx, sp, &pb.HistoryQuery{}); !IsStatus(err, uint32(pb.HistoryResponse_SERVICE_UNAVAILABLE)) {
		t.Fatalf("refused legacy query: %v", err)
	}
	// The node's own REST queries (from = "") are neither asked about nor booked.
	if resp := s.Answer(ctx, "", &pb.StoreQueryRequest{}); resp.GetStatusCode() != StatusOK {
		t.Fatalf("local query: %d", resp.GetStatusCode())
	}
	testacct.Wait(t, "served 40", func() bool { return srv.ServedTo(cp) == 40 })
	if srv.Allows(cp) != 4 || srv.ServedTo("") != 0 || srv.Allows("") != 0 {
		t.Fatalf("server: %d allows, %d to the local node", srv.Allows(cp), srv.ServedTo(""))
	}
	if obs.ReceivedFrom(sp) != 40 || obs.Failures(sp) != 2 {
		t.Fatalf("client: received %d, failures %d; want 40, 2", obs.ReceivedFrom(sp), obs.Failures(sp))
	}
}

// TestAccountingCountsMatch: after a mixed workload the server's Served equals the client's
// Received, and only the failures that are the server's count against it.
func TestAccountingCountsMatch(t *testing.T) {
	ms := corpus(30)
	srv, obs := testacct.New(0), testacct.New(0)
	_, c, sp, cp := acctSetup(t, openArchive(t, ms), srv, obs)
	ctx := context.Background()
	want := 0
	pages := 0
	for resp, err := range c.Pages(ctx, sp, &pb.StoreQueryRequest{PaginationLimit: ptr(uint64(7)), IncludeData: true}) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		want += len(resp.Messages)
	}
	for resp, err := range c.LegacyPages(ctx, sp, &pb.HistoryQuery{PagingInfo: &pb.PagingInfo{PageSize: ptr(uint64(11))}}) {
		if err != nil {
			t.Fatal(err)
		}
		want += len(resp.Messages)
	}
	h, unknown := ms[3].Hash, message.Hash{9}
	for _, req := range []*pb.StoreQueryRequest{
		{MessageHashes: [][]byte{h[:]}},      // 1
		{PubsubTopic: ptr("/waku/2/rs/1/7")}, // 0: an empty page is still an answer
		{MessageHashes: [][]byte{{1, 2}}},    // 400: our fault, not the server's
		{PaginationCursor: unknown[:]},       // 400
	} {
		resp, _ := c.Query(ctx, sp, req)
		want += len(resp.GetMessages())
	}
	if want != 30+30+1 || pages != 5 {
		t.Fatalf("workload returned %d messages in %d v3 pages", want, pages)
	}
	testacct.Wait(t, "server and client agree", func() bool { return srv.ServedTo(cp) == want && obs.ReceivedFrom(sp) == want })
	if obs.Failures(sp) != 0 {
		t.Fatalf("%d failures booked for 400 answers", obs.Failures(sp))
	}
}

// TestQueryMultiReportsWithholding: a store that answers nothing while another had the
// history, and one that cannot be reached, are reported Failed; the honest one is not.
func TestQueryMultiReportsWithholding(t *testing.T) {
	obs := testacct.New(0)
	c, ids := multiSetup(t, ClientConfig{Observer: obs}, corpus(30), nil)
	dead := testhost.New(t).ID()
	res, err := c.QueryMulti(context.Background(), append(ids, dead), &pb.StoreQueryRequest{PaginationForward: true}, 0)
	if err != nil || len(res.Messages) != 30 {
		t.Fatalf("multi-query: %v", err)
	}
	honest, withholding := ids[0], ids[1]
	if obs.Failures(honest) != 0 || obs.ReceivedFrom(honest) != 30 {
		t.Fatalf("honest store: %d failures, %d received", obs.Failures(honest), obs.ReceivedFrom(honest))
	}
	if obs.Failures(withholding) != 1 || obs.Failures(dead) != 1 {
		t.Fatalf("failures: withholding %d, dead %d; want 1 each", obs.Failures(withholding), obs.Failures(dead))
	}
	// Alone, an empty answer is no evidence of withholding.
	if _, err := c.QueryMulti(context.Background(), ids[1:2], &pb.StoreQueryRequest{}, 0); err != nil || obs.Failures(withholding) != 1 {
		t.Fatalf("empty store alone: %v, %d failures", err, obs.Failures(withholding))
	}
}

// BenchmarkQueryAccounting runs store v3 queries (a full page of 20 messages with data, over
// libp2p on loopback) with Accounting nil and with a real accounting.Ledger and Policy. It
// reports wall and process CPU time per query (client and server share the process).
func BenchmarkQueryAccounting(b *testing.B) {
	a := openArchive(b, corpus(200))
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("accounting=%v", on), func(b *testing.B) {
			var acct Accounting
			if on {
				acct = testacct.NewLedger(b, accounting.Store)
			}
			_, c, sp, _ := acctSetup(b, a, acct, nil)
			req := &pb.StoreQueryRequest{IncludeData: true, PaginationLimit: ptr(uint64(20))}
			ctx := context.Background()
			b.ResetTimer()
			cpu0 := testacct.CPUTime()
			for range b.N {
				if resp, err := c.Query(ctx, sp, req); err != nil || len(resp.Messages) != 20 {
					b.Fatalf("query: %v", err)
				}
			}
			b.ReportMetric(float64((testacct.CPUTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/query")
		})
	}
	// What accounting adds to one query: Allow and Served on the ledger, without the network.
	b.Run("hooks-alone", func(b *testing.B) {
		acct := testacct.NewLedger(b, accounting.Store)
		p := testhost.New(b).ID()
		for range b.N {
			if err := acct.Allow(p); err != nil {
				b.Fatal(err)
			}
			acct.Served(p, 20)
		}
	})
}
