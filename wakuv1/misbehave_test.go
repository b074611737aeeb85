package wakuv1

import (
	"bytes"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rlp"
)

// Each misbehaving peer is disconnected and counted; a well-behaved peer connected to the same
// node keeps exchanging envelopes throughout.
func TestMisbehavingPeersAreDropped(t *testing.T) {
	target := startNode(t, func(c *Config) {
		c.MaxEnvelopeSize = 4096
		c.MaxPacketSize = 64 << 10
		c.PeerEnvelopeRate = 50
	})
	good := startNode(t, nil)
	// Room for everything the flood gets through (2 × 50) and more: a full subscription drops,
	// and under load the test read the flood only after "still fine" had been dropped behind it.
	goodSub := good.Subscribe(1024)
	connect(t, good, target)

	now := uint32(time.Now().Unix())
	hugeEnv, _ := rlp.EncodeToBytes([]*Envelope{{Expiry: now + 10, TTL: 10, Topic: topicA, Data: bytes.Repeat([]byte{1}, 5000)}})
	var flood []*Envelope
	for i := 0; i < 200; i++ { // 200 envelopes in one packet: above the burst of 2 × 50
		flood = append(flood, &Envelope{Expiry: now + 10, TTL: 10, Topic: topicA, Data: []byte{byte(i), byte(i >> 8)}})
	}
	floodPkt, _ := rlp.EncodeToBytes(flood)

	for i, tc := range []struct {
		name, reason string
		code         uint64
		payload      []byte
		skipStatus   bool
	}{
		{"garbage RLP", "bad_rlp", messagesCode, []byte{0xff, 0x01, 0x02}, false},
		{"envelope that is not an envelope", "bad_rlp", messagesCode, []byte{0xc3, 0xc2, 0x01, 0x02}, false},
		{"huge envelope", "envelope_too_large", messagesCode, hugeEnv, false},
		{"huge packet", "packet_too_large", messagesCode, mustRLP(t, [][]byte{make([]byte, 70<<10)}), false},
		{"flood", "rate_limited", messagesCode, floodPkt, false},
		{"bad status update", "bad_status", statusUpdateCode, mustRLP(t, []any{[]any{uint64(0), uint64(0x7ff8000000000001)}}), false},
		{"messages before status", "", messagesCode, floodPkt[:0], true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := disconnects(target, tc.reason)
			rp := startRawPeer(t, func(p *p2p.Peer, rw p2p.MsgReadWriter) error {
				if !tc.skipStatus {
					if _, err := statusExchange(rw, &StatusOptions{}); err != nil {
						return err
					}
				}
				payload := tc.payload
				if tc.skipStatus {
					payload, _ = rlp.EncodeToBytes([]*Envelope{})
				}
				if err := p2p.Send(rw, tc.code, rawValue(payload)); err != nil {
					return err
				}
				return waitClosed(rw)
			})
			target.AddPeer(rp.srv.Self())
			select {
			case <-rp.done: // the target closed the connection
			case <-time.After(10 * time.Second):
				t.Fatal("misbehaving peer was not disconnected")
			}
			if tc.reason != "" {
				waitFor(t, "disconnect counted", func() bool { return disconnects(target, tc.reason) > before })
			}
			target.srv.RemovePeer(rp.srv.Self()) // no redial of the static peer
			// The good peer is unaffected: an envelope still crosses.
			e := newEnvelope(t, topicB, "still fine "+string(rune('a'+i)), 50, 0.002)
			if err := target.Post(e); err != nil {
				t.Fatal(err)
			}
			for got := receive(t, goodSub); got.Hash() != e.Hash(); got = receive(t, goodSub) {
				if got.Topic != topicA { // the flood's accepted part is forwarded too
					t.Fatalf("unexpected envelope %q", got.Data)
				}
			}
		})
	}
	if !hasPeer(target, good) {
		t.Fatal("the good peer was disconnected")
	}
	// Undecodable and oversize envelopes never reached the pool or subscribers.
	if n, _ := target.pool.size(); n > len(flood)+8 {
		t.Fatalf("pool holds %d envelopes", n)
	}
}
