package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/ratelimit"
	"github.com/wakunode/wakunode/store"
	storepb "github.com/wakunode/wakunode/store/pb"
)

const acctContentTopic = "/test/1/relay/proto"

// acctConfig is a loopback node with accounting in mode, no free tier (balances are exact)
// and a short disconnect delay.
func acctConfig(t *testing.T, mode accounting.Mode) Config {
	t.Helper()
	cfg := testConfig(t)
	cfg.Accounting.Enabled = true
	cfg.Accounting.Mode = mode
	cfg.Accounting.Allowance = accounting.Allowance{}
	cfg.Accounting.DisconnectDelay = 100 * time.Millisecond
	cfg.Accounting.OverpayTolerance = 0
	return cfg
}

// account is n's record of the node with id of m (zero when it has none).
func account(t *testing.T, n, m *Node) PeerAccount {
	t.Helper()
	a, _ := n.Accounting().Peer(context.Background(), m.ID())
	return a
}

// mirrored reports whether a's record of b is b's record of a seen from the other side.
func mirrored(t *testing.T, a, b *Node) (bool, string) {
	ab, ba := account(t, a, b), account(t, b, a)
	why := fmt.Sprintf("A→B %+v / B→A %+v", ab, ba)
	if ab.Balance != -ba.Balance || ab.RelayBytesOut != ba.RelayBytesIn || ab.RelayBytesIn != ba.RelayBytesOut {
		return false, why
	}
	for _, s := range accounting.Services {
		if ab.Served[s.String()] != ba.Consumed[s.String()] || ab.Consumed[s.String()] != ba.Served[s.String()] {
			return false, why
		}
	}
	return true, why
}

func waitMirrored(t *testing.T, a, b *Node) {
	t.Helper()
	var why string
	waitFor(t, 15*time.Second, func() string { return "ledgers do not mirror: " + why }, func() bool {
		var ok bool
		ok, why = mirrored(t, a, b)
		return ok
	})
}

