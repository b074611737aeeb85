// Package reputation keeps local, EigenTrust-style trust in peers from this node's pairwise
// record with each of them (service delivered, cheques honoured, failures), seeded by the
// pre-trusted (static) peers, so the peer manager can rank store/filter/lightpush service
// peers and replace those that do not serve.
//
// Local trust: s_j = max(0, good_j - bad_j); c_j = s_j / Σ s. Global trust is the fixed point
// of t = (1-α)·Cᵀt + α·p, where row i of C is peer i's normalised local trust (ours from our
// own record; another peer's from opinions it shared, if any; p otherwise) and p spreads the
// seed over ourselves and the pre-trusted peers. Peers nobody trusted vouches for converge to
// zero however much they vouch for each other.
package reputation

import (
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/swap"
)

// Weights turn observations into local trust. Bad events weigh more than one unit of service
// so a peer cannot buy back trust cheaply after cheating.
type Weights struct {
	Failure        float64 // a request the peer did not serve (timeout, error, empty when it should not be)
	ChequeRefused  float64 // a forged, replayed, bounced or inflated cheque
	PaymentRefusal float64 // the peer went past the disconnect threshold
}

// Config configures a Tracker.
type Config struct {
	Self       peer.ID
	PreTrusted []peer.ID // static nodes
	Alpha      float64   // weight of the seed (0 = 0.15)
	Iterations int       // power-iteration steps (0 = 30)
	MaxPeers   int       // bound on tracked peers (0 = 10000)
	Weights    Weights   // zero = {50, 100, 20}
}

type record struct {
	served, honoured                  float64 // units the peer delivered to us, units it paid us
	failures, chequeRefused, refusals float64
}

func (r *record) local(w Weights) float64 {
	v := r.served + r.honoured - w.Failure*r.failures - w.ChequeRefused*r.chequeRefused - w.PaymentRefusal*r.refusals
	return max(v, 0)
}

// Tracker is safe for concurrent use; observation methods never block on computation.
type Tracker struct {
	cfg Config

	mu       sync.Mutex
	records  map[peer.ID]*record
	opinions map[peer.ID]map[peer.ID]float64 // peer → its shared local trust (unnormalised)
	trust    map[peer.ID]float64
	dirty    bool
}

// New returns an empty tracker.
func New(cfg Config) *Tracker {
	if cfg.Alpha <= 0 || cfg.Alpha > 1 {
		cfg.Alpha = 0.15
	}
	if cfg.Iterations <= 0 {
		cfg.Iterations = 30
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = 10000
	}
	if cfg.Weights == (Weights{}) {
		cfg.Weights = Weights{Failure: 50, ChequeRefused: 100, PaymentRefusal: 20}
	}
	return &Tracker{cfg: cfg, records: map[peer.ID]*record{}, opinions: map[peer.ID]map[peer.ID]float64{}, dirty: true}
}

var _ swap.Observer = (*Tracker)(nil)

