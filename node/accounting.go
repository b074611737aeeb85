package node

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/relay"
	"github.com/wakunode/wakunode/reputation"
	"github.com/wakunode/wakunode/store"
	"github.com/wakunode/wakunode/swap"
	"github.com/wakunode/wakunode/swap/contracts"
)

// AccountingConfig configures pairwise accounting, SWAP settlement and reputation (--swap*,
// docs/accounting.md). Start from DefaultAccountingConfig.
type AccountingConfig struct {
	Enabled bool            // --swap
	Mode    accounting.Mode // --swap-mode: soft, mock or hard
	// PaymentThreshold: we send a cheque once we owe a peer this many units (--swap-payment-threshold).
	PaymentThreshold int64
	// DisconnectThreshold: a peer owing us more than -DisconnectThreshold units is refused and
	// disconnected in mock and hard mode (--swap-disconnect-threshold).
	DisconnectThreshold int64
	Prices              accounting.Prices
	Allowance           accounting.Allowance // free tier per peer
	// SettlementKey signs cheques and handshakes; nil = the node key.
	SettlementKey *ecdsa.PrivateKey
	// EthClientAddress is the JSON-RPC endpoint of hard mode (--swap-eth-client-address); the
	// chain id is read from it.
	EthClientAddress string
	// Chequebook is our chequebook contract; needed in hard mode to pay (--swap-chequebook-address).
	Chequebook common.Address
	// FlushInterval is how often changed balances are written (0 = 10 s; always at Stop).
	FlushInterval time.Duration
	// DisconnectDelay lets a refusal reach a debtor before its connection is closed (0 = 1 s).
	DisconnectDelay time.Duration
	// OverpayTolerance absorbs the free allowance's clock skew between two ledgers (units).
	OverpayTolerance int64
	// CashInterval is how often hard mode cashes the latest cheque of each payer not yet paid
	// out on chain (--swap-cash-interval); 0 = only on request (Accounting.Cash).
	CashInterval time.Duration
}

// DefaultAccountingConfig carries 18/WAKU2-SWAP's thresholds, one unit per message and per
// KiB relayed, and a free tier of one unit a second banked up to 100.
func DefaultAccountingConfig() AccountingConfig {
	return AccountingConfig{
		Mode:                accounting.Soft,
		PaymentThreshold:    swap.DefaultPaymentThreshold,
		DisconnectThreshold: accounting.DefaultDisconnectThreshold,
		Prices:              accounting.DefaultPrices(),
		Allowance:           accounting.Allowance{PerSecond: 1, Burst: 100},
		OverpayTolerance:    5,
		CashInterval:        time.Hour,
	}
}

// Accounting is the node's ledger, settlement and reputation (nil when --swap is off).
type Accounting struct {
	cfg     AccountingConfig
	ledger  *accounting.Ledger
	policy  *accounting.Policy
	swap    *swap.Swap
	tracker *reputation.Tracker
	eth     ethClient // hard mode
}

// Accounting returns the node's accounting, or nil when it is off or the node not started.
func (n *Node) Accounting() *Accounting {
	if !n.ready() {
		return nil
	}
	return n.acct
}

