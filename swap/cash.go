package swap

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/accounting"
)

// PeerAddress is p's settlement address: from its handshake, else the one of its node key
// (the default settlement key), so cheques stay attributable after a disconnect or restart.
func (s *Swap) PeerAddress(p peer.ID) common.Address {
	if id, ok := s.Peer(p); ok {
		return id.Address
	}
	pk, err := p.ExtractPublicKey()
	if err != nil {
		return common.Address{}
	}
	raw, err := pk.Raw()
	if err != nil {
		return common.Address{}
	}
	pub, err := crypto.DecompressPubkey(raw)
	if err != nil {
		return common.Address{}
	}
	return crypto.PubkeyToAddress(*pub)
}

// Cash submits the latest cheque received from p to its chequebook (hard mode) and returns
// the transaction; the caller (operator, test) waits for it to be mined.
func (s *Swap) Cash(ctx context.Context, p peer.ID) (common.Hash, error) {
	if s.cfg.Mode != accounting.Hard {
		return common.Hash{}, errors.New("cashing cheques needs hard mode")
	}
	c, err := s.LatestCheque(ctx, s.PeerAddress(p))
	if err != nil {
		return common.Hash{}, fmt.Errorf("latest cheque of %s: %w", p, err)
	}
	return s.cash(ctx, c)
}

func (s *Swap) cash(ctx context.Context, c *Cheque) (common.Hash, error) {
	tx, err := s.cfg.Chain.Cash(ctx, c.Chequebook, c.Beneficiary, c.Cumulative, c.Signature)
	if err != nil {
		return common.Hash{}, err
	}
	return tx.Hash(), nil
}

// cashLoop cashes, every CashInterval, each payer's latest cheque that the chain has not paid
// out yet. Cheques are cumulative, so one transaction per payer collects all it sent since.
func (s *Swap) cashLoop() {
	defer s.wg.Done()
	ctx, cancel := s.stopContext(0)
	defer cancel()
	submitted := map[common.Address]uint64{} // issuer → cumulative already sent for cashing
	t := time.NewTicker(s.cfg.CashInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, acct := range s.ledger.Accounts() {
			issuer := s.PeerAddress(acct.Peer)
			c, err := s.LatestCheque(ctx, issuer)
			if err != nil || c.Cumulative <= submitted[issuer] {
				continue
			}
			paid, err := s.cfg.Chain.PaidOut(ctx, c.Chequebook, c.Beneficiary)
			if err != nil || c.Cumulative <= paid {
				continue
			}
			tx, err := s.cash(ctx, c)
			if err != nil {
				s.log.Warn("swap: cashing cheque failed", "peer", acct.Peer, "cumulative", c.Cumulative, "err", err)
				continue
			}
			submitted[issuer] = c.Cumulative
			s.log.Info("swap: cheque cashed", "peer", acct.Peer, "cumulative", c.Cumulative, "tx", tx)
		}
	}
}

// stopContext returns a context that Stop cancels, also bounded by timeout when positive;
// cancel must be called.
func (s *Swap) stopContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
	}
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
