package swap

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/accounting"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/swap/pb"
)

const (
	dirSent     = "sent"
	dirReceived = "received"
)

// exchange writes req on a new stream to p and reads one response (rpc.Request over the
// narrower Host interface).
func (s *Swap) exchange(ctx context.Context, p peer.ID, req, resp proto.Message, id protocol.ID) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	st, err := s.h.NewStream(ctx, p, id)
	if err != nil {
		return fmt.Errorf("open %s stream to %s: %w", id, p, err)
	}
	defer st.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	if err := rpc.Write(st, req); err != nil {
		_ = st.Reset()
		return err
	}
	if err := st.CloseWrite(); err != nil {
		_ = st.Reset()
		return fmt.Errorf("close write %s: %w", id, err)
	}
	if err := rpc.Read(st, MaxMessageSize, resp); err != nil {
		_ = st.Reset()
		return err
	}
	return nil
}

// remember stores a verified identity, bounded by MaxPeers: when full, an arbitrary other
// entry is evicted (a handshake is cheap to redo, and a full table must not lock peers out).
func (s *Swap) remember(p peer.ID, id Identity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.peers[p]; !ok && len(s.peers) >= s.cfg.MaxPeers {
		for old := range s.peers {
			delete(s.peers, old)
			break
		}
	}
	s.peers[p] = id
	return nil
}

// Peer returns the identity p's handshake established.
func (s *Swap) Peer(p peer.ID) (Identity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.peers[p]
	return id, ok
}

// Forget drops p's handshake (call on disconnect; the ledger keeps its balance).
func (s *Swap) Forget(p peer.ID) {
	s.mu.Lock()
	delete(s.peers, p)
	s.mu.Unlock()
}

// Handshake exchanges settlement addresses with p (once per connection lifetime).
func (s *Swap) Handshake(ctx context.Context, p peer.ID) (Identity, error) {
	if id, ok := s.Peer(p); ok {
		return id, nil
	}
	ours, err := makeHandshake(s.h.ID(), s.cfg.Key, s.cfg.Chequebook)
	if err != nil {
		return Identity{}, err
	}
	var theirs pb.Handshake
	if err := s.exchange(ctx, p, ours, &theirs, HandshakeProtocolID); err != nil {
		s.m.SwapError("dial_failure")
		return Identity{}, fmt.Errorf("swap handshake with %s: %w", p, err)
	}
	id, err := verifyHandshake(p, &theirs)
	if err != nil {
		s.m.SwapError("decode_rpc_failure")
		return Identity{}, fmt.Errorf("swap handshake from %s: %w", p, err)
	}
	return id, s.remember(p, id)
}

func (s *Swap) handleHandshake(st network.Stream) {
	sv := rpc.Server[pb.Handshake, *pb.Handshake]{
		MaxRequest: MaxMessageSize, Timeout: s.cfg.Timeout, Logger: s.log,
		Refuse: s.refused,
		Handle: func(_ context.Context, from peer.ID, theirs *pb.Handshake) proto.Message {
			id, err := verifyHandshake(from, theirs)
			if err != nil {
				s.log.Debug("swap: bad handshake", "peer", from, "err", err)
				s.m.SwapError("decode_rpc_failure")
				return nil
			}
			if err := s.remember(from, id); err != nil {
				s.log.Debug("swap: handshake refused", "peer", from, "err", err)
				return nil
			}
			ours, err := makeHandshake(s.h.ID(), s.cfg.Key, s.cfg.Chequebook)
			if err != nil {
				return nil
			}
			return ours
		},
	}
	sv.ServeStream(st)
}

// refused counts a request that never reached a handler (undecodable, oversized); the
// protocol has no status field, so the stream closes without an answer.
func (s *Swap) refused(uint32, string) proto.Message {
	s.m.SwapError("decode_rpc_failure")
	return nil
}

// lastPaid is the highest cumulative amount beneficiary acknowledged from us.
func (s *Swap) lastPaid(ctx context.Context, beneficiary common.Address) (uint64, error) {
	s.mu.Lock()
	v, ok := s.paid[beneficiary]
	s.mu.Unlock()
	if ok || s.cfg.Store == nil {
		return v, nil
	}
	cum, _, err := s.cfg.Store.LastCheque(ctx, dirSent, beneficiary.Bytes())
	if err != nil && !errors.Is(err, accounting.ErrNoCheque) {
		return 0, err
	}
	s.mu.Lock()
	s.paid[beneficiary] = max(s.paid[beneficiary], cum)
	v = s.paid[beneficiary]
	s.mu.Unlock()
	return v, nil
}

