package accounting

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

const numShards = 64

// Config configures a Ledger.
type Config struct {
	Prices Prices
	// MaxPeers bounds the number of accounts (a peer can make us create one by connecting).
	// Service to peers beyond it is counted as untracked instead of accounted. 0 = 10000.
	MaxPeers int
	// Allowance is the time-based free tier (Swarm's pseudosettle): every peer's balance moves
	// toward zero by up to Allowance.PerSecond units a second, banked up to Allowance.Burst.
	// Both sides of a link apply it, so their ledgers stay in step. Zero disables it.
	Allowance Allowance
	// Now is the clock (tests). Nil = time.Now.
	Now func() time.Time
}

// Allowance is a token bucket of free service per peer.
type Allowance struct {
	PerSecond int64
	Burst     int64
}

// account is one peer's record. Hot-path fields are atomics so a debit takes no lock.
type account struct {
	balance  atomic.Int64
	served   [numServices]atomic.Int64 // units debited (service we rendered), monotonic
	consumed [numServices]atomic.Int64 // units credited (service we received), monotonic
	relayOut atomic.Int64              // bytes forwarded to the peer, for exact per-unit rounding
	relayIn  atomic.Int64              // bytes received from the peer
	dirty    atomic.Bool

	allowMu  sync.Mutex // guards tokens and lastFill (allowance is off the hot path)
	tokens   int64
	lastFill time.Time
}

type shard struct {
	mu sync.RWMutex
	m  map[peer.ID]*account
}

// Ledger is the pairwise balance book. Safe for concurrent use.
type Ledger struct {
	cfg     Config
	seed    maphash.Seed
	shards  [numShards]shard
	count   atomic.Int64
	metrics *Metrics
}

