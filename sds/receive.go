package sds

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/wakunode/wakunode/sds/pb"
)

// Receive processes one received WakuMessage payload; hash is that WakuMessage's
// deterministic hash (the retrieval hint others may ask stores for). Payloads of other
// channels, our own echoes and duplicates are ignored.
func (c *Channel) Receive(payload, hash []byte) error {
	m, err := Decode(payload)
	if err != nil {
		return err
	}
	class := ClassOf(m)
	if m.GetChannelId() != c.cfg.ChannelID || m.GetSenderId() == c.cfg.SenderID {
		return nil
	}
	if class == Ephemeral {
		c.emit([]Event{{Kind: Delivered, MessageID: m.GetMessageId(), SenderID: m.GetSenderId(), Content: m.GetContent()}})
		return nil
	}
	var evs []Event
	defer func() { c.emit(evs) }()
	c.mu.Lock()
	defer c.mu.Unlock()
	id := m.GetMessageId()
	if class == Content && (c.inHistory[id] || c.incoming[id] != nil) {
		return nil
	}
	if err := c.reviewAcks(m, &evs); err != nil {
		return err
	}
	if class == Content {
		c.bloom.Add(id)
	}
	if missing := c.missing(m); len(missing) > 0 {
		if len(c.incoming) >= c.cfg.MaxIncoming {
			evs = append(evs, Event{Kind: Dropped, MessageID: id, SenderID: m.GetSenderId()})
			return nil
		}
		c.incoming[id] = &buffered{m: m, hint: hash}
		c.inOrder = append(c.inOrder, id)
		evs = append(evs, Event{Kind: Missing, MessageID: id, Entries: missing})
		return nil
	}
	if class == Content {
		c.deliver(m, hash, &evs)
		c.drain(&evs)
	}
	return nil
}

// reviewAcks applies causal-history acks (definite) and bloom-filter acks (after
// PossibleAcksThreshold positives) to our unacknowledged messages (sds.md §6.3).
func (c *Channel) reviewAcks(m *pb.SdsMessage, evs *[]Event) error {
	acked := map[string]bool{}
	for _, h := range m.GetCausalHistory() {
		acked[h.GetMessageId()] = true
	}
	var f *Bloom
	if m.BloomFilter != nil {
		var err error
		if f, err = BloomFromBytes(m.BloomFilter); err != nil {
			return err // js throws here: the whole message is lost
		}
	}
	kept := c.outgoing[:0]
	for _, o := range c.outgoing {
		switch {
		case acked[o.id]:
			*evs = append(*evs, Event{Kind: Acknowledged, MessageID: o.id})
			delete(c.possibleAcks, o.id)
			continue
		case f != nil && f.Test(o.id):
			c.possibleAcks[o.id]++
			if n := c.possibleAcks[o.id]; n >= c.cfg.PossibleAcksThreshold {
				*evs = append(*evs, Event{Kind: Acknowledged, MessageID: o.id})
				delete(c.possibleAcks, o.id)
				continue
			} else {
				*evs = append(*evs, Event{Kind: PossiblyAcknowledged, MessageID: o.id, Count: n})
			}
		}
		kept = append(kept, o)
	}
	clear(c.outgoing[len(kept):])
	c.outgoing = kept
	return nil
}

// missing lists m's causal dependencies that are neither delivered nor buffered.
func (c *Channel) missing(m *pb.SdsMessage) []*pb.HistoryEntry {
	var out []*pb.HistoryEntry
	for _, h := range m.GetCausalHistory() {
		if !c.inHistory[h.GetMessageId()] && c.incoming[h.GetMessageId()] == nil {
			out = append(out, h)
		}
	}
	return out
}

func (c *Channel) deliver(m *pb.SdsMessage, hint []byte, evs *[]Event) {
	c.lamport = max(c.lamport, m.GetLamportTimestamp())
	c.addHistory(histEntry{lamport: m.GetLamportTimestamp(), id: m.GetMessageId(), hint: hint, sender: m.GetSenderId()})
	*evs = append(*evs, Event{Kind: Delivered, MessageID: m.GetMessageId(), SenderID: m.GetSenderId(), Content: m.GetContent()})
}

// drain delivers buffered messages whose dependencies are now met (sync messages are
// discarded), repeating while that makes progress, and returns the entries still missing.
func (c *Channel) drain(evs *[]Event) []*pb.HistoryEntry {
	for {
		progress := false
		var missing []*pb.HistoryEntry
		seen := map[string]bool{}
		kept := c.inOrder[:0]
		for _, id := range c.inOrder {
			b := c.incoming[id]
			delete(c.incoming, id) // a message does not depend on itself
			if ms := c.missing(b.m); len(ms) > 0 {
				c.incoming[id] = b
				kept = append(kept, id)
				for _, e := range ms {
					if !seen[e.GetMessageId()] {
						seen[e.GetMessageId()] = true
						missing = append(missing, e)
					}
				}
				continue
			}
			progress = true
			if ClassOf(b.m) == Content {
				c.deliver(b.m, b.hint, evs)
			}
		}
		c.inOrder = kept
		if !progress {
			return missing
		}
	}
}

// Sweep re-checks the incoming buffer (ReliableChannel does so every 5 s), delivers what has
// become deliverable and reports the entries still missing (also when there are none).
func (c *Channel) Sweep() []*pb.HistoryEntry {
	var evs []Event
	c.mu.Lock()
	missing := c.drain(&evs)
	c.mu.Unlock()
	c.emit(append(evs, Event{Kind: Missing, Entries: missing}))
	return missing
}

// RetrieveMissing asks the store, by retrieval hint, for every missing message that has one
// and feeds what comes back through Receive. It returns how many messages came back.
func (c *Channel) RetrieveMissing(ctx context.Context) (int, error) {
	if c.cfg.Query == nil {
		return 0, nil
	}
	var hashes [][]byte
	for _, e := range c.Sweep() {
		if len(e.GetRetrievalHint()) > 0 {
			hashes = append(hashes, e.GetRetrievalHint())
		}
	}
	if len(hashes) == 0 {
		return 0, nil
	}
	got, err := c.cfg.Query(ctx, hashes)
	for _, r := range got {
		_ = c.Receive(r.Payload, r.Hash)
	}
	return len(got), err
}

// Run drives the channel until ctx ends: sweeps every 5 s, store retrieval every 10 s and
// sync messages at random intervals (within 30 s, then 60 s), as ReliableChannel does.
func (c *Channel) Run(ctx context.Context) {
	sweep, retrieve := time.NewTicker(SweepInterval), time.NewTicker(RetrieveInterval)
	defer sweep.Stop()
	defer retrieve.Stop()
	syncTimer := time.NewTimer(randDuration(30 * time.Second))
	defer syncTimer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			c.Sweep()
		case <-retrieve.C:
			_, _ = c.RetrieveMissing(ctx)
		case <-syncTimer.C:
			_ = c.SendSync(ctx)
			syncTimer.Reset(randDuration(60 * time.Second))
		}
	}
}

func randDuration(d time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(d)) + 1) }

// Unacknowledged returns the ids of our messages not yet acknowledged (for retries).
func (c *Channel) Unacknowledged() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.outgoing))
	for i, o := range c.outgoing {
		out[i] = o.id
	}
	return out
}
