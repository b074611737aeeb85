package swap

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/swap/pb"
)

type recorder struct {
	mu       sync.Mutex
	honoured int64
	refused  []Reason
}

func (r *recorder) ChequeHonoured(_ peer.ID, u int64) { r.mu.Lock(); r.honoured += u; r.mu.Unlock() }
func (r *recorder) ChequeRefused(_ peer.ID, why Reason) {
	r.mu.Lock()
	r.refused = append(r.refused, why)
	r.mu.Unlock()
}
func (r *recorder) reasons() []Reason {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Reason(nil), r.refused...)
}

type node struct {
	h      host.Host
	key    *ecdsa.PrivateKey
	ledger *accounting.Ledger
	swap   *Swap
	policy *accounting.Policy
	m      *accounting.Metrics
	obs    *recorder
}

// newNode is a wakunode's swap stack on a real loopback host; the settlement key is the node key.
func newNode(t testing.TB, mode accounting.Mode, store ChequeStore) *node {
	t.Helper()
	nk, _, err := p2pcrypto.GenerateSecp256k1Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := testhost.New(t, libp2p.Identity(nk), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	key, err := KeyFromNodeKey(nk)
	if err != nil {
		t.Fatal(err)
	}
	m := accounting.NewMetrics(nil)
	l, err := accounting.NewLedger(accounting.Config{Prices: accounting.DefaultPrices()}, m)
	if err != nil {
		t.Fatal(err)
	}
	obs := &recorder{}
	s, err := New(h, l, Config{Mode: mode, PaymentThreshold: 100, Key: key, Store: store}, m, obs, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Stop)
	pl, err := accounting.NewPolicy(l, accounting.PolicyConfig{Mode: mode, DisconnectThreshold: -100, DisconnectDelay: time.Millisecond}, h.Network(), m, nil)
	if err != nil {
		t.Fatal(err)
	}
	pl.Start()
	t.Cleanup(pl.Stop)
	return &node{h: h, key: key, ledger: l, swap: s, policy: pl, m: m, obs: obs}
}

// serve is what a store server and its client book for one response of n messages.
func serve(server, client *node, n int64) {
	server.ledger.Debit(client.h.ID(), accounting.Store, n)
	client.swap.Credit(server.h.ID(), accounting.Store, n)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKeyFromNodeKeyMatchesPeerID(t *testing.T) {
	nk, _, _ := p2pcrypto.GenerateSecp256k1Key(nil)
	k, err := KeyFromNodeKey(nk)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := nk.GetPublic().Raw() // compressed secp256k1 point
	if got := crypto.CompressPubkey(&k.PublicKey); string(got) != string(raw) {
		t.Fatal("settlement key is not the node key")
	}
	ed, _, _ := p2pcrypto.GenerateEd25519Key(nil)
	if _, err := KeyFromNodeKey(ed); err == nil {
		t.Fatal("an ed25519 node key was accepted as a settlement key")
	}
}

func TestMockChequesFlowAtPaymentThreshold(t *testing.T) {
	server, client := newNode(t, accounting.Mock, nil), newNode(t, accounting.Mock, nil)
	testhost.Connect(t, client.h, server.h)
	s, c := server.h.ID(), client.h.ID()

	serve(server, client, 99)
	if client.ledger.Balance(s) != -99 || server.ledger.Balance(c) != 99 {
		t.Fatal("ledgers disagree before any payment")
	}
	serve(server, client, 1) // owes 100: payment threshold
	waitFor(t, "first cheque", func() bool { return server.ledger.Balance(c) == 0 && client.ledger.Balance(s) == 0 })
	serve(server, client, 150)
	waitFor(t, "second cheque", func() bool { return server.ledger.Balance(c) == 0 && client.ledger.Balance(s) == 0 })

	latest, err := server.swap.LatestCheque(context.Background(), client.swap.Address())
	if err != nil || latest.Cumulative != 250 {
		t.Fatalf("latest cheque %+v %v, want cumulative 250", latest, err)
	}
	if issuer, _ := latest.Issuer(nil); issuer != client.swap.Address() || latest.Beneficiary != server.swap.Address() {
		t.Fatal("cheque not verifiable by a third party")
	}
	if got := testutil.ToFloat64(server.m.Cheques.WithLabelValues("received", "accepted")); got != 2 {
		t.Fatalf("server accepted %v cheques, want 2", got)
	}
	if server.obs.honoured != 250 {
		t.Fatalf("observer saw %d units honoured, want 250", server.obs.honoured)
	}
}

func TestSoftModeSendsNoCheques(t *testing.T) {
	server, client := newNode(t, accounting.Soft, nil), newNode(t, accounting.Soft, nil)
	testhost.Connect(t, client.h, server.h)
	serve(server, client, 500)
	if _, err := client.swap.Pay(context.Background(), server.h.ID()); err == nil {
		t.Fatal("soft mode paid")
	}
	if server.policy.Allow(client.h.ID(), accounting.Store) != nil {
		t.Fatal("soft mode refused service")
	}
}

func TestNonPayingLightNodeIsRefusedThenServedAfterSettling(t *testing.T) {
	server := newNode(t, accounting.Mock, nil)
	client := newNode(t, accounting.Mock, nil)
	testhost.Connect(t, client.h, server.h)
	s, c := server.h.ID(), client.h.ID()
	if _, err := client.swap.Handshake(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	// The light node takes service but never books it, so never pays.
	for i := 0; i < 100; i++ {
		if err := server.policy.Allow(c, accounting.Store); err != nil {
			t.Fatalf("request %d refused before the threshold: %v", i, err)
		}
		server.ledger.Debit(c, accounting.Store, 1)
	}
	server.ledger.Debit(c, accounting.Store, 5)
	if err := server.policy.Allow(c, accounting.Store); !errors.Is(err, accounting.ErrPaymentRequired) {
		t.Fatalf("debtor past the disconnect threshold served: %v", err)
	}
	waitFor(t, "debtor disconnected", func() bool { return len(server.h.Network().ConnsToPeer(c)) == 0 })

	// It settles: books what it received and pays (redialling the server).
	client.ledger.Credit(s, accounting.Store, 105)
	paid, err := client.swap.Pay(context.Background(), s)
	if err != nil || paid != 105 {
		t.Fatalf("settling paid %d: %v", paid, err)
	}
	if err := server.policy.Allow(c, accounting.Store); err != nil {
		t.Fatalf("settled peer still refused: %v", err)
	}
}

// sendRaw delivers a hand-made cheque over the real stream and returns the answer.
func sendRaw(t *testing.T, from *node, to peer.ID, m *pb.Cheque) *pb.ChequeResponse {
	t.Helper()
	var resp pb.ChequeResponse
	if err := rpc.Request(context.Background(), from.h, to, m, &resp, MaxMessageSize, ProtocolID); err != nil {
		t.Fatal(err)
	}
	return &resp
}

func TestBadChequesAreRefused(t *testing.T) {
	server, client := newNode(t, accounting.Mock, nil), newNode(t, accounting.Mock, nil)
	testhost.Connect(t, client.h, server.h)
	s, c := server.h.ID(), client.h.ID()
	ctx := context.Background()
	if _, err := client.swap.Handshake(ctx, s); err != nil {
		t.Fatal(err)
	}
	server.ledger.Debit(c, accounting.Store, 100)
	issue := func(key *ecdsa.PrivateKey, beneficiary common.Address, cum uint64) *pb.Cheque {
		ch, err := IssueCheque(key, nil, common.Address{}, beneficiary, cum, 1)
		if err != nil {
			t.Fatal(err)
		}
		return ch.Proto()
	}
	stranger, _ := crypto.GenerateKey()
	expect := func(m *pb.Cheque, want Reason) {
		t.Helper()
		r := sendRaw(t, client, s, m)
		if r.Accepted || Reason(r.Reason) != want {
			t.Fatalf("got accepted=%v reason %q, want refusal %q", r.Accepted, r.Reason, want)
		}
	}
	expect(issue(stranger, server.swap.Address(), 50), ReasonSignature)        // forged: wrong signer
	expect(issue(client.key, client.swap.Address(), 50), ReasonBeneficiary)    // not payable to us
	expect(issue(client.key, server.swap.Address(), 150), ReasonExceedsLedger) // claims more than served
	bad := issue(client.key, server.swap.Address(), 50)
	bad.Signature = bad.Signature[:10]
	expect(bad, ReasonMalformed)

	good := issue(client.key, server.swap.Address(), 60)
	if r := sendRaw(t, client, s, good); !r.Accepted || r.Cumulative != 60 {
		t.Fatalf("valid cheque refused: %+v", r)
	}
	if server.ledger.Balance(c) != 40 {
		t.Fatalf("balance %d after a 60-unit cheque on 100, want 40", server.ledger.Balance(c))
	}
	expect(good, ReasonReplayed)                                         // replayed
	expect(issue(client.key, server.swap.Address(), 30), ReasonReplayed) // older cumulative
	if server.ledger.Balance(c) != 40 {
		t.Fatal("a refused cheque moved the balance")
	}
	if got := server.obs.reasons(); !slices.Equal(got, []Reason{ReasonSignature, ReasonBeneficiary, ReasonExceedsLedger}) {
		t.Fatalf("observer saw refusals %v, want signature, beneficiary, ledger (replays are not held against a peer)", got)
	}
	// A peer that never handshook cannot pay on another's behalf.
	other := newNode(t, accounting.Mock, nil)
	testhost.Connect(t, other.h, server.h)
	if r := sendRaw(t, other, s, issue(client.key, server.swap.Address(), 70)); r.Accepted || Reason(r.Reason) != ReasonNoHandshake {
		t.Fatalf("cheque without handshake: %+v", r)
	}
}

func TestReplayRefusedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := accounting.OpenSQLite(filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	server, client := newNode(t, accounting.Mock, st), newNode(t, accounting.Mock, nil)
	testhost.Connect(t, client.h, server.h)
	serve(server, client, 120)
	waitFor(t, "cheque", func() bool { return server.ledger.Balance(client.h.ID()) == 0 })

	// A fresh Swap over the same store (the node restarted) still knows cumulative 120.
	s2, err := New(server.h, server.ledger, Config{Mode: accounting.Mock, PaymentThreshold: 100, Key: server.key, Store: st}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := s2.LatestCheque(context.Background(), client.swap.Address())
	if err != nil || latest.Cumulative != 120 {
		t.Fatalf("after restart latest %+v %v", latest, err)
	}
	if err := s2.remember(client.h.ID(), Identity{Address: client.swap.Address()}); err != nil {
		t.Fatal(err)
	}
	server.ledger.Debit(client.h.ID(), accounting.Store, 500) // owed, so only the replay check can refuse
	if r := s2.Receive(context.Background(), client.h.ID(), latest.Proto()); r.Accepted || Reason(r.Reason) != ReasonReplayed {
		t.Fatalf("cheque replayed after restart: %+v", r)
	}
}

func TestHandshakeTableIsBoundedWithoutLockingPeersOut(t *testing.T) {
	key, _ := crypto.GenerateKey()
	l, _ := accounting.NewLedger(accounting.Config{Prices: accounting.DefaultPrices()}, nil)
	s, err := New(nil, l, Config{Mode: accounting.Mock, PaymentThreshold: 100, Key: key, MaxPeers: 2}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []peer.ID{"a", "b", "c"} {
		if err := s.remember(p, Identity{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := s.Peer("c"); !ok || len(s.peers) != 2 {
		t.Fatalf("table holds %d peers (newest present: %v), want 2 with the newest", len(s.peers), ok)
	}
}

// The payee accepted a cheque whose answer the payer never saw: the payer's next cheque is
// refused as a replay, but the answer tells it what the payee holds, and both ledgers recover.
func TestLostAnswerResyncsPayer(t *testing.T) {
	server, client := newNode(t, accounting.Mock, nil), newNode(t, accounting.Mock, nil)
	testhost.Connect(t, client.h, server.h)
	s, c := server.h.ID(), client.h.ID()
	ctx := context.Background()
	if _, err := client.swap.Handshake(ctx, s); err != nil {
		t.Fatal(err)
	}
	server.ledger.Debit(c, accounting.Store, 100)
	client.ledger.Credit(s, accounting.Store, 100)
	lost, _ := IssueCheque(client.key, nil, common.Address{}, server.swap.Address(), 100, 1)
	if r := sendRaw(t, client, s, lost.Proto()); !r.Accepted {
		t.Fatalf("cheque refused: %+v", r)
	}
	settled, err := client.swap.Pay(ctx, s)
	if err == nil || settled != 100 || client.ledger.Balance(s) != 0 || server.ledger.Balance(c) != 0 {
		t.Fatalf("resync: settled %d err %v, balances %d / %d", settled, err, client.ledger.Balance(s), server.ledger.Balance(c))
	}
	serve(server, client, 120)
	waitFor(t, "next cheque", func() bool { return server.ledger.Balance(c) == 0 && client.ledger.Balance(s) == 0 })
	if latest, _ := server.swap.LatestCheque(ctx, client.swap.Address()); latest.Cumulative != 220 {
		t.Fatalf("latest cumulative %d, want 220", latest.Cumulative)
	}
}
