package reputation

import (
	"math"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/peers"
	"github.com/wakunode/wakunode/store"
	"github.com/wakunode/wakunode/swap"
)

const (
	self    = peer.ID("self")
	static  = peer.ID("static")
	good    = peer.ID("good")
	flaky   = peer.ID("flaky")
	cheat   = peer.ID("cheat")
	unknown = peer.ID("unknown")
)

func sum(t *Tracker, ps ...peer.ID) float64 {
	var s float64
	for _, p := range ps {
		s += t.Trust(p)
	}
	return s
}

func TestLocalRecordRanksServicePeers(t *testing.T) {
	tr := New(Config{Self: self, PreTrusted: []peer.ID{static}})
	tr.Served(good, 200)
	tr.ChequeHonoured(good, 100)
	tr.Served(flaky, 100)
	tr.Failed(flaky)
	tr.Failed(flaky) // 100 served - 2×50 = 0
	tr.Served(cheat, 300)
	tr.ChequeRefused(cheat, swap.ReasonSignature) // 300 - 100
	tr.ChequeRefused(cheat, swap.ReasonExceedsLedger)
	tr.PaymentRefused(cheat, accounting.Store)

	got := tr.Rank([]peer.ID{unknown, flaky, cheat, good, static})
	// The operator's static node keeps its seed trust; among the rest the record decides, and
	// peers with no positive record (flaky, unknown) come last in their input order.
	if want := []peer.ID{static, good, cheat, unknown, flaky}; !slices.Equal(got, want) {
		t.Fatalf("rank %v, want %v", got, want)
	}
	if tr.Trust(flaky) != 0 || tr.Trust(unknown) != 0 {
		t.Fatalf("flaky %v unknown %v, want 0", tr.Trust(flaky), tr.Trust(unknown))
	}
	if tr.Trust(cheat) >= tr.Trust(good) {
		t.Fatal("a peer that forged cheques ranks with an honest one")
	}
	if !tr.ShouldReplace(flaky) || tr.ShouldReplace(good) || tr.ShouldReplace(unknown) {
		t.Fatal("ShouldReplace must single out the peer that failed more than it served")
	}
	if s := sum(tr, self, static, good, flaky, cheat); math.Abs(s-1) > 1e-9 {
		t.Fatalf("trust sums to %v, want 1", s)
	}
}

func TestTrustFlowsFromPreTrustedOpinionsAndSybilsGetNothing(t *testing.T) {
	tr := New(Config{Self: self, PreTrusted: []peer.ID{static}})
	// We have no record of x or of the sybils; the static node vouches for x, the sybils only
	// for each other.
	x := peer.ID("x")
	tr.SetOpinion(static, map[peer.ID]float64{x: 10})
	tr.SetOpinion("sybil1", map[peer.ID]float64{"sybil2": 1000})
	tr.SetOpinion("sybil2", map[peer.ID]float64{"sybil1": 1000})
	if tr.Trust(x) <= 0.1 {
		t.Fatalf("x vouched for by the pre-trusted peer has trust %v", tr.Trust(x))
	}
	if tr.Trust("sybil1")+tr.Trust("sybil2") > 1e-12 {
		t.Fatalf("colluding sybils earned trust %v", tr.Trust("sybil1")+tr.Trust("sybil2"))
	}
	// A peer we caught cheating cannot lend trust either.
	tr.SetOpinion(cheat, map[peer.ID]float64{"friend": 1})
	tr.Served(cheat, 10)
	tr.Failed(cheat)
	if tr.Trust("friend") != 0 {
		t.Fatalf("a cheater's friend got trust %v", tr.Trust("friend"))
	}
	if got := tr.Rank([]peer.ID{"sybil1", x}); !slices.Equal(got, []peer.ID{x, "sybil1"}) {
		t.Fatalf("rank %v", got)
	}
}

func TestBoundedPeers(t *testing.T) {
	tr := New(Config{Self: self, MaxPeers: 2})
	tr.Served("a", 1)
	tr.Served("b", 1)
	tr.Served("c", 1)
	if tr.Trust("c") != 0 || len(tr.records) != 2 {
		t.Fatalf("tracked %d peers past MaxPeers=2", len(tr.records))
	}
	tr.Served(self, 5) // our own service is not a record
	if _, ok := tr.records[self]; ok {
		t.Fatal("self tracked")
	}
}

var _ peers.Ranker = (*Tracker)(nil)

func TestRankPutsFailingPeersBehindUnknownOnes(t *testing.T) {
	tr := New(Config{Self: self})
	tr.Served(good, 10)
	tr.Failed(flaky) // failed, never served
	got := tr.Rank([]peer.ID{flaky, unknown, good})
	if want := []peer.ID{good, unknown, flaky}; !slices.Equal(got, want) {
		t.Fatalf("rank %v, want %v", got, want)
	}
}

var (
	_ store.ClientObserver     = (*Tracker)(nil)
	_ filter.ClientObserver    = (*Tracker)(nil)
	_ lightpush.ClientObserver = (*Tracker)(nil)
)