// storeQuery asks the store node at addr for up to limit messages of testTopic.
func storeQuery(t *testing.T, n *Node, addr multiaddr.Multiaddr, limit uint64) *storepb.StoreQueryResponse {
	t.Helper()
	topic := testTopic
	req := &storepb.StoreQueryRequest{PubsubTopic: &topic, ContentTopics: []string{acctContentTopic}, IncludeData: true,
		PaginationLimit: &limit, PaginationForward: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := n.Store().Query(ctx, addr, req)
	if err != nil {
		t.Fatalf("store query: %v", err)
	}
	return resp
}

func publishN(t *testing.T, n *Node, prefix string, count int) {
	t.Helper()
	for i := range count {
		if _, err := n.Publish(context.Background(), testTopic, testMessage(fmt.Sprintf("%s %d", prefix, i))); err != nil {
			t.Fatal(err)
		}
	}
}

// Two nodes account store, filter, lightpush and relay consistently: A's record of B mirrors
// B's record of A after a mixed workload, and after either restarts (balances persisted).
func TestAccountingMirrorsAcrossNodesAndRestart(t *testing.T) {
	ca := acctConfig(t, accounting.Soft)
	ca.Store.Enabled, ca.Filter.Enabled, ca.Lightpush = true, true, true
	a := startNode(t, ca)
	aAddr := addrWith(t, a, "/tcp/")
	cb := acctConfig(t, accounting.Soft)
	cb.FilterNode = aAddr
	b := startNode(t, cb)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := b.Connect(ctx, aAddr); err != nil {
		t.Fatal(err)
	}
	waitTopicPeers(t, a, 1)
	var sub *filter.Subscription
	waitFor(t, 10*time.Second, func() string { return "filter subscribe never succeeded" }, func() bool {
		var err error
		sub, err = b.Filter().Subscribe(ctx, testTopic, []string{acctContentTopic})
		return err == nil
	})
	defer func() { _ = b.Filter().Unsubscribe(ctx, sub) }()

	publishN(t, a, "relayed and pushed", 12) // relay bytes A→B, filter pushes A→B
	waitCount(t, a, 12)
	for _, limit := range []uint64{5, 7} {
		if got := len(storeQuery(t, b, aAddr, limit).Messages); got != int(limit) {
			t.Fatalf("store returned %d messages, want %d", got, limit)
		}
	}
	for i := range 3 {
		if _, err := b.Lightpush().Publish(ctx, aAddr, testTopic, testMessage(fmt.Sprintf("pushed %d", i)), false); err != nil {
			t.Fatalf("lightpush %d: %v", i, err)
		}
	}
	waitFor(t, 15*time.Second, func() string { return fmt.Sprintf("B's record of A: %+v", account(t, b, a)) }, func() bool {
		r := account(t, b, a)
		return r.Consumed["store"] == 12 && r.Consumed["filter"] >= 12 && r.Consumed["lightpush"] == 3
	})
	waitMirrored(t, a, b)
	before := account(t, b, a)
	var sum int64
	for _, svc := range accounting.Services {
		sum += before.Served[svc.String()] - before.Consumed[svc.String()]
	}
	if before.Balance != sum {
		t.Fatalf("B's balance %d does not add up: %+v", before.Balance, before)
	}

	// B restarts from its data dir: its ledger comes back as it was and still mirrors A's.
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	b = startNode(t, cb)
	if got := account(t, b, a); got.Balance != before.Balance || got.Consumed["store"] != before.Consumed["store"] ||
		got.Consumed["filter"] != before.Consumed["filter"] || got.Consumed["lightpush"] != before.Consumed["lightpush"] {
		t.Fatalf("after restart B's record of A is %+v, was %+v", got, before)
	}
	waitMirrored(t, a, b)
	if got := len(storeQuery(t, b, aAddr, 4).Messages); got != 4 {
		t.Fatalf("store after restart returned %d messages", got)
	}
	waitFor(t, 10*time.Second, func() string { return "second store query not booked" }, func() bool {
		return account(t, b, a).Consumed["store"] == 16
	})
	waitMirrored(t, a, b)

	// And the server restarts: its record of B comes back too.
	served := account(t, a, b)
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	a = startNode(t, ca)
	if got := account(t, a, b); got.Balance != served.Balance || got.Served["store"] != 16 || got.Served["filter"] != served.Served["filter"] {
		t.Fatalf("after restart A's record of B is %+v, was %+v", got, served)
	}
	waitMirrored(t, a, b)
}

// Mock mode: the client pays a cheque once it owes the payment threshold, and both ledgers
// return to zero; the REST view shows the cheque on both sides.
func TestMockModeChequesSettleBalances(t *testing.T) {
	cs := acctConfig(t, accounting.Mock)
	cs.Store.Enabled = true
	s := startNode(t, cs)
	sAddr := addrWith(t, s, "/tcp/")
	cc := acctConfig(t, accounting.Mock)
	cc.Relay = false
	cc.Accounting.PaymentThreshold = 10
	c := startNode(t, cc)
	publishN(t, s, "stored", 25)
	waitCount(t, s, 25)

	storeQuery(t, c, sAddr, 8) // owes 8: below the threshold
	waitFor(t, 5*time.Second, func() string { return fmt.Sprintf("%+v", account(t, s, c)) }, func() bool {
		return account(t, s, c).Balance == 8
	})
	if account(t, c, s).LastChequeSent != nil {
		t.Fatal("a cheque was sent below the payment threshold")
	}
	storeQuery(t, c, sAddr, 7) // owes 15: pays 15
	waitFor(t, 10*time.Second, func() string { return fmt.Sprintf("S %+v / C %+v", account(t, s, c), account(t, c, s)) }, func() bool {
		sc, cs := account(t, s, c), account(t, c, s)
		return sc.Balance == 0 && cs.Balance == 0 && sc.LastChequeReceived != nil && cs.LastChequeSent != nil
	})
	sc, cs2 := account(t, s, c), account(t, c, s)
	if sc.LastChequeReceived.Cumulative != 15 || cs2.LastChequeSent.Cumulative != 15 ||
		sc.LastChequeReceived.Beneficiary != s.Accounting().Swap().Address() {
		t.Fatalf("cheques: received %+v, sent %+v", sc.LastChequeReceived, cs2.LastChequeSent)
	}
	if sc.Served["store"] != 15 || cs2.Consumed["store"] != 15 {
		t.Fatalf("service units changed by settlement: %+v / %+v", sc, cs2)
	}
	if sc.Trust <= 0 || cs2.Trust <= 0 {
		t.Fatalf("no trust after honest exchange: server→client %v, client→server %v", sc.Trust, cs2.Trust)
	}
}

// A light node that does not pay is refused with 402 and disconnected at the disconnect
// threshold, and served again once it settles.
func TestDebtorRefusedDisconnectedThenServedAfterSettling(t *testing.T) {
	cs := acctConfig(t, accounting.Mock)
	cs.Store.Enabled = true
	cs.Accounting.DisconnectThreshold = -10
	s := startNode(t, cs)
	sAddr := addrWith(t, s, "/tcp/")
	cl := acctConfig(t, accounting.Mock)
	cl.Relay = false
	cl.Accounting.PaymentThreshold = 1_000_000 // never pays on its own
	l := startNode(t, cl)
	publishN(t, s, "stored", 10)
	waitCount(t, s, 10)

	for i := range 2 { // 6 then 12 units: the second query is still served (checked before serving)
		if resp := storeQuery(t, l, sAddr, 6); resp.GetStatusCode() != store.StatusOK {
			t.Fatalf("query %d refused below the threshold: %d %s", i, resp.GetStatusCode(), resp.GetStatusDesc())
		}
	}
	waitFor(t, 5*time.Second, func() string { return "server did not book 12" }, func() bool { return account(t, s, l).Balance == 12 })
	resp := storeQuery(t, l, sAddr, 6)
	if resp.GetStatusCode() != 402 || len(resp.Messages) != 0 {
		t.Fatalf("debtor answered %d %q with %d messages, want 402", resp.GetStatusCode(), resp.GetStatusDesc(), len(resp.Messages))
	}
	waitFor(t, 5*time.Second, func() string { return "debtor still connected" }, func() bool { // both ends saw the close
		return s.Host().Network().Connectedness(l.ID()) != network.Connected &&
			l.Host().Network().Connectedness(s.ID()) != network.Connected
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	paid, err := l.Accounting().Swap().Pay(ctx, s.ID()) // redials the server
	if err != nil || paid != 12 {
		t.Fatalf("settling paid %d: %v", paid, err)
	}
	if b := account(t, s, l).Balance; b != 0 {
		t.Fatalf("server's balance of the debtor is %d after settling", b)
	}
	if resp := storeQuery(t, l, sAddr, 6); resp.GetStatusCode() != store.StatusOK || len(resp.Messages) != 6 {
		t.Fatalf("settled peer answered %d %q", resp.GetStatusCode(), resp.GetStatusDesc())
	}
}

// With --swap off the node exposes no accounting and installs no hooks.
func TestAccountingOffByDefault(t *testing.T) {
	n := startNode(t, testConfig(t))
	if n.Accounting() != nil {
		t.Fatal("accounting on without --swap")
	}
	if meter[store.Accounting](nil, accounting.Store, false) != nil {
		t.Fatal("a nil Accounting produced a non-nil hook")
	}
}

// A client with two store nodes, one of which refuses every query, ends up asking the honest
// one: the refusals cost the bad node its standing and the peer manager ranks it last.
func TestReputationSteersStoreSelection(t *testing.T) {
	honestCfg := testConfig(t)
	honestCfg.Store.Enabled = true
	honest := startNode(t, honestCfg)
	badCfg := testConfig(t)
	badCfg.Store.Enabled = true
	var err error
	if badCfg.RateLimits, err = ratelimit.Parse([]string{"store:1/1h"}); err != nil { // one answer, then 429
		t.Fatal(err)
	}
	bad := startNode(t, badCfg)
	publishN(t, honest, "honest", 3)
	publishN(t, bad, "bad", 3)
	waitCount(t, honest, 3)
	waitCount(t, bad, 3)

	c := startNode(t, acctConfig(t, accounting.Soft))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range []*Node{honest, bad} {
		if err := c.Connect(ctx, addrWith(t, n, "/tcp/")); err != nil {
			t.Fatal(err)
		}
	}
	storeQuery(t, c, addrWith(t, bad, "/tcp/"), 3) // uses up the bad node's one answer
	waitFor(t, 10*time.Second, func() string { return "service peers not selectable" }, func() bool {
		_, err := c.Store().Query(ctx, nil, &storepb.StoreQueryRequest{PaginationForward: true})
		return err == nil
	})
	refused := 0
	for range 30 {
		if resp := storeQuery(t, c, nil, 3); resp.GetStatusCode() != store.StatusOK {
			refused++
		}
	}
	if refused > 1 { // without reputation a random choice is refused about 15 times
		t.Fatalf("%d of 30 queries went to the refusing store node", refused)
	}
	if !c.Accounting().Reputation().ShouldReplace(bad.ID()) && refused == 1 {
		t.Fatal("a refusing store node kept its standing")
	}
	if c.Accounting().Reputation().Trust(honest.ID()) <= c.Accounting().Reputation().Trust(bad.ID()) {
		t.Fatal("the honest store node is not trusted more than the refusing one")
	}
}
