package accounting

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Mode is the SWAP phase (go-waku's --swap-mode numbering).
type Mode int

// Modes: soft accounts only; mock exchanges and verifies cheques without a chain; hard
// settles cheques on a chain.
const (
	Soft Mode = 0
	Mock Mode = 1
	Hard Mode = 2
)

func (m Mode) String() string {
	switch m {
	case Soft:
		return "soft"
	case Mock:
		return "mock"
	case Hard:
		return "hard"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// ErrPaymentRequired is returned by Policy.Allow for a peer past the disconnect threshold.
// Services answer it with their "too many requests"/refused status.
var ErrPaymentRequired = errors.New("payment required: peer is past the disconnect threshold")

// Disconnector closes connections (host.Host's Network() satisfies it).
type Disconnector interface {
	ClosePeer(peer.ID) error
}

// PolicyConfig are the thresholds of 18/WAKU2-SWAP (defaults 100 / -100).
type PolicyConfig struct {
	Mode Mode
	// DisconnectThreshold is the balance, seen from the debtor's side, at which it is cut off:
	// -100 means a peer owing us more than 100 units is refused. Must be < 0.
	DisconnectThreshold int64
	// DisconnectDelay lets the refusal reach the peer before its connection is closed (0 = 1 s).
	DisconnectDelay time.Duration
	// OnRefuse is told of every refusal (reputation); may be nil.
	OnRefuse func(peer.ID, Service)
}

// Policy decides whether a peer is served. Tit-for-tat: serve first, cut off a light peer
// that stops paying, serve it again once it settles. Relay (mutual service) is never refused.
type Policy struct {
	ledger *Ledger
	cfg    PolicyConfig
	disc   Disconnector
	log    *slog.Logger
	m      *Metrics

	queue   chan peer.ID
	started bool
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// NewPolicy returns a policy; Start runs its disconnect worker. disc may be nil (never
// disconnect, only refuse).
func NewPolicy(l *Ledger, cfg PolicyConfig, disc Disconnector, m *Metrics, log *slog.Logger) (*Policy, error) {
	if cfg.DisconnectThreshold >= 0 {
		return nil, fmt.Errorf("disconnect threshold must be negative, got %d", cfg.DisconnectThreshold)
	}
	if cfg.DisconnectDelay <= 0 {
		cfg.DisconnectDelay = time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	return &Policy{ledger: l, cfg: cfg, disc: disc, log: log, m: m,
		queue: make(chan peer.ID, 256), stop: make(chan struct{}), done: make(chan struct{})}, nil
}

// Allow returns nil when p may be served s, ErrPaymentRequired (wrapped) when it owes more
// than the disconnect threshold allows. In soft mode it only logs the crossing.
func (pl *Policy) Allow(p peer.ID, s Service) error {
	if s == Relay {
		return nil
	}
	bal := pl.ledger.Balance(p)
	if bal <= -pl.cfg.DisconnectThreshold {
		return nil
	}
	if pl.cfg.Mode == Soft {
		pl.log.Debug("swap: peer past disconnect threshold (soft mode: served anyway)", "peer", p, "balance", bal)
		return nil
	}
	pl.m.refused(s)
	if pl.cfg.OnRefuse != nil {
		pl.cfg.OnRefuse(p, s)
	}
	select {
	case pl.queue <- p:
	default: // worker saturated: the refusal alone still holds
	}
	return fmt.Errorf("%s for %s: balance %d, limit %d: %w", s, p, bal, -pl.cfg.DisconnectThreshold, ErrPaymentRequired)
}

// Start runs the disconnect worker. Stop must be called.
func (pl *Policy) Start() {
	pl.started = true
	go func() {
		defer close(pl.done)
		for {
			select {
			case <-pl.stop:
				return
			case p := <-pl.queue:
				t := time.NewTimer(pl.cfg.DisconnectDelay)
				select {
				case <-pl.stop:
					t.Stop()
					return
				case <-t.C:
				}
				if pl.disc != nil && pl.ledger.Balance(p) > -pl.cfg.DisconnectThreshold {
					if err := pl.disc.ClosePeer(p); err != nil {
						pl.log.Debug("swap: disconnect debtor", "peer", p, "err", err)
					}
				}
			}
		}
	}()
}

// Stop ends the worker. Safe to call twice.
func (pl *Policy) Stop() {
	pl.once.Do(func() {
		close(pl.stop)
		if pl.started {
			<-pl.done
		}
	})
}

// DefaultDisconnectThreshold is 18/WAKU2-SWAP's (and nwaku's, go-waku's) disconnect threshold.
const DefaultDisconnectThreshold = -100
