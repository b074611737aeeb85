package contracts_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/libp2p/go-libp2p"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/swap"
	"github.com/wakunode/wakunode/swap/contracts"
)

var (
	ether      = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	weiPerUnit = big.NewInt(1_000_000_000) // 1 gwei per unit
)

type chain struct {
	sim     *simulated.Backend
	client  simulated.Client
	settler *contracts.Settler
}

// newChain starts go-ethereum's in-process chain with gasKey funded.
func newChain(t *testing.T, gasKey *ecdsa.PrivateKey) *chain {
	t.Helper()
	sim := simulated.NewBackend(types.GenesisAlloc{crypto.PubkeyToAddress(gasKey.PublicKey): {Balance: new(big.Int).Mul(big.NewInt(100), ether)}})
	t.Cleanup(func() { _ = sim.Close() })
	st, err := contracts.NewSettler(context.Background(), sim.Client(), gasKey)
	if err != nil {
		t.Fatal(err)
	}
	return &chain{sim: sim, client: sim.Client(), settler: st}
}

func (c *chain) mine(t *testing.T, tx *types.Transaction) *types.Receipt {
	t.Helper()
	c.sim.Commit()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := bind.WaitMined(ctx, c.client, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("transaction %s failed", tx.Hash())
	}
	return r
}

func (c *chain) deploy(t *testing.T, issuer common.Address, funding *big.Int) common.Address {
	t.Helper()
	addr, tx, err := c.settler.Deploy(context.Background(), issuer, weiPerUnit, funding)
	if err != nil {
		t.Fatal(err)
	}
	c.mine(t, tx)
	return addr
}

type node struct {
	h      host.Host
	key    *ecdsa.PrivateKey
	ledger *accounting.Ledger
	swap   *swap.Swap
}

