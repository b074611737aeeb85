package storesync

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-msgio"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/storesync/pb"
)

func openRaw(t *testing.T, from host.Host, to *node, proto protocol.ID) network.Stream {
	t.Helper()
	testhost.Connect(t, from, to.h)
	st, err := from.NewStream(context.Background(), to.h.ID(), proto)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { _ = st.Reset() })
	return st
}

// waitReset reads until the victim resets the stream (an error other than a clean EOF).
func waitReset(t *testing.T, st network.Stream) {
	t.Helper()
	buf := make([]byte, 1024)
	for {
		_, err := st.Read(buf)
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			t.Fatal("stream closed cleanly, want a reset")
		}
		return
	}
}

func waitDropped(t *testing.T, n *node, reason string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n.ms.get("dropped_"+reason) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no %q drop; metrics %v", reason, n.ms.snapshot())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHostileReconciliationFrames(t *testing.T) {
	victim := newNode(t, Config{MaxFrame: 1 << 16, MaxRounds: 4}, msgs(t, 0, 300)...)
	t.Run("garbage", func(t *testing.T) {
		st := openRaw(t, testhost.New(t), victim, ReconciliationProtocol)
		_ = msgio.NewVarintWriter(st).WriteMsg([]byte{0x00, 0x00, 0x05, 0x00, 0x09, 0xaa})
		waitReset(t, st)
		waitDropped(t, victim, "decode")
	})
	t.Run("oversized", func(t *testing.T) {
		st := openRaw(t, testhost.New(t), victim, ReconciliationProtocol)
		_, _ = st.Write([]byte{0xff, 0xff, 0xff, 0x0f}) // declares 32 MiB
		waitReset(t, st)
		waitDropped(t, victim, "frame")
	})
	t.Run("endless ranges", func(t *testing.T) {
		st := openRaw(t, testhost.New(t), victim, ReconciliationProtocol)
		end := time.Now().UnixNano()
		bogus := &session{mu: &victim.s.mu, ix: &Index{}, pubsubTopics: []string{tpc}}
		frame := bogus.initial(end-hour, end)
		frame[len(frame)-1] ^= 1 // a fingerprint nobody matches
		w, r := msgio.NewVarintWriter(st), msgio.NewVarintReaderSize(st, 1<<20)
		for i := 0; ; i++ {
			if err := w.WriteMsg(frame); err != nil {
				break
			}
			if _, err := r.ReadMsg(); err != nil {
				break
			}
			if i > 10 {
				t.Fatal("victim keeps answering")
			}
		}
		waitDropped(t, victim, "rounds")
	})
}

func TestHostileSessionLimit(t *testing.T) {
	victim := newNode(t, Config{MaxSessions: 1})
	attacker := testhost.New(t)
	held := openRaw(t, attacker, victim, ReconciliationProtocol)
	_ = msgio.NewVarintWriter(held).WriteMsg([]byte{}) // opens the session, ends nothing
	// Hold the only slot with a second, silent stream, then try a third.
	deadline := time.Now().Add(10 * time.Second)
	for victim.ms.get("dropped_busy") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no session refused; metrics %v", victim.ms.snapshot())
		}
		st := openRaw(t, attacker, victim, ReconciliationProtocol)
		_, _ = st.Write([]byte{0x05}) // a frame header that never completes
		time.Sleep(20 * time.Millisecond)
	}
}

// transferFrame encodes a transfer payload.
func transferFrame(t *testing.T, e *message.Envelope) []byte {
	t.Helper()
	b, err := proto.Marshal(&pb.WakuMessageAndTopic{Pubsub: &e.PubsubTopic, Message: e.Raw})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openSession runs a real (empty) reconciliation from attacker to victim, which is what
// entitles a peer to push.
func openSession(t *testing.T, attacker host.Host, victim *node) {
	t.Helper()
	testhost.Connect(t, attacker, victim.h)
	s := New(attacker, openArchive(t), Config{PubsubTopics: []string{tpc}, Interval: -1}) // not started: Sync only
	if _, err := s.Sync(context.Background(), victim.h.ID()); err != nil {
		t.Fatal(err)
	}
}

func TestHostileTransfer(t *testing.T) {
	valid := msg(t, tpc, 1, time.Minute)
	cases := map[string]struct {
		bad    *message.Envelope
		reason string
	}{
		"out of window": {msg(t, tpc, 2, 3*time.Hour), "out_of_window"},
		"future":        {msg(t, tpc, 3, -time.Hour), "out_of_window"},
		"other shard":   {msg(t, "/waku/2/rs/1/7", 4, time.Minute), "out_of_scope"},
		"invalid": {func() *message.Envelope {
			e := msg(t, tpc, 5, time.Minute)
			e.Message.Payload = nil
			e, _ = message.NewEnvelope(tpc, e.Message, 0)
			return e
		}(), "invalid"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			victim := newNode(t, Config{})
			attacker := testhost.New(t)
			openSession(t, attacker, victim)
			st := openRaw(t, attacker, victim, TransferProtocol)
			w := msgio.NewVarintWriter(st)
			_ = w.WriteMsg(transferFrame(t, valid))
			_ = w.WriteMsg(transferFrame(t, tc.bad))
			_ = w.WriteMsg(transferFrame(t, msg(t, tpc, 9, time.Minute))) // after the cut-off
			waitReset(t, st)
			waitDropped(t, victim, tc.reason)
			if err := victim.a.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			waitCount(t, victim.a, 1)
		})
	}
	t.Run("no session", func(t *testing.T) {
		victim := newNode(t, Config{})
		st := openRaw(t, testhost.New(t), victim, TransferProtocol)
		_ = msgio.NewVarintWriter(st).WriteMsg(transferFrame(t, valid))
		waitReset(t, st)
		waitDropped(t, victim, "no_session")
		waitCount(t, victim.a, 0)
	})
	t.Run("garbage and oversized", func(t *testing.T) {
		victim := newNode(t, Config{})
		attacker := testhost.New(t)
		openSession(t, attacker, victim)
		st := openRaw(t, attacker, victim, TransferProtocol)
		_ = msgio.NewVarintWriter(st).WriteMsg([]byte{0x0a, 0xff})
		waitReset(t, st)
		waitDropped(t, victim, "decode")
		st = openRaw(t, attacker, victim, TransferProtocol)
		_ = msgio.NewVarintWriter(st).WriteMsg(make([]byte, MaxTransferFrame+1))
		waitReset(t, st)
		waitDropped(t, victim, "frame")
	})
}
