package swap

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/wakunode/wakunode/accounting"
)

// Protocol IDs. Cheques travel on nwaku's ID; the handshake (which nwaku defined but never
// sent) has its own request/response ID so a cheque stream stays a bare nwaku Cheque.
const (
	ProtocolID          protocol.ID = "/vac/waku/swap/2.0.0-beta1"
	HandshakeProtocolID protocol.ID = "/vac/waku/swap/handshake/2.0.0-beta1"
)

// MaxMessageSize bounds every swap message read (a cheque is ~120 bytes).
const MaxMessageSize = 1024

// Host is the part of a libp2p host swap needs.
type Host interface {
	ID() peer.ID
	SetStreamHandler(protocol.ID, network.StreamHandler)
	RemoveStreamHandler(protocol.ID)
	NewStream(context.Context, peer.ID, ...protocol.ID) (network.Stream, error)
}

// ChequeStore persists the latest cheque per counterparty (accounting.DBStore).
type ChequeStore interface {
	SaveCheque(ctx context.Context, direction string, counterparty []byte, cumulative uint64, cheque []byte) error
	LastCheque(ctx context.Context, direction string, counterparty []byte) (uint64, []byte, error)
}

// Chain is the settlement backend of hard mode (swap/contracts.Settler).
type Chain interface {
	ChainID() *big.Int
	// Solvent reports whether chequebook can pay out cumulative units to beneficiary now.
	Solvent(ctx context.Context, chequebook, beneficiary common.Address, cumulative uint64) (bool, error)
	// PaidOut is the cumulative units chequebook has paid out to beneficiary.
	PaidOut(ctx context.Context, chequebook, beneficiary common.Address) (uint64, error)
	// Cash submits a cheque to chequebook; the transaction may still fail when mined.
	Cash(ctx context.Context, chequebook, beneficiary common.Address, cumulative uint64, sig []byte) (*types.Transaction, error)
}

// Observer learns how each peer settles (reputation). Methods must not block.
type Observer interface {
	ChequeHonoured(p peer.ID, units int64)
	ChequeRefused(p peer.ID, reason Reason)
}

// Reason is why a cheque was refused.
type Reason string

// Refusal reasons, also the ChequeResponse.reason strings.
const (
	ReasonNoHandshake   Reason = "no handshake"
	ReasonMalformed     Reason = "malformed cheque"
	ReasonBeneficiary   Reason = "wrong beneficiary"
	ReasonChequebook    Reason = "wrong chequebook"
	ReasonSignature     Reason = "bad signature"
	ReasonReplayed      Reason = "replayed or older cheque"
	ReasonExceedsLedger Reason = "cheque exceeds the ledger"
	ReasonBounced       Reason = "chequebook cannot pay"
	ReasonInternal      Reason = "internal error"
)

// Config configures Swap.
type Config struct {
	Mode accounting.Mode
	// PaymentThreshold: we send a cheque once we owe a peer this many units (spec 100).
	PaymentThreshold int64
	// Key is the settlement key (by default the node key); its address is our beneficiary.
	Key *ecdsa.PrivateKey
	// Chequebook is our chequebook contract (hard mode; needed only to pay).
	Chequebook common.Address
	// Chain settles in hard mode; nil in soft/mock.
	Chain Chain
	// CashInterval is how often hard mode cashes the latest cheque of each payer not yet paid
	// out on chain; 0 cashes only on request (Cash).
	CashInterval time.Duration
	// Store persists cheques; nil keeps them in memory only (tests).
	Store ChequeStore
	// OverpayTolerance lets a cheque exceed our ledger's record by this many units (clock skew
	// of the free allowance between the two ledgers); 0 = exact.
	OverpayTolerance int64
	// MaxPeers bounds the handshake table (0 = 10000).
	MaxPeers int
	Timeout  time.Duration // per exchange (0 = 10 s)
	Now      func() time.Time
}

