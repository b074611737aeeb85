// Package testacct gives the service packages' tests one fake of their accounting interfaces
// (store/filter/lightpush Accounting and ClientObserver, relay.ByteAccounting all share these
// method sets) and an adapter onto the real accounting.Ledger and Policy for benchmarks.
package testacct

import (
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/accounting"
)

// ErrRefused is the fake's refusal; its text is what a refused client must be told.
var ErrRefused = errors.New("payment required: balance 101 over the disconnect threshold of 100")

// Fake counts every call per peer. With Limit > 0 it allows each peer Limit requests and
// refuses the rest with ErrRefused. Safe for concurrent use.
type Fake struct {
	Limit int

	mu       sync.Mutex
	allows   map[peer.ID]int
	served   map[peer.ID]int
	received map[peer.ID]int
	failed   map[peer.ID]int
	sent     map[peer.ID]int
}

// New returns a fake refusing after limit requests per peer (0 = never).
func New(limit int) *Fake {
	return &Fake{Limit: limit, allows: map[peer.ID]int{},
		served: map[peer.ID]int{}, received: map[peer.ID]int{}, failed: map[peer.ID]int{}, sent: map[peer.ID]int{}}
}

func (f *Fake) add(m map[peer.ID]int, p peer.ID, n int) int {
	f.mu.Lock()
	m[p] += n
	v := m[p]
	f.mu.Unlock()
	return v
}

// Allow implements the services' Accounting.
func (f *Fake) Allow(p peer.ID) error {
	if n := f.add(f.allows, p, 1); f.Limit > 0 && n > f.Limit {
		return ErrRefused
	}
	return nil
}

// Served implements the services' Accounting.
func (f *Fake) Served(p peer.ID, n int) { f.add(f.served, p, n) }

// Received implements ClientObserver (messages) and relay.ByteAccounting (bytes).
func (f *Fake) Received(p peer.ID, n int) { f.add(f.received, p, n) }

// Failed implements ClientObserver.
func (f *Fake) Failed(p peer.ID) { f.add(f.failed, p, 1) }

// Sent implements relay.ByteAccounting.
func (f *Fake) Sent(p peer.ID, n int) { f.add(f.sent, p, n) }

func (f *Fake) get(m map[peer.ID]int, p peer.ID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return m[p]
}

// Allows, ServedTo, ReceivedFrom, Failures and SentTo read the counts for p.
func (f *Fake) Allows(p peer.ID) int       { return f.get(f.allows, p) }
func (f *Fake) ServedTo(p peer.ID) int     { return f.get(f.served, p) }
func (f *Fake) ReceivedFrom(p peer.ID) int { return f.get(f.received, p) }
func (f *Fake) Failures(p peer.ID) int     { return f.get(f.failed, p) }
func (f *Fake) SentTo(p peer.ID) int       { return f.get(f.sent, p) }

// Wait polls cond until it holds; the deadline only stops a hung test.
func Wait(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for end := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			tb.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Ledger adapts the real accounting ledger and policy to the service interfaces for one
// service: Allow asks the policy, Served and Sent debit, Received credits, Failed is ignored.
type Ledger struct {
	L *accounting.Ledger
	P *accounting.Policy
	S accounting.Service
}

// NewLedger returns a mock-mode policy over a fresh ledger with the default prices and a
// disconnect threshold so low that a benchmark never reaches it.
func NewLedger(tb testing.TB, s accounting.Service) *Ledger {
	tb.Helper()
	l, err := accounting.NewLedger(accounting.Config{Prices: accounting.DefaultPrices()}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := accounting.NewPolicy(l, accounting.PolicyConfig{Mode: accounting.Mock, DisconnectThreshold: -1 << 60}, nil, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &Ledger{L: l, P: p, S: s}
}

func (a *Ledger) Allow(p peer.ID) error     { return a.P.Allow(p, a.S) }
func (a *Ledger) Served(p peer.ID, n int)   { a.L.Debit(p, a.S, int64(n)) }
func (a *Ledger) Sent(p peer.ID, n int)     { a.L.Debit(p, a.S, int64(n)) }
func (a *Ledger) Received(p peer.ID, n int) { a.L.Credit(p, a.S, int64(n)) }
func (a *Ledger) Failed(peer.ID)            {}

// CPUTime is the CPU time (user + system) this process has used so far, for benchmarks that
// print CPU per operation beside wall time.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