// startAccounting builds ledger, policy, swap and reputation before relay and the services,
// so they are stopped after them (stops run in reverse) and the last flush sees every booking.
func (n *Node) startAccounting(ctx context.Context) error {
	ac := n.cfg.Accounting
	if !ac.Enabled {
		return nil
	}
	if ac.PaymentThreshold <= 0 || ac.DisconnectThreshold >= 0 {
		return fmt.Errorf("swap thresholds: payment %d must be > 0, disconnect %d < 0", ac.PaymentThreshold, ac.DisconnectThreshold)
	}
	key := ac.SettlementKey
	if key == nil {
		key = n.key
	}
	var m *accounting.Metrics
	if n.cfg.Registerer != nil {
		m = accounting.NewMetrics(n.cfg.Registerer)
	}
	ledger, err := accounting.NewLedger(accounting.Config{Prices: ac.Prices, Allowance: ac.Allowance}, m)
	if err != nil {
		return err
	}
	st, err := n.openAccountingStore(ctx)
	if err != nil {
		return err
	}
	n.onStop(st.Close)
	if err := ledger.Load(ctx, st); err != nil {
		return err
	}
	a := &Accounting{cfg: ac, ledger: ledger}
	a.tracker = reputation.New(reputation.Config{Self: n.host.ID(), PreTrusted: n.staticPeerIDs()})
	pers := accounting.NewPersister(ledger, st, ac.FlushInterval, n.log)
	pers.Start()
	n.onStop(func() error { pers.Stop(); return nil })

	pol, err := accounting.NewPolicy(ledger, accounting.PolicyConfig{Mode: ac.Mode, DisconnectThreshold: ac.DisconnectThreshold,
		DisconnectDelay: ac.DisconnectDelay, OnRefuse: a.tracker.PaymentRefused}, n.host.Network(), m, n.log)
	if err != nil {
		return err
	}
	pol.Start()
	n.onStop(func() error { pol.Stop(); return nil })
	a.policy = pol

	sc := swap.Config{Mode: ac.Mode, PaymentThreshold: ac.PaymentThreshold, Key: key, Chequebook: ac.Chequebook,
		Store: st, OverpayTolerance: ac.OverpayTolerance}
	if ac.Mode == accounting.Hard {
		if err := a.dialChain(ctx, ac, key, &sc); err != nil {
			return err
		}
		n.onStop(func() error { a.closeChain(); return nil })
		sc.CashInterval = ac.CashInterval
	}
	sw, err := swap.New(n.host, ledger, sc, m, a.tracker, n.log)
	if err != nil {
		return err
	}
	sw.Start()
	n.onStop(func() error { sw.Stop(); return nil })
	a.swap = sw
	// A handshake lives as long as the connection: forget it when the last one closes.
	forget := &network.NotifyBundle{DisconnectedF: func(net network.Network, c network.Conn) {
		if net.Connectedness(c.RemotePeer()) != network.Connected {
			sw.Forget(c.RemotePeer())
		}
	}}
	n.host.Network().Notify(forget)
	n.onStop(func() error { n.host.Network().StopNotify(forget); return nil })
	n.acct = a
	n.log.Info("accounting on", "mode", ac.Mode, "beneficiary", sw.Address(), "paymentThreshold", ac.PaymentThreshold,
		"disconnectThreshold", ac.DisconnectThreshold)
	return nil
}

// openAccountingStore keeps balances and cheques next to the archive: in its database when
// the store is on (SQLite file or PostgreSQL), else in DataDir/accounting.sqlite3.
func (n *Node) openAccountingStore(ctx context.Context) (accounting.Storage, error) {
	url := ""
	if n.cfg.Store.Enabled {
		url = n.cfg.Store.DBURL
	}
	st, err := accounting.OpenStore(ctx, url, n.cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("accounting store: %w", err)
	}
	return st, nil
}

func (n *Node) staticPeerIDs() []peer.ID {
	var out []peer.ID
	for _, a := range n.cfg.StaticNodes {
		if info, err := peer.AddrInfoFromP2pAddr(a); err == nil {
			out = append(out, info.ID)
		}
	}
	return out
}

// ethClient is what hard mode keeps of the JSON-RPC connection.
type ethClient interface {
	contracts.Backend
	Close()
}