// Pay sends p a cumulative cheque for everything we owe it and, once p accepts, moves our
// ledger back to zero. It returns the units paid.
func (s *Swap) Pay(ctx context.Context, p peer.ID) (int64, error) {
	if s.cfg.Mode == accounting.Soft {
		return 0, errors.New("swap: soft mode sends no cheques")
	}
	if s.cfg.Mode == accounting.Hard && s.cfg.Chequebook == (common.Address{}) {
		return 0, errors.New("swap: hard mode pays from a chequebook and none is configured")
	}
	s.payMu.Lock()
	defer s.payMu.Unlock()
	id, err := s.Handshake(ctx, p)
	if err != nil {
		return 0, err
	}
	owed := -s.ledger.Balance(p)
	if owed <= 0 {
		return 0, nil
	}
	acked, err := s.lastPaid(ctx, id.Address)
	if err != nil {
		return 0, err
	}
	c, err := IssueCheque(s.cfg.Key, s.chain, s.cfg.Chequebook, id.Address, acked+uint64(owed), uint32(s.cfg.Now().Unix()))
	if err != nil {
		return 0, err
	}
	var resp pb.ChequeResponse
	err = s.exchange(ctx, p, c.Proto(), &resp, ProtocolID)
	switch {
	case errors.Is(err, io.EOF):
		// An nwaku peer closes without answering: take its silence as acceptance (nwaku's
		// stateUpdateOverRide); if it disagrees it will stop serving us.
		resp = pb.ChequeResponse{Accepted: true, Cumulative: c.Cumulative}
	case err != nil:
		s.m.SwapError("dial_failure")
		return 0, fmt.Errorf("send cheque to %s: %w", p, err)
	}
	// The payee's answer says how much of what we signed it now holds (this cheque, or an
	// earlier one whose answer was lost). Whatever it holds beyond what we had recorded is
	// paid: settle exactly that. Never believe more than we signed.
	held := resp.GetCumulative()
	if resp.GetAccepted() {
		held = c.Cumulative
	}
	held = min(held, c.Cumulative)
	var settled int64
	if held > acked {
		settled = int64(held - acked)
		if s.cfg.Store != nil {
			b, _ := proto.Marshal(c.Proto())
			if err := s.cfg.Store.SaveCheque(ctx, dirSent, id.Address.Bytes(), held, b); err != nil {
				s.log.Warn("swap: cheque sent but not persisted", "peer", p, "err", err)
			}
		}
		s.mu.Lock()
		s.paid[id.Address] = max(s.paid[id.Address], held)
		s.mu.Unlock()
		if err := s.ledger.Settle(p, -settled); err != nil {
			return 0, err
		}
	}
	if !resp.GetAccepted() {
		s.m.Cheque(dirSent, "refused")
		return settled, fmt.Errorf("cheque for %d units refused by %s: %s", c.Cumulative, p, resp.GetReason())
	}
	s.m.Cheque(dirSent, "accepted")
	return settled, nil
}

func (s *Swap) handleCheque(st network.Stream) {
	sv := rpc.Server[pb.Cheque, *pb.Cheque]{
		MaxRequest: MaxMessageSize, Timeout: s.cfg.Timeout, Logger: s.log,
		Refuse: s.refused,
		Handle: func(ctx context.Context, from peer.ID, m *pb.Cheque) proto.Message {
			return s.Receive(ctx, from, m)
		},
	}
	sv.ServeStream(st)
}

// Receive verifies a cheque from p and, if it pays for service our ledger recorded, settles
// it. It is the one door cheques enter by (stream handler and tests).
func (s *Swap) Receive(ctx context.Context, p peer.ID, m *pb.Cheque) *pb.ChequeResponse {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	cum, reason := s.receive(ctx, p, m)
	resp := &pb.ChequeResponse{Accepted: reason == "", Reason: string(reason), Cumulative: cum}
	if reason == "" {
		s.m.Cheque(dirReceived, "accepted")
		return resp
	}
	s.m.Cheque(dirReceived, string(reason))
	s.log.Info("swap: cheque refused", "peer", p, "reason", reason)
	switch reason { // a replay is worthless but may be an honest retry after a lost answer: not held against the peer
	case ReasonSignature, ReasonExceedsLedger, ReasonBounced, ReasonBeneficiary, ReasonChequebook:
		if s.obs != nil {
			s.obs.ChequeRefused(p, reason)
		}
	}
	return resp
}

