package accounting

import (
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const peerA, peerB = peer.ID("peer-a"), peer.ID("peer-b")

func newLedger(t testing.TB, cfg Config) *Ledger {
	t.Helper()
	if cfg.Prices == (Prices{}) {
		cfg.Prices = DefaultPrices()
	}
	l, err := NewLedger(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestDebitCreditPerServiceWithPrices(t *testing.T) {
	l := newLedger(t, Config{Prices: Prices{Store: 2, Filter: 1, Lightpush: 5, RelayBytesPerUnit: 1024}})
	if u := l.Debit(peerA, Store, 10); u != 20 {
		t.Fatalf("store debit of 10 messages at 2 = %d units, want 20", u)
	}
	l.Credit(peerA, Lightpush, 3) // 15 units the peer rendered to us
	l.Debit(peerA, Filter, 4)
	if got := l.Balance(peerA); got != 20-15+4 {
		t.Fatalf("balance %d, want 9", got)
	}
	s, ok := l.Account(peerA)
	if !ok || s.Served[Store] != 20 || s.Served[Filter] != 4 || s.Consumed[Lightpush] != 15 {
		t.Fatalf("snapshot %+v", s)
	}
	if l.Balance(peerB) != 0 {
		t.Fatal("untouched peer has a balance")
	}
	if l.Debit(peerA, Store, 0) != 0 || l.Debit(peerA, Store, -5) != 0 {
		t.Fatal("non-positive quantities must book nothing")
	}
}

func TestRelayIsMutualAndRoundsExactly(t *testing.T) {
	l := newLedger(t, Config{})
	// 3000 bytes out in uneven pieces: exactly 2 units (floor(3000/1024)), no rounding loss.
	var units int64
	for _, n := range []int64{1000, 23, 1, 1000, 976} {
		units += l.Debit(peerA, Relay, n)
	}
	if units != 2 || l.Balance(peerA) != 2 {
		t.Fatalf("relay out units %d balance %d, want 2 and 2", units, l.Balance(peerA))
	}
	l.Credit(peerA, Relay, 3000) // the peer forwarded as much to us
	if l.Balance(peerA) != 0 {
		t.Fatalf("balanced relay link nets to %d, want 0", l.Balance(peerA))
	}
}

func TestConcurrentBookingIsExact(t *testing.T) {
	l := newLedger(t, Config{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				l.Debit(peerA, Store, 1)
				l.Credit(peerA, Filter, 1)
				l.Debit(peerB, Relay, 512)
			}
		}()
	}
	wg.Wait()
	if l.Balance(peerA) != 0 {
		t.Fatalf("balance %d after equal debits and credits", l.Balance(peerA))
	}
	if got := l.Balance(peerB); got != 8*1000*512/1024 {
		t.Fatalf("relay balance %d, want %d", got, 8*1000*512/1024)
	}
}

func TestMaxPeersBoundsAccounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	l, err := NewLedger(Config{Prices: DefaultPrices(), MaxPeers: 1}, m)
	if err != nil {
		t.Fatal(err)
	}
	l.Debit(peerA, Store, 1)
	if u := l.Debit(peerB, Store, 1); u != 0 {
		t.Fatalf("second peer booked %d units past MaxPeers=1", u)
	}
	if len(l.Accounts()) != 1 || testutil.ToFloat64(m.Untracked.WithLabelValues("store")) != 1 {
		t.Fatalf("accounts %d, untracked %v", len(l.Accounts()), testutil.ToFloat64(m.Untracked.WithLabelValues("store")))
	}
	if testutil.ToFloat64(m.Peers) != 1 || testutil.ToFloat64(m.Units.WithLabelValues("store", "served")) != 1 {
		t.Fatal("metrics do not reflect the booking")
	}
}

func TestAllowanceIsAFreeTierOnBothSides(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	cfg := Config{Allowance: Allowance{PerSecond: 2, Burst: 10}, Now: clock}
	server, client := newLedger(t, cfg), newLedger(t, cfg)
	server.Debit(peerA, Store, 30)
	client.Credit(peerB, Store, 30)
	// A fresh account starts with a full bucket (10): the first 10 units are free.
	if server.Balance(peerA) != 20 || client.Balance(peerB) != -20 {
		t.Fatalf("after burst: server %d client %d, want 20 / -20", server.Balance(peerA), client.Balance(peerB))
	}
	now = now.Add(3 * time.Second) // 6 more units earned
	if server.Balance(peerA) != 14 || client.Balance(peerB) != -14 {
		t.Fatalf("after 3 s: server %d client %d, want 14 / -14", server.Balance(peerA), client.Balance(peerB))
	}
	now = now.Add(time.Hour) // capped at the burst
	if server.Balance(peerA) != 4 {
		t.Fatalf("after an hour: %d, want 4 (burst 10 caps the bank)", server.Balance(peerA))
	}
}

// BenchmarkDebit is the hot-path cost services pay per response (go test -bench Debit ./accounting).
func BenchmarkDebit(b *testing.B) {
	l, _ := NewLedger(Config{Prices: DefaultPrices()}, NewMetrics(nil))
	peers := make([]peer.ID, 64)
	for i := range peers {
		peers[i] = peer.ID(rune('a' + i))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Debit(peers[i%len(peers)], Store, 1)
			i++
		}
	})
}
