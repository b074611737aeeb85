package storesync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"
)

// Result describes one finished reconciliation session.
type Result struct {
	Frames int // frames received
	ToSend int // IDs queued for the peer
	ToRecv int // IDs the peer holds and we lack (it pushes them)
	Bytes  int // reconciliation bytes sent and received
}

var errTooManyRounds = errors.New("store sync: too many rounds")

func (s *Syncer) newSession() *session {
	return &session{mu: indexLocker{s}, ix: &s.ix, pubsubTopics: s.cfg.PubsubTopics, contentTopics: s.cfg.ContentTopics,
		threshold: s.cfg.Threshold, partitions: s.cfg.Partitions, maxRanges: s.cfg.MaxRanges, replyBudget: s.cfg.MaxFrame / 2}
}

// Sync runs one reconciliation with p as the initiator over the window
// [now − jitter − range, now − jitter]. Differences are pushed both ways by transfer.
func (s *Syncer) Sync(ctx context.Context, p peer.ID) (Result, error) {
	if !s.beginSession(p) {
		return Result{}, errors.New("store sync: too many peers tracked")
	}
	defer s.endSession(p)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SessionTimeout)
	defer cancel()
	st, err := s.h.NewStream(ctx, p, ReconciliationProtocol)
	if err != nil {
		return Result{}, fmt.Errorf("store sync: open stream to %s: %w", p, err)
	}
	end := s.cfg.Now().Add(-s.cfg.RelayJitter).UnixNano()
	sess := s.newSession()
	res, err := s.converse(ctx, st, sess, sess.initial(end-int64(s.cfg.Range), end))
	if err != nil {
		return res, fmt.Errorf("store sync with %s: %w", p, err)
	}
	return res, nil
}

func (s *Syncer) handleReconciliation(st network.Stream) {
	p := st.Conn().RemotePeer()
	select {
	case s.sessions <- struct{}{}:
		defer func() { <-s.sessions }()
	default:
		s.drop("busy", "store sync: too many concurrent sessions, stream reset", "peer", p)
		resetStream(st)
		return
	}
	if !s.beginSession(p) {
		s.drop("busy", "store sync: too many peers tracked, stream reset", "peer", p)
		resetStream(st)
		return
	}
	defer s.endSession(p)
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.SessionTimeout)
	defer cancel()
	if _, err := s.converse(ctx, st, s.newSession(), nil); err != nil {
		s.log.Debug("store sync session ended with error", "peer", p, "err", err)
	}
}

// converse runs the common loop (store-sync.md §5.3) on st: send first (if any), then read,
// handle and answer until one side ends. Differences are queued for transfer as found.
func (s *Syncer) converse(ctx context.Context, st network.Stream, sess *session, first []byte) (Result, error) {
	p := st.Conn().RemotePeer()
	var res Result
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer stop()
	r := msgio.NewVarintReaderSize(st, s.cfg.MaxFrame)
	w := msgio.NewVarintWriter(st)
	write := func(b []byte) error {
		if err := w.WriteMsg(b); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		res.Bytes += len(b)
		s.cfg.Metrics.Bytes("reconciliation", "sent", len(b))
		return nil
	}
	fail := func(err error) (Result, error) {
		resetStream(st)
		return res, err
	}
	if first != nil {
		if err := write(first); err != nil {
			return fail(err)
		}
	}
	queued := 0
	for {
		frame, err := r.ReadMsg()
		if err != nil {
			if errors.Is(err, msgio.ErrMsgTooLarge) {
				s.drop("frame", "store sync: oversized reconciliation frame, stream reset", "peer", p, "limit", s.cfg.MaxFrame)
			}
			return fail(fmt.Errorf("read: %w", err))
		}
		res.Bytes += len(frame)
		s.cfg.Metrics.Bytes("reconciliation", "receive", len(frame))
		if sess.received >= s.cfg.MaxRounds {
			r.ReleaseMsg(frame)
			s.drop("rounds", "store sync: session exceeded the round limit, stream reset", "peer", p, "limit", s.cfg.MaxRounds)
			return fail(errTooManyRounds)
		}
		reply, done, err := sess.handle(frame)
		r.ReleaseMsg(frame)
		for _, id := range sess.diff.ToSend[queued:] {
			s.send.enqueue(p, id.Hash)
		}
		queued = len(sess.diff.ToSend)
		res.Frames, res.ToSend, res.ToRecv = sess.received, len(sess.diff.ToSend), len(sess.diff.ToRecv)
		if err != nil {
			s.drop("decode", "store sync: undecodable reconciliation payload, stream reset", "peer", p, "err", err)
			return fail(err)
		}
		if reply != nil {
			if err := write(reply); err != nil {
				return fail(err)
			}
		}
		if done {
			break
		}
	}
	s.cfg.Metrics.Roundtrips(res.Frames)
	s.cfg.Metrics.Differences(res.ToSend + res.ToRecv)
	_ = st.SetDeadline(time.Now().Add(5 * time.Second))
	_ = st.Close()
	return res, nil
}
