package node

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	gethnode "github.com/ethereum/go-ethereum/node"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/internal/testmetrics"
	"github.com/wakunode/wakunode/swap"
	"github.com/wakunode/wakunode/swap/contracts"
)

var (
	ether      = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	weiPerUnit = big.NewInt(1_000_000_000)
)

// freeLowPort finds a free loopback TCP port below 32768 (outside the ephemeral range other
// tests' port-0 listeners draw from).
func freeLowPort(t *testing.T) int {
	t.Helper()
	for range 100 {
		p := 20000 + rand.IntN(12000)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			_ = ln.Close()
			return p
		}
	}
	t.Fatal("no free port below 32768")
	return 0
}

// httpChain runs go-ethereum's simulated chain with its JSON-RPC served over HTTP on
// 127.0.0.1, so nodes reach it through --swap-eth-client-address like any endpoint.
func httpChain(t *testing.T, alloc types.GenesisAlloc) (*simulated.Backend, string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		port := freeLowPort(t)
		sim, err := func() (sim *simulated.Backend, err error) {
			defer func() {
				if r := recover(); r != nil { // NewBackend panics when the port was taken meanwhile
					err = fmt.Errorf("simulated backend: %v", r)
				}
			}()
			return simulated.NewBackend(alloc, func(nc *gethnode.Config, _ *ethconfig.Config) {
				nc.HTTPHost, nc.HTTPPort = "127.0.0.1", port
				nc.HTTPModules = []string{"eth", "net", "web3"}
			}), nil
		}()
		if err == nil {
			t.Cleanup(func() { _ = sim.Close() })
			return sim, fmt.Sprintf("http://127.0.0.1:%d", port)
		}
		if attempt == 5 {
			t.Fatal(err)
		}
	}
}

func mined(t *testing.T, sim *simulated.Backend, tx common.Hash) *types.Receipt {
	t.Helper()
	sim.Commit()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := bind.WaitMined(ctx, sim.Client(), tx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("transaction %s failed", tx)
	}
	return r
}

// chequesBy reads waku_swap_cheques_total{direction, result} from reg.
func chequesBy(t *testing.T, reg *prometheus.Registry, direction, result string) float64 {
	return testmetrics.Counter(t, reg, "waku_swap_cheques_total", map[string]string{"direction": direction, "result": result})
}

func hardConfig(t *testing.T, key *ecdsa.PrivateKey, url string, chequebook common.Address) Config {
	cfg := acctConfig(t, accounting.Hard)
	cfg.NodeKey = key
	cfg.Accounting.EthClientAddress = url
	cfg.Accounting.Chequebook = chequebook
	return cfg
}

func keyAddr(k *ecdsa.PrivateKey) common.Address { return ethcrypto.PubkeyToAddress(k.PublicKey) }

// hardChain is a simulated chain over HTTP with a funded deployer; gasPayers get one ether.
type hardChain struct {
	sim      *simulated.Backend
	url      string
	ctx      context.Context
	deployer *contracts.Settler
}

func newHardChain(t *testing.T, gasPayers ...*ecdsa.PrivateKey) *hardChain {
	t.Helper()
	deployerKey, _ := ethcrypto.GenerateKey()
	alloc := types.GenesisAlloc{keyAddr(deployerKey): {Balance: new(big.Int).Mul(big.NewInt(100), ether)}}
	for _, k := range gasPayers {
		alloc[keyAddr(k)] = types.Account{Balance: ether}
	}
	sim, url := httpChain(t, alloc)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	deployer, err := contracts.NewSettler(ctx, sim.Client(), deployerKey)
	if err != nil {
		t.Fatal(err)
	}
	return &hardChain{sim: sim, url: url, ctx: ctx, deployer: deployer}
}

// deploy creates a chequebook for issuer holding funding wei.
func (c *hardChain) deploy(t *testing.T, issuer common.Address, funding *big.Int) common.Address {
	t.Helper()
	cb, tx, err := c.deployer.Deploy(c.ctx, issuer, weiPerUnit, funding)
	if err != nil {
		t.Fatal(err)
	}
	mined(t, c.sim, tx.Hash())
	return cb
}

