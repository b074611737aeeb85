package storesync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-msgio"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/storesync/pb"
)

const (
	sendBatch    = 100
	dialTimeout  = 10 * time.Second
	writeTimeout = 30 * time.Second
)

type outgoing struct {
	peer peer.ID
	hash message.Hash
}

// sender pushes queued (peer, hash) pairs: it looks each message up in the archive and writes
// it on a transfer stream kept open per peer and reused across sessions, as nwaku does.
type sender struct {
	s     *Syncer
	queue chan outgoing

	mu      sync.Mutex
	streams map[peer.ID]network.Stream
}

func newSender(s *Syncer) *sender {
	return &sender{s: s, queue: make(chan outgoing, s.cfg.QueueSize), streams: map[peer.ID]network.Stream{}}
}

func (t *sender) enqueue(p peer.ID, h message.Hash) {
	select {
	case t.queue <- outgoing{p, h}:
	default:
		t.s.drop("queue_full", "store sync: transfer queue full, message not pushed", "peer", p, "limit", t.s.cfg.QueueSize)
	}
}

func (t *sender) run(ctx context.Context) {
	for {
		var first outgoing
		select {
		case <-ctx.Done():
			return
		case first = <-t.queue:
		}
		byPeer := map[peer.ID][]message.Hash{first.peer: {first.hash}}
	drain:
		for n := 1; n < sendBatch; n++ {
			select {
			case o := <-t.queue:
				byPeer[o.peer] = append(byPeer[o.peer], o.hash)
			default:
				break drain
			}
		}
		for p, hs := range byPeer {
			t.push(ctx, p, hs)
		}
	}
}

func (t *sender) push(ctx context.Context, p peer.ID, hs []message.Hash) {
	page, err := t.s.a.Query(ctx, archive.Query{Hashes: hs, IncludeData: true, Forward: true, Limit: len(hs)})
	if err != nil {
		t.s.log.Warn("store sync: archive lookup for transfer failed", "peer", p, "err", err)
		return
	}
	if missing := len(hs) - len(page.Entries); missing > 0 {
		t.s.log.Debug("store sync: messages to push are not in the archive", "peer", p, "missing", missing)
	}
	for _, e := range page.Entries {
		raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(e.Message)
		if err != nil {
			continue
		}
		frame, err := proto.Marshal(&pb.WakuMessageAndTopic{Pubsub: &e.PubsubTopic, Message: raw})
		if err != nil {
			continue
		}
		st, err := t.stream(ctx, p)
		if err != nil {
			t.s.log.Debug("store sync: transfer stream", "peer", p, "err", err)
			return
		}
		_ = st.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := msgio.NewVarintWriter(st).WriteMsg(frame); err != nil {
			t.forget(p, st)
			t.s.log.Debug("store sync: transfer write", "peer", p, "err", err)
			return
		}
		t.s.cfg.Metrics.Bytes("transfer", "sent", len(frame))
		t.s.cfg.Metrics.TransferMessage("sent")
	}
}

func (t *sender) stream(ctx context.Context, p peer.ID) (network.Stream, error) {
	t.mu.Lock()
	st := t.streams[p]
	t.mu.Unlock()
	if st != nil {
		return st, nil
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	st, err := t.s.h.NewStream(dctx, p, TransferProtocol)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.streams[p] = st
	t.mu.Unlock()
	return st, nil
}

func (t *sender) forget(p peer.ID, st network.Stream) {
	t.mu.Lock()
	if t.streams[p] == st {
		delete(t.streams, p)
	}
	t.mu.Unlock()
	resetStream(st)
}

// closeAll resets every kept stream (Stop).
func (t *sender) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for p, st := range t.streams {
		resetStream(st)
		delete(t.streams, p)
	}
}

