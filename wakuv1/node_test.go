package wakuv1

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rlp"
)

func rawValue(b []byte) rlp.RawValue { return rlp.RawValue(b) }

var (
	topicA = Topic{0xaa, 0, 0, 1}
	topicB = Topic{0xbb, 0, 0, 2}
	topicC = Topic{0xcc, 0, 0, 3}
)

func TestTwoNodesExchangeEnvelopes(t *testing.T) {
	a, b := startNode(t, nil), startNode(t, nil)
	subA, subB := a.Subscribe(16), b.Subscribe(16)
	connect(t, a, b)

	e := newEnvelope(t, topicA, "a to b", 50, 0.002)
	if err := a.Post(e); err != nil {
		t.Fatal(err)
	}
	got := receive(t, subB)
	if got.Hash() != e.Hash() || string(got.Data) != "a to b" || got.Topic != topicA {
		t.Fatalf("b got %+v", got)
	}
	if err := a.Post(e); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second post: %v", err)
	}
	back := newEnvelope(t, topicB, "b to a", 50, 0.002)
	if err := b.Post(back); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, subA); got.Hash() != back.Hash() {
		t.Fatalf("a got %x", got.Hash())
	}
	// a never receives its own envelope back from b (b knows a sent it).
	if dropped(a, DropDuplicate) != 0 {
		t.Fatalf("a got %v duplicates: b echoed", dropped(a, DropDuplicate))
	}
}

// Forwarding through a middle node: a → m → c.
func TestEnvelopeIsForwarded(t *testing.T) {
	a, m, c := startNode(t, nil), startNode(t, nil), startNode(t, nil)
	sub := c.Subscribe(4)
	connect(t, a, m)
	connect(t, m, c)
	e := newEnvelope(t, topicA, "two hops", 50, 0.002)
	if err := a.Post(e); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, sub); got.Hash() != e.Hash() {
		t.Fatal("wrong envelope")
	}
}

// An envelope below the remote's PoW requirement is never sent to it: the remote sees the
// later, sufficient envelope first, and counts no low-PoW drop.
func TestRemotePoWRequirementHonoured(t *testing.T) {
	a := startNode(t, func(c *Config) { c.MinPoW = 0 })
	b := startNode(t, func(c *Config) { c.MinPoW = 0.5 })
	sub := b.Subscribe(4)
	connect(t, a, b)

	weak := newEnvelope(t, topicA, "weak", 50, 0.01)
	for weak.PoW() >= 0.5 { // vanishingly unlikely; keep the test honest
		weak = newEnvelope(t, topicA, "weak"+weak.Topic.String(), 50, 0.01)
	}
	strong := newEnvelope(t, topicA, "strong", 50, 0.5)
	if err := a.Post(weak); err != nil {
		t.Fatal(err)
	}
	if err := a.Post(strong); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, sub); got.Hash() != strong.Hash() {
		t.Fatalf("b first got %q", got.Data)
	}
	if n := dropped(b, DropLowPoW); n != 0 {
		t.Fatalf("a sent %v low-PoW envelopes", n)
	}
}

// Topic interest and bloom: an envelope outside the remote's interest is not sent.
func TestRemoteTopicInterestAndBloomHonoured(t *testing.T) {
	a := startNode(t, nil)
	byTopic := startNode(t, func(c *Config) { c.Topics = []Topic{topicB} })
	subT := byTopic.Subscribe(4)
	connect(t, a, byTopic)

	// A raw peer that advertises a bloom with only topicB.
	bloom := BloomOf(topicB)
	pow := 0.0
	got := make(chan []byte, 4)
	bloomPeer := startRawPeer(t, func(p *p2p.Peer, rw p2p.MsgReadWriter) error {
		if _, err := statusExchange(rw, &StatusOptions{PoWRequirement: &pow, BloomFilter: &bloom}); err != nil {
			return err
		}
		for {
			msg, err := rw.ReadMsg()
			if err != nil {
				return err
			}
			if msg.Code == messagesCode {
				var envs []*Envelope
				if err := msg.Decode(&envs); err != nil {
					return err
				}
				for _, e := range envs {
					got <- e.Data
				}
			}
			msg.Discard()
		}
	})
	a.AddPeer(bloomPeer.srv.Self())
	waitFor(t, "bloom peer", func() bool { return len(a.Peers()) == 2 })

	for _, e := range []*Envelope{newEnvelope(t, topicA, "outside", 50, 0.002), newEnvelope(t, topicB, "inside", 50, 0.002)} {
		if err := a.Post(e); err != nil {
			t.Fatal(err)
		}
	}
	if e := receive(t, subT); string(e.Data) != "inside" {
		t.Fatalf("topic-interest peer first got %q", e.Data)
	}
	select {
	case d := <-got:
		if string(d) != "inside" {
			t.Fatalf("bloom peer first got %q", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bloom peer got nothing")
	}
	if n := dropped(byTopic, DropTopicMismatch); n != 0 {
		t.Fatalf("a sent %v envelopes outside the topic interest", n)
	}
}

// A Status Update (code 22) changes what the peer is sent.
func TestStatusUpdateWidensInterest(t *testing.T) {
	a := startNode(t, nil)
	b := startNode(t, func(c *Config) { c.Topics = []Topic{topicA} })
	sub := b.Subscribe(4)
	connect(t, a, b)
	if err := b.SetTopics([]Topic{topicA, topicC}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a learns b's new interest", func() bool {
		ps := a.Peers()
		return len(ps) == 1 && ps[0].Topics == 2
	})
	e := newEnvelope(t, topicC, "now wanted", 50, 0.002)
	if err := a.Post(e); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, sub); got.Hash() != e.Hash() {
		t.Fatal("wrong envelope")
	}
}