// NewLedger returns an empty ledger. metrics may be nil.
func NewLedger(cfg Config, metrics *Metrics) (*Ledger, error) {
	if err := cfg.Prices.Validate(); err != nil {
		return nil, err
	}
	if cfg.Allowance.PerSecond < 0 || cfg.Allowance.Burst < 0 {
		return nil, fmt.Errorf("accounting allowance must not be negative: %+v", cfg.Allowance)
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Ledger{cfg: cfg, seed: maphash.MakeSeed(), metrics: metrics}
	for i := range l.shards {
		l.shards[i].m = make(map[peer.ID]*account)
	}
	return l, nil
}

// Prices returns the price table in use.
func (l *Ledger) Prices() Prices { return l.cfg.Prices }

func (l *Ledger) shardOf(p peer.ID) *shard {
	return &l.shards[maphash.String(l.seed, string(p))%numShards]
}

// get returns p's account, creating it when create is set and the ledger has room.
func (l *Ledger) get(p peer.ID, create bool) *account {
	sh := l.shardOf(p)
	sh.mu.RLock()
	a := sh.m[p]
	sh.mu.RUnlock()
	if a != nil || !create {
		return a
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if a = sh.m[p]; a != nil {
		return a
	}
	if l.count.Load() >= int64(l.cfg.MaxPeers) {
		return nil
	}
	a = &account{lastFill: l.cfg.Now(), tokens: l.cfg.Allowance.Burst}
	sh.m[p] = a
	l.count.Add(1)
	l.metrics.setPeers(l.count.Load())
	return a
}

// units converts n items of service s to units. Relay needs the account for exact rounding:
// the units charged are those the running byte total newly crossed.
func (l *Ledger) units(a *account, s Service, n int64, out bool) int64 {
	if s != Relay {
		return n * l.cfg.Prices.perMessage(s)
	}
	ctr := &a.relayIn
	if out {
		ctr = &a.relayOut
	}
	per := l.cfg.Prices.RelayBytesPerUnit
	total := ctr.Add(n)
	return total/per - (total-n)/per
}

// Debit records n items of service s that we rendered to p (messages, or bytes for relay):
// p's balance rises. It returns the units charged.
func (l *Ledger) Debit(p peer.ID, s Service, n int64) int64 {
	return l.book(p, s, n, true)
}

// Credit records n items of service s that p rendered to us: p's balance falls.
func (l *Ledger) Credit(p peer.ID, s Service, n int64) int64 {
	return l.book(p, s, n, false)
}

func (l *Ledger) book(p peer.ID, s Service, n int64, debit bool) int64 {
	if n <= 0 || s >= numServices {
		return 0
	}
	a := l.get(p, true)
	if a == nil {
		l.metrics.untracked(s)
		return 0
	}
	u := l.units(a, s, n, debit)
	if u == 0 {
		return 0
	}
	if debit {
		a.served[s].Add(u)
		a.balance.Add(u)
	} else {
		a.consumed[s].Add(u)
		a.balance.Add(-u)
	}
	a.dirty.Store(true)
	l.metrics.booked(s, debit, u)
	return u
}

// Balance returns p's balance after applying the free allowance earned so far.
func (l *Ledger) Balance(p peer.ID) int64 {
	a := l.get(p, false)
	if a == nil {
		return 0
	}
	l.applyAllowance(a)
	return a.balance.Load()
}

// Settle moves p's balance by -delta: a payment of delta units received from p (delta > 0)
// or sent to p (delta < 0). Only settlement (package swap) calls it.
func (l *Ledger) Settle(p peer.ID, delta int64) error {
	a := l.get(p, true)
	if a == nil {
		return errors.New("accounting: ledger full, cannot settle")
	}
	a.balance.Add(-delta)
	a.dirty.Store(true)
	l.metrics.observeBalance(a.balance.Load())
	return nil
}

// applyAllowance moves the balance toward zero by the banked free tier.
func (l *Ledger) applyAllowance(a *account) {
	al := l.cfg.Allowance
	if al.PerSecond == 0 && al.Burst == 0 {
		return
	}
	a.allowMu.Lock()
	defer a.allowMu.Unlock()
	now := l.cfg.Now()
	if el := now.Sub(a.lastFill); el > 0 {
		a.tokens = min(al.Burst, a.tokens+int64(el/time.Millisecond)*al.PerSecond/1000)
		a.lastFill = a.lastFill.Add(el / time.Millisecond * time.Millisecond)
	}
	for a.tokens > 0 {
		b := a.balance.Load()
		step := min(a.tokens, max(b, -b))
		if step == 0 {
			return
		}
		nb := b - step
		if b < 0 {
			nb = b + step
		}
		if a.balance.CompareAndSwap(b, nb) {
			a.tokens -= step
			a.dirty.Store(true)
			return
		}
	}
}

// Snapshot is a copy of one account.
type Snapshot struct {
	Peer     peer.ID
	Balance  int64
	Served   [numServices]int64 // units per service we rendered to the peer
	Consumed [numServices]int64 // units per service the peer rendered to us
	RelayOut int64              // bytes
	RelayIn  int64
}

func (a *account) snapshot(p peer.ID) Snapshot {
	s := Snapshot{Peer: p, Balance: a.balance.Load(), RelayOut: a.relayOut.Load(), RelayIn: a.relayIn.Load()}
	for i := range s.Served {
		s.Served[i] = a.served[i].Load()
		s.Consumed[i] = a.consumed[i].Load()
	}
	return s
}

// Account returns p's record.
func (l *Ledger) Account(p peer.ID) (Snapshot, bool) {
	a := l.get(p, false)
	if a == nil {
		return Snapshot{}, false
	}
	l.applyAllowance(a)
	return a.snapshot(p), true
}

// Accounts returns every record (for REST and reputation).
func (l *Ledger) Accounts() []Snapshot {
	out := make([]Snapshot, 0, l.count.Load())
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.RLock()
		for p, a := range sh.m {
			out = append(out, a.snapshot(p))
		}
		sh.mu.RUnlock()
	}
	return out
}

// Load restores the records of st into the ledger (at start, before any service).
func (l *Ledger) Load(ctx context.Context, st BalanceStore) error {
	recs, err := st.LoadBalances(ctx)
	if err != nil {
		return fmt.Errorf("load balances: %w", err)
	}
	for _, r := range recs {
		a := l.get(r.Peer, true)
		if a == nil {
			return fmt.Errorf("load balances: more than %d accounts stored", l.cfg.MaxPeers)
		}
		a.balance.Store(r.Balance)
		a.relayOut.Store(r.RelayOut)
		a.relayIn.Store(r.RelayIn)
		for i := range r.Served {
			a.served[i].Store(r.Served[i])
			a.consumed[i].Store(r.Consumed[i])
		}
	}
	return nil
}

// Flush writes the accounts changed since the last flush to st.
func (l *Ledger) Flush(ctx context.Context, st BalanceStore) error {
	var recs []Snapshot
	var flushed []*account
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.RLock()
		for p, a := range sh.m {
			if a.dirty.Swap(false) {
				recs = append(recs, a.snapshot(p))
				flushed = append(flushed, a)
			}
		}
		sh.mu.RUnlock()
	}
	if len(recs) == 0 {
		return nil
	}
	if err := st.SaveBalances(ctx, recs); err != nil {
		for _, a := range flushed {
			a.dirty.Store(true) // retried at the next flush
		}
		return fmt.Errorf("save %d balances: %w", len(recs), err)
	}
	return nil
}