// dialChain connects hard mode to its Ethereum JSON-RPC endpoint; the chain id comes from it.
func (a *Accounting) dialChain(ctx context.Context, ac AccountingConfig, key *ecdsa.PrivateKey, sc *swap.Config) error {
	if ac.EthClientAddress == "" {
		return errors.New("swap hard mode needs an Ethereum JSON-RPC endpoint (--swap-eth-client-address)")
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := ethclient.DialContext(dctx, ac.EthClientAddress)
	if err != nil {
		return fmt.Errorf("swap: dial %s: %w", ac.EthClientAddress, err)
	}
	st, err := contracts.NewSettler(dctx, c, key)
	if err != nil {
		c.Close()
		return fmt.Errorf("swap: %s: %w", ac.EthClientAddress, err)
	}
	a.eth = c
	sc.Chain = st
	return nil
}

func (a *Accounting) closeChain() {
	if a.eth != nil {
		a.eth.Close()
	}
}

// Ledger is the pairwise balance book.
func (a *Accounting) Ledger() *accounting.Ledger { return a.ledger }

// Swap is the settlement protocol.
func (a *Accounting) Swap() *swap.Swap { return a.swap }

// Reputation is the local trust tracker (the peer manager's ranking).
func (a *Accounting) Reputation() *reputation.Tracker { return a.tracker }

// Mode is the SWAP mode in use.
func (a *Accounting) Mode() accounting.Mode { return a.cfg.Mode }

// Cash submits the latest cheque received from p to its chequebook (hard mode) and returns
// the transaction; the caller (operator, test) waits for it to be mined.
func (a *Accounting) Cash(ctx context.Context, p peer.ID) (common.Hash, error) {
	return a.swap.Cash(ctx, p)
}

// PeerAccount is one peer's record as REST shows it.
type PeerAccount struct {
	Peer peer.ID
	// Balance > 0: the peer owes us; < 0: we owe it (units).
	Balance int64
	// Served and Consumed are units per service name: rendered to the peer, received from it.
	Served, Consumed   map[string]int64
	RelayBytesOut      int64
	RelayBytesIn       int64
	LastChequeSent     *ChequeInfo
	LastChequeReceived *ChequeInfo
	Trust              float64 // global trust in [0, 1]
}

// ChequeInfo is the latest cumulative cheque exchanged with a peer.
type ChequeInfo struct {
	Cumulative  uint64
	Date        uint32
	Beneficiary common.Address
	Chequebook  common.Address
}

// Peers lists every peer with a record.
func (a *Accounting) Peers(ctx context.Context) []PeerAccount {
	if a == nil {
		return nil
	}
	snaps := a.ledger.Accounts()
	out := make([]PeerAccount, 0, len(snaps))
	for _, s := range snaps {
		if s2, ok := a.ledger.Account(s.Peer); ok { // with the free allowance applied
			s = s2
		}
		out = append(out, a.view(ctx, s))
	}
	return out
}

// Peer returns p's record; false when the ledger has none.
func (a *Accounting) Peer(ctx context.Context, p peer.ID) (PeerAccount, bool) {
	if a == nil {
		return PeerAccount{}, false
	}
	s, ok := a.ledger.Account(p)
	if !ok {
		return PeerAccount{}, false
	}
	return a.view(ctx, s), true
}

func (a *Accounting) view(ctx context.Context, s accounting.Snapshot) PeerAccount {
	v := PeerAccount{Peer: s.Peer, Balance: s.Balance, Served: map[string]int64{}, Consumed: map[string]int64{},
		RelayBytesOut: s.RelayOut, RelayBytesIn: s.RelayIn, Trust: a.tracker.Trust(s.Peer)}
	for _, svc := range accounting.Services {
		v.Served[svc.String()] = s.Served[svc]
		v.Consumed[svc.String()] = s.Consumed[svc]
	}
	addr := a.swap.PeerAddress(s.Peer)
	if addr == (common.Address{}) {
		return v
	}
	if c, err := a.swap.LatestCheque(ctx, addr); err == nil {
		v.LastChequeReceived = &ChequeInfo{Cumulative: c.Cumulative, Date: c.Date, Beneficiary: c.Beneficiary, Chequebook: c.Chequebook}
	}
	// What the payee acknowledged (cum) may be less than the cheque last signed for it.
	if cum, c, err := a.swap.LastSent(ctx, addr); err == nil {
		v.LastChequeSent = &ChequeInfo{Cumulative: cum, Date: c.Date, Beneficiary: c.Beneficiary, Chequebook: c.Chequebook}
	}
	return v
}

// serviceMeter is a service's server-side hook (store/filter/lightpush Accounting): refuse a
// debtor past the disconnect threshold, debit what was served.
type serviceMeter struct {
	a   *Accounting
	svc accounting.Service
}

func (m serviceMeter) Allow(p peer.ID) error   { return m.a.policy.Allow(p, m.svc) }
func (m serviceMeter) Served(p peer.ID, n int) { m.a.ledger.Debit(p, m.svc, int64(n)) }

// clientMeter is a client's hook (ClientObserver): what a service peer delivered is credited
// through swap, so a cheque follows at the payment threshold, and counts for its reputation.
type clientMeter struct {
	a   *Accounting
	svc accounting.Service
}

func (m clientMeter) Received(p peer.ID, n int) {
	m.a.swap.Credit(p, m.svc, int64(n))
	m.a.tracker.Served(p, int64(n))
}

func (m clientMeter) Failed(p peer.ID) { m.a.tracker.Failed(p) }

// relayMeter is relay's ByteAccounting: mutual, bytes out debited, bytes in credited.
type relayMeter struct{ a *Accounting }

func (m relayMeter) Sent(p peer.ID, bytes int) { m.a.ledger.Debit(p, accounting.Relay, int64(bytes)) }
func (m relayMeter) Received(p peer.ID, bytes int) {
	m.a.swap.Credit(p, accounting.Relay, int64(bytes))
}

// meter returns a's hook for svc as the consumer's interface T (store.Accounting,
// filter.ClientObserver, relay.ByteAccounting, ...): the zero T (nil, accounting off) when a
// is nil, never a typed nil.
func meter[T any](a *Accounting, svc accounting.Service, client bool) T {
	var zero T
	if a == nil {
		return zero
	}
	var h any = serviceMeter{a, svc}
	switch {
	case svc == accounting.Relay:
		h = relayMeter{a}
	case client:
		h = clientMeter{a, svc}
	}
	return h.(T) // the hook types are asserted against each interface below
}

var (
	_ store.Accounting         = serviceMeter{}
	_ filter.Accounting        = serviceMeter{}
	_ lightpush.Accounting     = serviceMeter{}
	_ store.ClientObserver     = clientMeter{}
	_ filter.ClientObserver    = clientMeter{}
	_ lightpush.ClientObserver = clientMeter{}
	_ relay.ByteAccounting     = relayMeter{}
)
