package accounting_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/message"
	mpb "github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/store"
	spb "github.com/wakunode/wakunode/store/pb"
)

const (
	pubsubTopic  = "/waku/2/rs/0/0"
	historyTopic = "/acct/1/history/proto"
	liveTopic    = "/acct/1/live/proto"
	numServers   = 3
	numClients   = 20
	historySize  = 30 // messages in each service node's archive
	pageSize     = 10
)

// serverHooks books one service of a service node into its ledger, asking its policy first:
// the shape of store/filter/lightpush.Accounting.
type serverHooks struct {
	svc accounting.Service
	l   *accounting.Ledger
	pol *accounting.Policy
}

func (h serverHooks) Allow(p peer.ID) error          { return h.pol.Allow(p, h.svc) }
func (h serverHooks) Served(p peer.ID, messages int) { h.l.Debit(p, h.svc, int64(messages)) }

// clientHooks credits what a service node delivered to a light client: the shape of
// store/filter/lightpush.ClientObserver.
type clientHooks struct {
	svc accounting.Service
	l   *accounting.Ledger
}

func (h clientHooks) Received(p peer.ID, messages int) { h.l.Credit(p, h.svc, int64(messages)) }
func (h clientHooks) Failed(peer.ID)                   {}

func newLedger(t *testing.T) *accounting.Ledger {
	t.Helper()
	l, err := accounting.NewLedger(accounting.Config{Prices: accounting.DefaultPrices()}, accounting.NewMetrics(nil))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// fanOut is a service node's lightpush publisher: accepted messages go to its filter subscribers.
type fanOut struct{ f *filter.Service }

func (p fanOut) PublishEnvelope(_ context.Context, e *message.Envelope) (int, error) {
	p.f.Push(e)
	return 1, nil
}

type serviceNode struct {
	h      host.Host
	ledger *accounting.Ledger
}

func startServiceNode(t *testing.T) serviceNode {
	t.Helper()
	ctx := context.Background()
	h := testhost.New(t)
	l := newLedger(t)
	pol, err := accounting.NewPolicy(l, accounting.PolicyConfig{Mode: accounting.Soft, DisconnectThreshold: -100}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a, err := archive.Open(ctx, archive.Config{URL: "sqlite://" + filepath.Join(t.TempDir(), "store.sqlite3"), Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	for i := 0; i < historySize; i++ {
		ts := now.UnixNano() - int64(i)*int64(time.Millisecond)
		e, err := message.NewEnvelope(pubsubTopic, &mpb.WakuMessage{Payload: []byte(fmt.Sprint(i)), ContentTopic: historyTopic, Timestamp: &ts}, ts)
		if err == nil {
			err = a.InsertHistorical(ctx, e)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := store.NewService(h, a, store.ServiceConfig{Accounting: serverHooks{accounting.Store, l, pol}})
	st.Start()
	t.Cleanup(st.Stop)
	f := filter.NewService(h, filter.Config{Accounting: serverHooks{accounting.Filter, l, pol}})
	f.Start()
	t.Cleanup(f.Stop)
	lp, err := lightpush.NewService(h, lightpush.Config{Publisher: fanOut{f}, Accounting: serverHooks{accounting.Lightpush, l, pol}})
	if err != nil {
		t.Fatal(err)
	}
	lp.Start()
	t.Cleanup(lp.Stop)
	return serviceNode{h: h, ledger: l}
}

type lightClient struct {
	h      host.Host
	ledger *accounting.Ledger
	store  *store.Client
	filter *filter.Client
	push   *lightpush.Client
	// Which service node serves what, and how much this client asks of it.
	storeAt, filterAt, pushAt int
	pages, pushes             int
}

func startLightClient(t *testing.T, rng *rand.Rand, servers []serviceNode) *lightClient {
	t.Helper()
	h := testhost.New(t)
	l := newLedger(t)
	c := &lightClient{h: h, ledger: l,
		store:   store.NewClient(h, store.ClientConfig{Observer: clientHooks{accounting.Store, l}}),
		filter:  filter.NewClient(h, filter.ClientConfig{Observer: clientHooks{accounting.Filter, l}}),
		push:    lightpush.NewClient(h, lightpush.ClientConfig{Observer: clientHooks{accounting.Lightpush, l}}),
		storeAt: rng.IntN(numServers), filterAt: rng.IntN(numServers), pushAt: rng.IntN(numServers),
		pages: rng.IntN(historySize/pageSize + 1), pushes: rng.IntN(5)}
	t.Cleanup(c.filter.Close)
	for _, s := range servers {
		testhost.Connect(t, h, s.h)
	}
	return c
}

// TestBalanceTable runs 20 light clients against 3 service nodes on loopback (store queries,
// filter subscriptions, lightpush publications), every node with its own ledger booking
// through the services' accounting hooks. Each service node's record of a client must mirror
// the client's record of it, service by service; the table shows who served whom.
func TestBalanceTable(t *testing.T) {
	servers := make([]serviceNode, numServers)
	for i := range servers {
		servers[i] = startServiceNode(t)
	}
	rng := rand.New(rand.NewPCG(12, 2026)) // a fixed, uneven spread of clients over nodes
	clients := make([]*lightClient, numClients)
	for i := range clients {
		clients[i] = startLightClient(t, rng, servers)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Filter first, so every push below reaches every subscriber of its service node.
	subs := make([]*filter.Subscription, numClients)
	for i, c := range clients {
		s, err := c.filter.Subscribe(ctx, servers[c.filterAt].h.ID(), pubsubTopic, liveTopic)
		if err != nil {
			t.Fatalf("client %d subscribe: %v", i, err)
		}
		subs[i] = s
	}
	pushedTo := make([]int, numServers)
	var wg sync.WaitGroup
	errs := make(chan error, numClients)
	for i, c := range clients {
		pushedTo[c.pushAt] += c.pushes
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.run(ctx, i, servers); err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, c := range clients { // every subscriber receives every message pushed to its node
		for n := 0; n < pushedTo[c.filterAt]; n++ {
			select {
			case <-subs[i].C:
			case <-ctx.Done():
				t.Fatalf("client %d got %d of %d filter pushes", i, n, pushedTo[c.filterAt])
			}
		}
	}
	// The server books a push once its stream write returned, possibly after the client
	// credited it: wait for the two records to agree.
	for !mirrored(servers, clients) {
		select {
		case <-ctx.Done():
			t.Fatalf("ledgers never mirrored:\n%s", balanceTable(servers, clients))
		case <-time.After(20 * time.Millisecond):
		}
	}
	for k, s := range servers {
		var want int64
		for _, c := range clients {
			if c.storeAt == k {
				want += int64(c.pages * pageSize)
			}
			if c.filterAt == k {
				want += int64(pushedTo[k])
			}
			if c.pushAt == k {
				want += int64(c.pushes)
			}
		}
		if got := totalServed(s.ledger); got != want {
			t.Errorf("S%d served %d units, want %d", k+1, got, want)
		}
	}
	t.Logf("balances after the workload (service node's view; a client's own ledger mirrors it):\n%s", balanceTable(servers, clients))
}

func (c *lightClient) run(ctx context.Context, i int, servers []serviceNode) error {
	var cursor []byte
	for p := 0; p < c.pages; p++ {
		req := &spb.StoreQueryRequest{IncludeData: true, PubsubTopic: proto.String(pubsubTopic),
			ContentTopics: []string{historyTopic}, PaginationLimit: proto.Uint64(pageSize), PaginationCursor: cursor}
		resp, err := c.store.Query(ctx, servers[c.storeAt].h.ID(), req)
		if err != nil {
			return fmt.Errorf("store page %d: %w", p, err)
		}
		cursor = resp.PaginationCursor
	}
	for n := 0; n < c.pushes; n++ {
		ts := time.Now().UnixNano()
		m := &mpb.WakuMessage{Payload: []byte(fmt.Sprintf("c%d-%d", i, n)), ContentTopic: liveTopic, Timestamp: &ts}
		if _, err := c.push.Push(ctx, servers[c.pushAt].h.ID(), pubsubTopic, m); err != nil {
			return fmt.Errorf("lightpush %d: %w", n, err)
		}
	}
	return nil
}

var accounted = []accounting.Service{accounting.Store, accounting.Filter, accounting.Lightpush}

func mirrored(servers []serviceNode, clients []*lightClient) bool {
	for _, s := range servers {
		for _, c := range clients {
			sv, _ := s.ledger.Account(c.h.ID())
			cv, _ := c.ledger.Account(s.h.ID())
			if sv.Balance != -cv.Balance || sv.Served != cv.Consumed || sv.Consumed != cv.Served {
				return false
			}
		}
	}
	return true
}

func totalServed(l *accounting.Ledger) int64 {
	var n int64
	for _, a := range l.Accounts() {
		for _, s := range accounted {
			n += a.Served[s]
		}
	}
	return n
}

// balanceTable is a Markdown table: one row per light client, one column per service node,
// each cell the node's balance of the client as store+filter+lightpush units ("·": none).
func balanceTable(servers []serviceNode, clients []*lightClient) string {
	var b strings.Builder
	b.WriteString("| light client |")
	for k := range servers {
		fmt.Fprintf(&b, " S%d |", k+1)
	}
	b.WriteString(" owes (its own ledger) |\n|---|")
	b.WriteString(strings.Repeat("---|", len(servers)+1) + "\n")
	totals := make([]int64, len(servers))
	for i, c := range clients {
		fmt.Fprintf(&b, "| c%02d |", i+1)
		var owes int64
		for k, s := range servers {
			a, _ := s.ledger.Account(c.h.ID())
			if a.Balance == 0 {
				b.WriteString(" · |")
			} else {
				fmt.Fprintf(&b, " %d+%d+%d = %d |", a.Served[accounting.Store], a.Served[accounting.Filter], a.Served[accounting.Lightpush], a.Balance)
			}
			totals[k] += a.Balance
			owes -= c.ledger.Balance(s.h.ID())
		}
		fmt.Fprintf(&b, " %d |\n", owes)
	}
	b.WriteString("| **owed to the node** |")
	for _, n := range totals {
		fmt.Fprintf(&b, " **%d** |", n)
	}
	b.WriteString(" |\n")
	return b.String()
}