// Swap runs the handshake and cheque protocols over a ledger.
type Swap struct {
	h      Host
	ledger *accounting.Ledger
	cfg    Config
	self   common.Address
	chain  *big.Int
	m      *accounting.Metrics
	obs    Observer
	log    *slog.Logger

	mu       sync.Mutex
	peers    map[peer.ID]Identity       // handshakes done
	received map[common.Address]*Cheque // issuer → latest cheque accepted (cashable)
	paid     map[common.Address]uint64  // beneficiary → highest cumulative the payee acknowledged
	payMu    sync.Mutex                 // one payment at a time
	recvMu   sync.Mutex                 // one incoming cheque verified at a time

	pending map[peer.ID]bool
	queue   chan peer.ID
	stop    chan struct{}
	wg      sync.WaitGroup // payLoop, cashLoop
	once    sync.Once
}

// New returns a Swap; Start registers its protocols. m and obs may be nil.
func New(h Host, l *accounting.Ledger, cfg Config, m *accounting.Metrics, obs Observer, log *slog.Logger) (*Swap, error) {
	if cfg.Key == nil {
		return nil, errors.New("swap: settlement key required")
	}
	if cfg.PaymentThreshold <= 0 {
		return nil, fmt.Errorf("swap: payment threshold must be positive, got %d", cfg.PaymentThreshold)
	}
	if cfg.Mode == accounting.Hard && cfg.Chain == nil {
		return nil, errors.New("swap: hard mode needs a chain")
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = 10000
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	chainID := new(big.Int)
	if cfg.Chain != nil {
		chainID = cfg.Chain.ChainID()
	}
	return &Swap{h: h, ledger: l, cfg: cfg, self: crypto.PubkeyToAddress(cfg.Key.PublicKey), chain: chainID,
		m: m, obs: obs, log: log,
		peers: map[peer.ID]Identity{}, received: map[common.Address]*Cheque{}, paid: map[common.Address]uint64{},
		pending: map[peer.ID]bool{},
		queue:   make(chan peer.ID, 256), stop: make(chan struct{})}, nil
}

// Address is our settlement (beneficiary) address.
func (s *Swap) Address() common.Address { return s.self }

// Ledger is the ledger swap settles.
func (s *Swap) Ledger() *accounting.Ledger { return s.ledger }

// Start registers the protocol handlers and runs the payment worker (and, in hard mode with a
// CashInterval, the cashing loop). Stop must be called.
func (s *Swap) Start() {
	s.h.SetStreamHandler(HandshakeProtocolID, s.handleHandshake)
	s.h.SetStreamHandler(ProtocolID, s.handleCheque)
	s.wg.Add(1)
	go s.payLoop()
	if s.cfg.Mode == accounting.Hard && s.cfg.CashInterval > 0 {
		s.wg.Add(1)
		go s.cashLoop()
	}
}

// Stop removes the handlers and ends the worker. Safe to call twice.
func (s *Swap) Stop() {
	s.once.Do(func() {
		s.h.RemoveStreamHandler(HandshakeProtocolID)
		s.h.RemoveStreamHandler(ProtocolID)
		close(s.stop)
		s.wg.Wait()
	})
}

// Credit books n items of service svc that p rendered to us, and schedules a cheque once we
// owe p the payment threshold. This is the client-side hook of every service.
func (s *Swap) Credit(p peer.ID, svc accounting.Service, n int64) {
	if s.ledger.Credit(p, svc, n) == 0 || s.cfg.Mode == accounting.Soft {
		return
	}
	if -s.ledger.Balance(p) < s.cfg.PaymentThreshold {
		return
	}
	s.mu.Lock()
	if s.pending[p] {
		s.mu.Unlock()
		return
	}
	s.pending[p] = true
	s.mu.Unlock()
	select {
	case s.queue <- p:
	default: // worker saturated: the next credit retries
		s.mu.Lock()
		delete(s.pending, p)
		s.mu.Unlock()
	}
}

func (s *Swap) payLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stop:
			return
		case p := <-s.queue:
			ctx, cancel := s.stopContext(2 * s.cfg.Timeout) // Stop cancels an exchange in flight
			if _, err := s.Pay(ctx, p); err != nil {
				s.log.Info("swap: payment failed", "peer", p, "err", err)
			}
			cancel()
			s.mu.Lock()
			delete(s.pending, p)
			s.mu.Unlock()
		}
	}
}

// DefaultPaymentThreshold is 18/WAKU2-SWAP's (and nwaku's, go-waku's) payment threshold.
const DefaultPaymentThreshold = 100