// receive returns the issuer's highest accepted cumulative amount and "" or a refusal reason.
func (s *Swap) receive(ctx context.Context, p peer.ID, m *pb.Cheque) (uint64, Reason) {
	id, ok := s.Peer(p)
	if !ok {
		return 0, ReasonNoHandshake
	}
	c, err := ChequeFromProto(m)
	if err != nil {
		return 0, ReasonMalformed
	}
	if c.Beneficiary != s.self {
		return 0, ReasonBeneficiary
	}
	if c.Chequebook != id.Chequebook {
		return 0, ReasonChequebook
	}
	if issuer, err := c.Issuer(s.chain); err != nil || issuer != id.Address {
		return 0, ReasonSignature
	}
	last, err := s.lastReceived(ctx, id.Address)
	if err != nil {
		return 0, ReasonInternal
	}
	if c.Cumulative <= last {
		return last, ReasonReplayed
	}
	delta := int64(c.Cumulative - last)
	if owed := s.ledger.Balance(p); delta > owed+s.cfg.OverpayTolerance {
		return last, ReasonExceedsLedger
	}
	if s.cfg.Mode == accounting.Hard {
		ok, err := s.cfg.Chain.Solvent(ctx, c.Chequebook, s.self, c.Cumulative)
		if err != nil {
			return last, ReasonInternal
		}
		if !ok {
			return last, ReasonBounced
		}
	}
	if s.cfg.Store != nil {
		b, _ := proto.Marshal(m)
		if err := s.cfg.Store.SaveCheque(ctx, dirReceived, id.Address.Bytes(), c.Cumulative, b); err != nil {
			s.log.Warn("swap: cannot persist cheque", "peer", p, "err", err)
			return last, ReasonInternal
		}
	}
	s.mu.Lock()
	s.received[id.Address] = c
	s.mu.Unlock()
	if err := s.ledger.Settle(p, delta); err != nil {
		return last, ReasonInternal
	}
	if s.obs != nil {
		s.obs.ChequeHonoured(p, delta)
	}
	return c.Cumulative, ""
}

// lastReceived is the highest cumulative amount accepted from issuer.
func (s *Swap) lastReceived(ctx context.Context, issuer common.Address) (uint64, error) {
	s.mu.Lock()
	c, ok := s.received[issuer]
	s.mu.Unlock()
	if ok {
		return c.Cumulative, nil
	}
	if s.cfg.Store == nil {
		return 0, nil
	}
	_, c, err := s.storedCheque(ctx, dirReceived, issuer)
	if errors.Is(err, accounting.ErrNoCheque) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.received[issuer] = c
	s.mu.Unlock()
	return c.Cumulative, nil
}

// LatestCheque returns the latest cheque accepted from issuer: the only one worth cashing.
func (s *Swap) LatestCheque(ctx context.Context, issuer common.Address) (*Cheque, error) {
	if _, err := s.lastReceived(ctx, issuer); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.received[issuer]
	if !ok {
		return nil, accounting.ErrNoCheque
	}
	return c, nil
}

// LastSent returns the latest cheque we signed for beneficiary and the cumulative amount it
// acknowledged (which may be less); accounting.ErrNoCheque when there is none or no Store.
func (s *Swap) LastSent(ctx context.Context, beneficiary common.Address) (acknowledged uint64, c *Cheque, err error) {
	if s.cfg.Store == nil {
		return 0, nil, accounting.ErrNoCheque
	}
	return s.storedCheque(ctx, dirSent, beneficiary)
}

// storedCheque reads and decodes the cheque Store keeps for counterparty in direction dir.
func (s *Swap) storedCheque(ctx context.Context, dir string, counterparty common.Address) (uint64, *Cheque, error) {
	cum, b, err := s.cfg.Store.LastCheque(ctx, dir, counterparty.Bytes())
	if err != nil {
		return 0, nil, err
	}
	var m pb.Cheque
	if err := proto.Unmarshal(b, &m); err != nil {
		return 0, nil, fmt.Errorf("stored cheque of %s: %w", counterparty, err)
	}
	c, err := ChequeFromProto(&m)
	if err != nil {
		return 0, nil, fmt.Errorf("stored cheque of %s: %w", counterparty, err)
	}
	return cum, c, nil
}