func newHardNode(t *testing.T, ch *chain, chequebook common.Address, key *ecdsa.PrivateKey) *node {
	t.Helper()
	nk, _, _ := p2pcrypto.GenerateSecp256k1Key(nil)
	h := testhost.New(t, libp2p.Identity(nk), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if key == nil {
		var err error
		if key, err = swap.KeyFromNodeKey(nk); err != nil {
			t.Fatal(err)
		}
	}
	l, _ := accounting.NewLedger(accounting.Config{Prices: accounting.DefaultPrices()}, nil)
	s, err := swap.New(h, l, swap.Config{Mode: accounting.Hard, PaymentThreshold: 100, Key: key, Chain: ch.settler, Chequebook: chequebook}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Stop)
	return &node{h: h, key: key, ledger: l, swap: s}
}

func TestHardModeChequesCashOnChain(t *testing.T) {
	gasKey, _ := crypto.GenerateKey()
	ch := newChain(t, gasKey)
	clientKey, _ := crypto.GenerateKey()
	cb := ch.deploy(t, crypto.PubkeyToAddress(clientKey.PublicKey), ether)
	server := newHardNode(t, ch, common.Address{}, nil)
	client := newHardNode(t, ch, cb, clientKey)
	testhost.Connect(t, client.h, server.h)
	ctx := context.Background()
	s, c := server.h.ID(), client.h.ID()

	for _, n := range []int64{130, 120} { // two cheques: cumulative 130 then 250
		server.ledger.Debit(c, accounting.Store, n)
		client.ledger.Credit(s, accounting.Store, n)
		if paid, err := client.swap.Pay(ctx, s); err != nil || paid != n {
			t.Fatalf("pay %d: paid %d, %v", n, paid, err)
		}
	}
	latest, err := server.swap.LatestCheque(ctx, client.swap.Address())
	if err != nil || latest.Cumulative != 250 {
		t.Fatalf("latest %+v %v", latest, err)
	}
	beneficiary := server.swap.Address()
	before, _ := ch.client.BalanceAt(ctx, beneficiary, nil)
	tx, err := ch.settler.Cash(ctx, latest.Chequebook, latest.Beneficiary, latest.Cumulative, latest.Signature)
	if err != nil {
		t.Fatal(err)
	}
	ch.mine(t, tx)
	after, _ := ch.client.BalanceAt(ctx, beneficiary, nil)
	want := new(big.Int).Mul(big.NewInt(250), weiPerUnit)
	if got := new(big.Int).Sub(after, before); got.Cmp(want) != 0 {
		t.Fatalf("beneficiary received %s wei, want %s", got, want)
	}
	paidOut, err := ch.settler.PaidOut(ctx, cb, beneficiary)
	if err != nil || paidOut != 250 {
		t.Fatalf("paidOut %d %v", paidOut, err)
	}
	if server.ledger.Balance(c) != 0 || client.ledger.Balance(s) != 0 {
		t.Fatalf("ledgers %d / %d after settlement, want 0 / 0", server.ledger.Balance(c), client.ledger.Balance(s))
	}
	// Cashing the same cumulative cheque again pays nothing.
	if _, err := ch.settler.Cash(ctx, latest.Chequebook, latest.Beneficiary, latest.Cumulative, latest.Signature); err == nil {
		t.Fatal("a cashed cheque was cashed again")
	}
	// A cheque signed by someone other than the issuer is refused by the contract.
	stranger, _ := crypto.GenerateKey()
	forged, _ := swap.IssueCheque(stranger, ch.settler.ChainID(), cb, beneficiary, 400, 1)
	if _, err := ch.settler.Cash(ctx, cb, beneficiary, 400, forged.Signature); err == nil {
		t.Fatal("contract cashed a forged cheque")
	}
}

func TestBouncedChequeIsDetected(t *testing.T) {
	gasKey, _ := crypto.GenerateKey()
	ch := newChain(t, gasKey)
	clientKey, _ := crypto.GenerateKey()
	empty := ch.deploy(t, crypto.PubkeyToAddress(clientKey.PublicKey), big.NewInt(0))
	server := newHardNode(t, ch, common.Address{}, nil)
	client := newHardNode(t, ch, empty, clientKey)
	testhost.Connect(t, client.h, server.h)
	ctx := context.Background()

	server.ledger.Debit(client.h.ID(), accounting.Store, 100)
	client.ledger.Credit(server.h.ID(), accounting.Store, 100)
	if _, err := client.swap.Pay(ctx, server.h.ID()); err == nil {
		t.Fatal("a cheque on an empty chequebook was accepted")
	}
	if server.ledger.Balance(client.h.ID()) != 100 {
		t.Fatal("a bounced cheque moved the payee's ledger")
	}
	// Cashing it directly is detected as a bounce before any gas is spent.
	c, _ := swap.IssueCheque(clientKey, ch.settler.ChainID(), empty, server.swap.Address(), 100, 1)
	if _, err := ch.settler.Cash(ctx, empty, server.swap.Address(), 100, c.Signature); !errors.Is(err, contracts.ErrBounced) {
		t.Fatalf("cash on empty chequebook: %v, want ErrBounced", err)
	}
}

// TestDigestMatchesContract: Go and Solidity compute the same cheque digest.
func TestDigestMatchesContract(t *testing.T) {
	gasKey, _ := crypto.GenerateKey()
	ch := newChain(t, gasKey)
	cb := ch.deploy(t, common.Address{1}, big.NewInt(0))
	ben := common.Address{2}
	cbind := contracts.NewChequebook()
	got, err := bind.Call(cbind.Instance(ch.client, cb), nil, cbind.PackChequeDigest(ben, big.NewInt(77)), cbind.UnpackChequeDigest)
	if err != nil {
		t.Fatal(err)
	}
	if want := swap.ChequeDigest(ch.settler.ChainID(), cb, ben, 77); common.BytesToHash(want) != common.Hash(got) {
		t.Fatalf("contract digest %x, Go digest %x", got, want)
	}
}