// Hard mode through the node's --swap-eth-client-address path: a client pays from its
// chequebook at the payment threshold, the server cashes the cheque on chain, and the
// beneficiary's on-chain balance, the contract and both ledgers agree; a cheque on an empty
// chequebook is detected as bounced and moves nothing.
func TestHardModeSettlesOnChainOverJSONRPC(t *testing.T) {
	serverKey, _ := ethcrypto.GenerateKey()
	clientKey, _ := ethcrypto.GenerateKey()
	brokeKey, _ := ethcrypto.GenerateKey()
	ch := newHardChain(t, serverKey)
	sim, url, ctx, deployer := ch.sim, ch.url, ch.ctx, ch.deployer
	funded := ch.deploy(t, keyAddr(clientKey), ether)
	empty := ch.deploy(t, keyAddr(brokeKey), big.NewInt(0))
	addr := keyAddr

	cs := hardConfig(t, serverKey, url, common.Address{}) // paid, never pays: no chequebook
	cs.Store.Enabled = true
	reg := prometheus.NewRegistry()
	cs.Registerer = reg
	s := startNode(t, cs)
	sAddr := addrWith(t, s, "/tcp/")
	client := func(key *ecdsa.PrivateKey, cb common.Address) *Node {
		cfg := hardConfig(t, key, url, cb)
		cfg.Relay = false
		cfg.Accounting.PaymentThreshold = 10
		return startNode(t, cfg)
	}
	c, broke := client(clientKey, funded), client(brokeKey, empty)
	publishN(t, s, "stored", 20)
	waitCount(t, s, 20)

	storeQuery(t, c, sAddr, 12) // owes 12 ≥ 10: pays a cheque for 12
	waitFor(t, 15*time.Second, func() string { return fmt.Sprintf("S %+v / C %+v", account(t, s, c), account(t, c, s)) }, func() bool {
		sc := account(t, s, c)
		return sc.Balance == 0 && sc.LastChequeReceived != nil && account(t, c, s).Balance == 0
	})
	if got := account(t, s, c).LastChequeReceived; got.Cumulative != 12 || got.Chequebook != funded || got.Beneficiary != addr(serverKey) {
		t.Fatalf("cheque held by the server: %+v", got)
	}

	before, err := sim.Client().BalanceAt(ctx, addr(serverKey), nil)
	if err != nil {
		t.Fatal(err)
	}
	txh, err := s.Accounting().Cash(ctx, c.ID())
	if err != nil {
		t.Fatal(err)
	}
	r := mined(t, sim, txh)
	after, _ := sim.Client().BalanceAt(ctx, addr(serverKey), nil)
	gas := new(big.Int).Mul(new(big.Int).SetUint64(r.GasUsed), r.EffectiveGasPrice)
	received := new(big.Int).Add(new(big.Int).Sub(after, before), gas)
	if want := new(big.Int).Mul(big.NewInt(12), weiPerUnit); received.Cmp(want) != 0 {
		t.Fatalf("beneficiary received %s wei on chain, want %s", received, want)
	}
	if paid, err := deployer.PaidOut(ctx, funded, addr(serverKey)); err != nil || paid != 12 {
		t.Fatalf("chequebook paid out %d units (%v), want 12", paid, err)
	}
	if sb, cb := account(t, s, c), account(t, c, s); sb.Balance != 0 || cb.Balance != 0 ||
		cb.LastChequeSent == nil || cb.LastChequeSent.Cumulative != 12 || sb.Served["store"] != cb.Consumed["store"] {
		t.Fatalf("ledgers after cashing: server %+v, client %+v", sb, cb)
	}

	// The broke client's cheque bounces: the server refuses it and both ledgers keep the debt.
	storeQuery(t, broke, sAddr, 12)
	waitFor(t, 15*time.Second, func() string { return "bounced cheque not detected" }, func() bool {
		return chequesBy(t, reg, "received", string(swap.ReasonBounced)) >= 1
	})
	if sb, bb := account(t, s, broke), account(t, broke, s); sb.Balance != 12 || bb.Balance != -12 ||
		sb.LastChequeReceived != nil || bb.LastChequeSent != nil {
		t.Fatalf("after a bounced cheque: server %+v, broke client %+v", sb, bb)
	}
	if _, err := s.Accounting().Cash(ctx, broke.ID()); err == nil {
		t.Fatal("cashed a cheque that was never accepted")
	}
}

// With --swap-cash-interval a hard-mode node cashes what it was paid by itself.
func TestHardModeCashesPeriodically(t *testing.T) {
	serverKey, _ := ethcrypto.GenerateKey()
	clientKey, _ := ethcrypto.GenerateKey()
	ch := newHardChain(t, serverKey)
	cb := ch.deploy(t, keyAddr(clientKey), ether)
	cs := hardConfig(t, serverKey, ch.url, common.Address{})
	cs.Store.Enabled = true
	cs.Accounting.CashInterval = 100 * time.Millisecond
	s := startNode(t, cs)
	cc := hardConfig(t, clientKey, ch.url, cb)
	cc.Relay = false
	cc.Accounting.PaymentThreshold = 10
	c := startNode(t, cc)
	publishN(t, s, "stored", 15)
	waitCount(t, s, 15)
	storeQuery(t, c, addrWith(t, s, "/tcp/"), 15)
	var paid uint64
	waitFor(t, 20*time.Second, func() string { return fmt.Sprintf("chequebook paid out %d units, want 15", paid) }, func() bool {
		ch.sim.Commit() // mines the cashing transaction once the node has sent it
		paid, _ = ch.deployer.PaidOut(ch.ctx, cb, keyAddr(serverKey))
		return paid == 15
	})
}
