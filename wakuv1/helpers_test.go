package wakuv1

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startNode runs a v1 node on 127.0.0.1 with an OS-chosen port.
func startNode(t *testing.T, mod func(*Config)) *Node {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.MinPoW = 0.002
	cfg.TransmissionCycle = 50 * time.Millisecond
	cfg.Logger = quietLogger()
	if mod != nil {
		mod(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

// connect dials b from a and waits until both finished the status handshake.
func connect(t *testing.T, a, b *Node) {
	t.Helper()
	a.AddPeer(b.Self())
	waitFor(t, "v1 handshake", func() bool { return hasPeer(a, b) && hasPeer(b, a) })
}

func hasPeer(a, b *Node) bool {
	for _, p := range a.Peers() {
		if p.ID == b.Self().ID().String() {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newEnvelope seals an envelope with topic and data to at least pow (0: nonce 0).
func newEnvelope(t testing.TB, topic Topic, data string, ttl uint32, pow float64) *Envelope {
	t.Helper()
	e := &Envelope{Expiry: uint32(time.Now().Unix()) + ttl, TTL: ttl, Topic: topic, Data: []byte(data)}
	if err := e.Seal(context.Background(), pow); err != nil {
		t.Fatal(err)
	}
	return e
}

// receive returns the next envelope from s.
func receive(t *testing.T, s *Subscription) *Envelope {
	t.Helper()
	select {
	case e := <-s.C:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no envelope received")
		return nil
	}
}

func dropped(n *Node, cause string) float64 {
	return testutil.ToFloat64(n.metrics.dropped.WithLabelValues(cause))
}

func disconnects(n *Node, reason string) float64 {
	return testutil.ToFloat64(n.metrics.disconnects.WithLabelValues(reason))
}

// rawPeer is a hand-driven devp2p peer speaking waku/1: the test's run function gets the
// connection after the RLPx handshake and does what it likes (misbehave, check replies).
type rawPeer struct {
	srv  *p2p.Server
	done chan error // the run function's result
}

func startRawPeer(t *testing.T, run func(p *p2p.Peer, rw p2p.MsgReadWriter) error) *rawPeer {
	t.Helper()
	key, _ := crypto.GenerateKey()
	r := &rawPeer{done: make(chan error, 4)}
	r.srv = &p2p.Server{Config: p2p.Config{
		PrivateKey: key, MaxPeers: 5, NoDiscovery: true, ListenAddr: "127.0.0.1:0", Name: "raw",
		Protocols: []p2p.Protocol{{Name: ProtocolName, Version: ProtocolVersion, Length: NumberOfCodes,
			Run: func(p *p2p.Peer, rw p2p.MsgReadWriter) error {
				err := run(p, rw)
				r.done <- err
				return err
			}}},
	}}
	if err := r.srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.srv.Stop)
	return r
}

// statusExchange plays our half of the handshake as a plain peer with the given options.
func statusExchange(rw p2p.MsgReadWriter, o *StatusOptions) (*StatusOptions, error) {
	raw, _ := o.EncodeRLP()
	errc := make(chan error, 1)
	go func() { errc <- p2p.Send(rw, statusCode, rawValue(raw)) }()
	msg, err := rw.ReadMsg()
	if err != nil {
		return nil, err
	}
	defer msg.Discard()
	payload, err := io.ReadAll(msg.Payload)
	if err != nil {
		return nil, err
	}
	if err := <-errc; err != nil {
		return nil, err
	}
	return DecodeStatusOptions(payload)
}

// waitClosed reads until the connection ends (the node disconnected us) and returns the
// read error.
func waitClosed(rw p2p.MsgReadWriter) error {
	for {
		msg, err := rw.ReadMsg()
		if err != nil {
			return err
		}
		msg.Discard()
	}
}