func TestPostRejectsInvalid(t *testing.T) {
	a := startNode(t, func(c *Config) { c.MaxEnvelopeSize = 1000; c.MinPoW = 1 })
	expired := &Envelope{Expiry: uint32(time.Now().Unix()) - 5, TTL: 10, Topic: topicA, Data: []byte("x")}
	future := &Envelope{Expiry: uint32(time.Now().Unix()) + 100, TTL: 10, Topic: topicA, Data: []byte("x")}
	big := newEnvelope(t, topicA, string(bytes.Repeat([]byte{1}, 1000)), 1, 1)
	zero := &Envelope{Expiry: uint32(time.Now().Unix()) + 10, TTL: 0, Topic: topicA, Data: []byte("x")}
	low := &Envelope{Expiry: uint32(time.Now().Unix()) + 10, TTL: 10, Topic: topicA, Data: []byte("x"), Nonce: 1}
	for low.PoW() >= 1 {
		low.Nonce++
		low.pow = 0
	}
	for name, e := range map[string]*Envelope{"expired": expired, "future": future, "too large": big, "ttl 0": zero, "low pow": low} {
		if err := a.Post(e); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Confirmations: a peer that advertises confirmations-enabled gets a Batch Ack with the
// Keccak-256 of the packet and a Message Response listing the rejected envelope.
func TestConfirmations(t *testing.T) {
	a := startNode(t, nil)
	good := newEnvelope(t, topicA, "good", 50, 0.002)
	expired := &Envelope{Expiry: uint32(time.Now().Unix()) - 100, TTL: 10, Topic: topicA, Data: []byte("old")}
	packet, _ := rlp.EncodeToBytes([]*Envelope{good, expired})
	type result struct {
		ack  [32]byte
		resp []byte
	}
	res := make(chan result, 1)
	yes := true
	rp := startRawPeer(t, func(p *p2p.Peer, rw p2p.MsgReadWriter) error {
		if _, err := statusExchange(rw, &StatusOptions{ConfirmationsEnabled: &yes}); err != nil {
			return err
		}
		if err := p2p.Send(rw, messagesCode, rawValue(packet)); err != nil {
			return err
		}
		var r result
		for r.resp == nil {
			msg, err := rw.ReadMsg()
			if err != nil {
				return err
			}
			switch msg.Code {
			case batchAckCode:
				if err := msg.Decode(&r.ack); err != nil {
					return err
				}
			case messageResponseCode:
				r.resp, _ = io.ReadAll(msg.Payload)
			}
			msg.Discard()
		}
		res <- r
		return waitClosed(rw)
	})
	a.AddPeer(rp.srv.Self())
	var r result
	select {
	case r = <-res:
	case <-time.After(10 * time.Second):
		t.Fatal("no confirmation")
	}
	if r.ack != crypto.Keccak256Hash(packet) {
		t.Fatalf("batch ack %x, want keccak of the packet", r.ack)
	}
	var resp struct {
		Version  uint
		Response struct {
			Hash   [32]byte
			Errors []envelopeError
		}
	}
	if err := rlp.DecodeBytes(r.resp, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Version != 1 || resp.Response.Hash != r.ack || len(resp.Response.Errors) != 1 ||
		resp.Response.Errors[0].Hash != expired.Hash() || resp.Response.Errors[0].Code != 1 {
		t.Fatalf("message response %+v", resp)
	}
}

// A peer that advertises a packet rate limit of 1/s is sent no second packet within a second
// of the first (a lower bound: a slow machine only widens the gap).
func TestRemotePacketRateLimitHonoured(t *testing.T) {
	a := startNode(t, nil)
	arrivals := make(chan time.Time, 4)
	rp := startRawPeer(t, func(p *p2p.Peer, rw p2p.MsgReadWriter) error {
		if _, err := statusExchange(rw, &StatusOptions{PacketRateLimits: &RateLimits{IP: 0, PeerID: 1}}); err != nil {
			return err
		}
		for {
			msg, err := rw.ReadMsg()
			if err != nil {
				return err
			}
			if msg.Code == messagesCode {
				arrivals <- time.Now()
			}
			msg.Discard()
		}
	})
	a.AddPeer(rp.srv.Self())
	waitFor(t, "raw peer", func() bool { return len(a.Peers()) == 1 })
	if err := a.Post(newEnvelope(t, topicA, "first", 50, 0.002)); err != nil {
		t.Fatal(err)
	}
	first := <-arrivals
	if err := a.Post(newEnvelope(t, topicA, "second", 50, 0.002)); err != nil {
		t.Fatal(err)
	}
	select {
	case second := <-arrivals:
		if gap := second.Sub(first); gap < 900*time.Millisecond {
			t.Fatalf("second packet %s after the first, above the advertised 1 packet/s", gap)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second envelope never sent")
	}
}