func (t *Tracker) update(p peer.ID, f func(*record)) {
	if p == t.cfg.Self {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.records[p]
	if r == nil {
		if len(t.records) >= t.cfg.MaxPeers {
			return
		}
		r = &record{}
		t.records[p] = r
	}
	f(r)
	t.dirty = true
}

// Served records units of service p delivered to us (client side of a successful request).
func (t *Tracker) Served(p peer.ID, units int64) {
	t.update(p, func(r *record) { r.served += float64(units) })
}

// Received is Served for a count of messages, so a Tracker can be the ClientObserver of the
// store, filter and lightpush clients as is.
func (t *Tracker) Received(p peer.ID, messages int) { t.Served(p, int64(messages)) }

// Failed records a request p did not serve (also ClientObserver.Failed).
func (t *Tracker) Failed(p peer.ID) { t.update(p, func(r *record) { r.failures++ }) }

// ChequeHonoured implements swap.Observer.
func (t *Tracker) ChequeHonoured(p peer.ID, units int64) {
	t.update(p, func(r *record) { r.honoured += float64(units) })
}

// ChequeRefused implements swap.Observer.
func (t *Tracker) ChequeRefused(p peer.ID, _ swap.Reason) {
	t.update(p, func(r *record) { r.chequeRefused++ })
}

// PaymentRefused is accounting.PolicyConfig.OnRefuse: p was cut off for not paying.
func (t *Tracker) PaymentRefused(p peer.ID, _ accounting.Service) {
	t.update(p, func(r *record) { r.refusals++ })
}

// SetOpinion stores the local trust another peer shared (values ≥ 0, any scale); it only
// counts in proportion to the sharer's own trust. Bounded like the records.
func (t *Tracker) SetOpinion(from peer.ID, trust map[peer.ID]float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.opinions[from]; !ok && len(t.opinions) >= t.cfg.MaxPeers {
		return
	}
	row := make(map[peer.ID]float64, len(trust))
	for p, v := range trust {
		if v > 0 && p != from {
			row[p] = v
		}
		if len(row) >= t.cfg.MaxPeers {
			break
		}
	}
	t.opinions[from] = row
	t.dirty = true
}

// seed is p: uniform over ourselves and the pre-trusted peers.
func (t *Tracker) seed() map[peer.ID]float64 {
	s := map[peer.ID]float64{t.cfg.Self: 1}
	for _, p := range t.cfg.PreTrusted {
		s[p] = 1
	}
	for p := range s {
		s[p] = 1 / float64(len(s))
	}
	return s
}

func normalise(row map[peer.ID]float64) map[peer.ID]float64 {
	var sum float64
	for _, v := range row {
		sum += v
	}
	if sum == 0 {
		return nil
	}
	out := make(map[peer.ID]float64, len(row))
	for p, v := range row {
		out[p] = v / sum
	}
	return out
}

// compute runs the power iteration; t.mu is held.
func (t *Tracker) compute() {
	seed := t.seed()
	rows := make(map[peer.ID]map[peer.ID]float64, len(t.opinions)+1)
	own := make(map[peer.ID]float64, len(t.records))
	for p, r := range t.records {
		if v := r.local(t.cfg.Weights); v > 0 {
			own[p] = v
		}
	}
	rows[t.cfg.Self] = normalise(own)
	for from, op := range t.opinions {
		if r := t.records[from]; r != nil && r.local(t.cfg.Weights) == 0 && r.failures+r.chequeRefused+r.refusals > 0 {
			continue // we caught it misbehaving: its opinions count for nothing
		}
		rows[from] = normalise(op)
	}
	trust := seed
	a := t.cfg.Alpha
	for i := 0; i < t.cfg.Iterations; i++ {
		next := make(map[peer.ID]float64, len(trust))
		for p, v := range seed {
			next[p] += a * v
		}
		for i, ti := range trust {
			row := rows[i]
			if row == nil {
				row = seed // a peer with no known opinion defers to the seed
			}
			for j, c := range row {
				next[j] += (1 - a) * c * ti
			}
		}
		trust = next
	}
	t.trust = trust
	t.dirty = false
}

// Trust returns p's global trust in [0, 1] (all trust sums to 1).
func (t *Tracker) Trust(p peer.ID) float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dirty {
		t.compute()
	}
	return t.trust[p]
}

// Rank orders candidate service peers, most trusted first (stable for equal trust), for the
// peer manager's choice of store/filter/lightpush peer. Peers ShouldReplace flags go last,
// behind peers we know nothing about, so a client tries a fresh peer before one that failed it.
// Rank implements peers.Ranker.
func (t *Tracker) Rank(candidates []peer.ID) []peer.ID {
	type scored struct {
		p       peer.ID
		trust   float64
		replace bool
	}
	t.mu.Lock()
	if t.dirty {
		t.compute()
	}
	sc := make([]scored, len(candidates))
	for i, p := range candidates {
		sc[i] = scored{p: p, trust: t.trust[p], replace: t.shouldReplaceLocked(p)}
	}
	t.mu.Unlock()
	slices.SortStableFunc(sc, func(a, b scored) int {
		switch {
		case a.replace != b.replace:
			if b.replace {
				return -1
			}
			return 1
		case a.trust > b.trust:
			return -1
		case a.trust < b.trust:
			return 1
		}
		return 0
	})
	out := make([]peer.ID, len(sc))
	for i, s := range sc {
		out[i] = s.p
	}
	return out
}

// ShouldReplace reports whether p failed us more than it served us: the peer manager swaps
// such a service peer for the next in Rank.
func (t *Tracker) ShouldReplace(p peer.ID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.shouldReplaceLocked(p)
}

func (t *Tracker) shouldReplaceLocked(p peer.ID) bool {
	r := t.records[p]
	return r != nil && r.failures > 0 && r.local(t.cfg.Weights) == 0
}