// handleTransfer takes messages a peer pushes. Unlike nwaku, only a peer we reconciled with
// recently may push, at most MaxTransferCount messages per session, and every message must be
// in scope, inside the sync window and pass Validate: the first that fails cuts the peer off,
// so nothing invalid reaches the archive.
func (s *Syncer) handleTransfer(st network.Stream) {
	p := st.Conn().RemotePeer()
	if !s.recentSession(p) {
		s.drop("no_session", "store sync: transfer stream from a peer without a recent session, reset", "peer", p)
		resetStream(st)
		return
	}
	r := msgio.NewVarintReaderSize(st, MaxTransferFrame)
	for {
		// nwaku keeps its stream open across sessions; one idle past the grace is let go.
		_ = st.SetReadDeadline(time.Now().Add(s.cfg.TransferGrace))
		frame, err := r.ReadMsg()
		if err != nil {
			if errors.Is(err, io.EOF) {
				_ = st.Close()
				return
			}
			if errors.Is(err, msgio.ErrMsgTooLarge) {
				s.drop("frame", "store sync: oversized transfer frame, peer cut off", "peer", p, "limit", MaxTransferFrame)
			}
			resetStream(st)
			return
		}
		s.cfg.Metrics.Bytes("transfer", "receive", len(frame))
		env, reason, err := s.admit(p, frame)
		r.ReleaseMsg(frame)
		if err != nil {
			s.drop(reason, "store sync: transferred message refused, peer cut off", "peer", p, "err", err)
			resetStream(st)
			return
		}
		s.cfg.Metrics.TransferMessage("receive")
		if err := s.a.InsertHistorical(s.ctx, env); err != nil {
			s.drop("archive", "store sync: archive refused a transferred message", "peer", p, "err", err)
			if s.ctx.Err() != nil {
				resetStream(st)
				return
			}
			continue
		}
		s.lockIndex()
		s.insertLocked(ID{Time: env.Message.GetTimestamp(), Hash: env.Hash}, env.PubsubTopic, env.Message.GetContentTopic())
		s.mu.Unlock()
	}
}

// admit decodes and checks one transfer frame; on refusal it names the cause.
func (s *Syncer) admit(p peer.ID, frame []byte) (*message.Envelope, string, error) {
	if !s.allowTransfer(p) {
		return nil, "no_session", errors.New("no recent reconciliation session or per-session limit reached")
	}
	var m pb.WakuMessageAndTopic
	if err := proto.Unmarshal(frame, &m); err != nil {
		return nil, "decode", fmt.Errorf("transfer payload: %w", err)
	}
	if m.Pubsub == nil || m.Message == nil {
		return nil, "decode", errors.New("transfer payload lacks pubsub or message")
	}
	now := s.cfg.Now()
	// The frame buffer is reused: the envelope keeps its own copy of the message bytes.
	env, err := message.Decode(m.GetPubsub(), append([]byte(nil), m.Message...), now.UnixNano())
	if err != nil {
		return nil, "decode", err
	}
	if env.Message.GetEphemeral() {
		return nil, "ephemeral", errors.New("ephemeral message")
	}
	if !inScope(s.cfg.PubsubTopics, env.PubsubTopic) || !inScope(s.cfg.ContentTopics, env.Message.GetContentTopic()) {
		return nil, "out_of_scope", fmt.Errorf("topic %s / %s is not synced here", env.PubsubTopic, env.Message.GetContentTopic())
	}
	ts := env.Message.GetTimestamp()
	oldest := now.Add(-s.cfg.Range - s.cfg.RelayJitter - s.cfg.SessionTimeout).UnixNano()
	if ts < oldest || ts > now.Add(message.DefaultMaxTimeDrift).UnixNano() {
		return nil, "out_of_window", fmt.Errorf("timestamp %d outside the sync window", ts)
	}
	if s.cfg.Validate != nil {
		if err := s.cfg.Validate(env); err != nil {
			return nil, "invalid", err
		}
	}
	return env, "", nil
}

func inScope(scope []string, t string) bool {
	if len(scope) == 0 {
		return true
	}
	for _, s := range scope {
		if s == t {
			return true
		}
	}
	return false
}

// recentSession reports whether p is in a session or ended one within TransferGrace.
func (s *Syncer) recentSession(p peer.ID) bool {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	st := s.peers[p]
	return st != nil && (st.active > 0 || s.cfg.Now().Sub(st.lastEnd) <= s.cfg.TransferGrace)
}

// allowTransfer counts one message against p's session allowance.
func (s *Syncer) allowTransfer(p peer.ID) bool {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	st := s.peers[p]
	if st == nil || (st.active == 0 && s.cfg.Now().Sub(st.lastEnd) > s.cfg.TransferGrace) || st.accepted >= s.cfg.MaxTransferCount {
		return false
	}
	st.accepted++
	return true
}
