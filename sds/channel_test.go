package sds

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"
)

// net is an in-memory carrier: every publish gets a hash, lands in a store and reaches the
// other participants unless dropped.
type net struct {
	mu      sync.Mutex
	store   map[string][]byte
	members []*Channel
	drop    func(payload []byte) bool
}

func (n *net) publish(from **Channel) func(context.Context, []byte) ([]byte, error) {
	return func(_ context.Context, payload []byte) ([]byte, error) {
		h := sha256.Sum256(append([]byte("waku"), payload...))
		n.mu.Lock()
		n.store[string(h[:])] = payload
		members, drop := n.members, n.drop != nil && n.drop(payload)
		n.mu.Unlock()
		if !drop {
			for _, m := range members {
				if m != *from {
					_ = m.Receive(payload, h[:])
				}
			}
		}
		return h[:], nil
	}
}

func (n *net) query(_ context.Context, hashes [][]byte) ([]Retrieved, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []Retrieved
	for _, h := range hashes {
		if p, ok := n.store[string(h)]; ok {
			out = append(out, Retrieved{Payload: p, Hash: h})
		}
	}
	return out, nil
}

type recorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recorder) on(e Event) { r.mu.Lock(); r.evs = append(r.evs, e); r.mu.Unlock() }

func (r *recorder) kinds(k EventKind) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, e := range r.evs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func participant(n *net, id string, cfg Config) (*Channel, *recorder) {
	rec := &recorder{}
	var c *Channel
	cfg.ChannelID, cfg.SenderID, cfg.Publish, cfg.Query, cfg.OnEvent = "chan", id, n.publish(&c), n.query, rec.on
	c = NewChannel(cfg)
	n.members = append(n.members, c)
	return c, rec
}

func TestMissingDetectedAndRetrieved(t *testing.T) {
	n := &net{store: map[string][]byte{}}
	alice, _ := participant(n, "alice", Config{})
	bob, bobEv := participant(n, "bob", Config{})
	ctx := context.Background()
	n.drop = func(p []byte) bool { return bytes.Contains(p, []byte("two")) }
	for _, s := range []string{"one", "two", "three"} {
		if _, err := alice.Send(ctx, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	missing := bobEv.kinds(Missing)
	if len(missing) != 1 || missing[0].MessageID != MessageID([]byte("three")) || len(missing[0].Entries) != 1 ||
		missing[0].Entries[0].GetMessageId() != MessageID([]byte("two")) || len(missing[0].Entries[0].GetRetrievalHint()) != 32 {
		t.Fatalf("missing events %+v", missing)
	}
	if got := len(bobEv.kinds(Delivered)); got != 1 {
		t.Fatalf("delivered %d before retrieval", got)
	}
	if got, err := bob.RetrieveMissing(ctx); err != nil || got != 1 {
		t.Fatalf("retrieved %d, %v", got, err)
	}
	var order []string
	for _, e := range bobEv.kinds(Delivered) {
		order = append(order, string(e.Content))
	}
	if fmt.Sprint(order) != "[one two three]" {
		t.Fatalf("delivery order %v", order)
	}
	if left := bob.Sweep(); len(left) != 0 {
		t.Fatalf("still missing %v", left)
	}
}

func TestAcknowledgements(t *testing.T) {
	n := &net{store: map[string][]byte{}}
	alice, aliceEv := participant(n, "alice", Config{})
	bob, _ := participant(n, "bob", Config{CausalHistorySize: 1})
	ctx := context.Background()
	a1, _ := alice.Send(ctx, []byte("a1"))
	a2, _ := alice.Send(ctx, []byte("a2"))
	if len(alice.Unacknowledged()) != 2 {
		t.Fatal("outgoing buffer")
	}
	// Bob's history holds a1, a2; with a causal history of 1 only a2 is acked for sure, a1
	// is a bloom-filter positive (1 of 2).
	if err := bob.SendSync(ctx); err != nil {
		t.Fatal(err)
	}
	acked := aliceEv.kinds(Acknowledged)
	possibly := aliceEv.kinds(PossiblyAcknowledged)
	if len(acked) != 1 || acked[0].MessageID != a2 || len(possibly) != 1 || possibly[0].MessageID != a1 || possibly[0].Count != 1 {
		t.Fatalf("acked %+v possibly %+v", acked, possibly)
	}
	if err := bob.SendSync(ctx); err != nil {
		t.Fatal(err)
	}
	if acked := aliceEv.kinds(Acknowledged); len(acked) != 2 || acked[1].MessageID != a1 || len(alice.Unacknowledged()) != 0 {
		t.Fatalf("after the second filter: %+v", acked)
	}
}

func TestLamportAndRetry(t *testing.T) {
	now := time.UnixMilli(1_000)
	var published [][]byte
	c := NewChannel(Config{ChannelID: "c", SenderID: "me", Now: func() time.Time { return now },
		Publish: func(_ context.Context, p []byte) ([]byte, error) { published = append(published, p); return nil, nil }})
	ctx := context.Background()
	c.Send(ctx, []byte("x"))
	c.Send(ctx, []byte("x")) // unacknowledged: the same bytes again
	if len(published) != 2 || !bytes.Equal(published[0], published[1]) {
		t.Fatal("retry changed the message")
	}
	m, _ := Decode(published[0])
	if m.GetLamportTimestamp() != 1_001 || c.lamport != 1_002 {
		t.Fatalf("lamport %d, clock %d", m.GetLamportTimestamp(), c.lamport)
	}
	// Delivery of a message from the future pulls the clock forward.
	l := uint64(5_000)
	raw, _ := Encode(&Message{SenderId: "other", MessageId: "id", ChannelId: "c", LamportTimestamp: &l, Content: []byte("y")})
	if err := c.Receive(raw, nil); err != nil || c.lamport != 5_000 {
		t.Fatalf("clock %d after delivery: %v", c.lamport, err)
	}
	// Other channels and our own echoes are ignored.
	raw, _ = Encode(&Message{SenderId: "other", MessageId: "id2", ChannelId: "elsewhere", LamportTimestamp: &l, Content: []byte("z")})
	c.Receive(raw, nil)
	if len(c.history) != 2 {
		t.Fatalf("history %d", len(c.history))
	}
}

func TestIncomingBufferBounded(t *testing.T) {
	var dropped int
	c := NewChannel(Config{ChannelID: "c", SenderID: "me", MaxIncoming: 3, OnEvent: func(e Event) {
		if e.Kind == Dropped {
			dropped++
		}
	}})
	l := uint64(1)
	for i := range 5 {
		raw, _ := Encode(&Message{SenderId: "o", MessageId: fmt.Sprint(i), ChannelId: "c", LamportTimestamp: &l,
			CausalHistory: []*HistoryEntry{{MessageId: "never"}}, Content: []byte{byte(i + 1)}})
		c.Receive(raw, nil)
	}
	if len(c.incoming) != 3 || dropped != 2 {
		t.Fatalf("buffered %d, dropped %d", len(c.incoming), dropped)
	}
}
