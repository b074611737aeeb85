package archive

import (
	"context"
	"errors"
	"sync"

	"github.com/wakunode/wakunode/message"
)

// entryOverhead approximates what a queued envelope costs beyond its bytes (the Envelope and
// WakuMessage structs, slice headers, the queue slot).
const entryOverhead = 256

// entrySize is what one queued envelope is charged against Config.QueueBytes. Relay-received
// envelopes alias the payload into Raw (message.Decode), so Raw counts once; topics and meta
// are separate strings.
func entrySize(e *message.Envelope) int64 {
	m := e.Message
	return int64(entryOverhead + len(e.Raw) + len(e.PubsubTopic) + len(m.GetContentTopic()) + len(m.GetMeta()))
}

// queue is the FIFO between Insert and the single writer, bounded in entries and in bytes.
// Entries the writer has taken but not yet committed still count against both bounds, so a
// batch held across a database outage is part of the budget. Sequence numbers let Flush wait
// for everything queued before it.
type queue struct {
	maxItems int
	maxBytes int64

	mu       sync.Mutex
	items    []*message.Envelope // waiting, oldest first
	held     int                 // taken by the writer, not yet resolved
	bytes    int64               // of items and held
	pushed   uint64              // sequence of the newest entry
	resolved uint64              // entries written or finally dropped, in order
	waiters  []flushWaiter
	space    chan struct{} // closed (and replaced) when room is freed
	closed   bool

	wake chan struct{} // capacity 1: "items is not empty"
	// hurry (capacity 1) tells a writer holding a light load for CommitInterval that a Flush waits.
	hurry chan struct{}
	// enough (capacity 1) gets a token when a push makes the backlog enoughAt
	// (Config.CommitRows): a writer holding a light load past CommitInterval waits for it or
	// for MaxCommitDelay instead of counting the rows again at every CommitInterval.
	enough   chan struct{}
	enoughAt int

	// sp, when set, takes what the bounds refuse. While it holds unread messages (spilled),
	// new ones go behind them, so the writer, which reads it only when items is empty,
	// resolves messages in the order they were pushed.
	sp      *spill
	spilled int
}

// pushResult is where push put a message, or why it could not.
type pushResult int

const (
	pushedMem   pushResult = iota
	pushedSpill            // appended to the spill
	pushFull               // no room and no spill
	pushClosed
	pushSpillFull   // no room in the spill either
	pushSpillFailed // the spill could not be written
)

type flushWaiter struct {
	target uint64
	err    error
	done   chan error
}

func newQueue(maxItems int, maxBytes int64, enoughAt int) *queue {
	return &queue{maxItems: maxItems, maxBytes: maxBytes, space: make(chan struct{}), wake: make(chan struct{}, 1),
		hurry: make(chan struct{}, 1), enough: make(chan struct{}, 1), enoughAt: enoughAt}
}

// push appends e if both bounds leave room, else to the spill if there is one. When it
// cannot, roomCh is closed once room may have been freed (for waiting callers); err says why
// the spill refused.
func (q *queue) push(e *message.Envelope) (res pushResult, err error, roomCh <-chan struct{}) {
	size := entrySize(e)
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return pushClosed, nil, nil
	}
	n := len(q.items) + q.held
	// One entry is always admitted into an empty queue so a message larger than the byte
	// bound still gets written.
	switch {
	case q.spilled == 0 && n < q.maxItems && (n == 0 || q.bytes+size <= q.maxBytes):
		q.items = append(q.items, e)
		q.bytes += size
		res = pushedMem
	case q.sp == nil:
		res = pushFull
	default:
		if err = q.sp.append(e); err != nil {
			res = pushSpillFailed
			if errors.Is(err, errSpillFull) {
				res = pushSpillFull
			}
			break
		}
		q.spilled++
		res = pushedSpill
	}
	if res != pushedMem && res != pushedSpill {
		ch := q.space
		q.mu.Unlock()
		return res, err, ch
	}
	q.pushed++
	// The backlog grows by one per push, so it equals enoughAt once per accumulation.
	enough := len(q.items)+q.spilled == q.enoughAt
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	if enough {
		select {
		case q.enough <- struct{}{}:
		default:
		}
	}
	return res, nil, nil
}

// take moves up to maxN entries totalling at most maxBytes (at least one) into batch.
func (q *queue) take(batch []*message.Envelope, maxN int, maxBytes int64) []*message.Envelope {
	q.mu.Lock()
	defer q.mu.Unlock()
	var size int64
	n := 0
	for n < len(q.items) && n < maxN {
		s := entrySize(q.items[n])
		if n > 0 && size+s > maxBytes {
			break
		}
		size += s
		n++
	}
	batch = append(batch, q.items[:n]...)
	clear(q.items[:n]) // the backing array must not keep written envelopes alive
	q.items = q.items[n:]
	if len(q.items) == 0 {
		q.items = nil // release the backing array a burst grew
	}
	q.held += n
	return batch
}

// batchSize is what entries cost against the byte bound.
func batchSize(batch []*message.Envelope) int64 {
	var size int64
	for _, e := range batch {
		size += entrySize(e)
	}
	return size
}

// resolve marks the oldest n held entries (size bytes) as written or dropped, frees their
// budget and releases the Flush calls they complete; err (a final drop) is reported to them.
func (q *queue) resolve(n int, size int64, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held -= n
	q.bytes -= size
	q.resolved += uint64(n)
	close(q.space)
	q.space = make(chan struct{})
	keep := q.waiters[:0]
	for _, w := range q.waiters {
		if err != nil && w.err == nil {
			w.err = err
		}
		if w.target <= q.resolved {
			w.done <- w.err
			continue
		}
		keep = append(keep, w)
	}
	clear(q.waiters[len(keep):])
	q.waiters = keep
}

// flushWait registers a Flush: done receives once everything pushed so far is resolved.
func (q *queue) flushWait() (done chan error, closed bool) {
	done = make(chan error, 1)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, true
	}
	if q.resolved >= q.pushed {
		done <- nil
		return done, false
	}
	q.waiters = append(q.waiters, flushWaiter{target: q.pushed, done: done})
	select {
	case q.hurry <- struct{}{}:
	default:
	}
	return done, false
}

// flushing reports whether a Flush waits.
func (q *queue) flushing() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiters) > 0
}

// close refuses further pushes; what is queued stays for the writer to drain.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	close(q.space) // waiting InsertHistorical calls see the queue closed
	q.space = make(chan struct{})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// finish fails the Flush calls still waiting once the writer has stopped.
func (q *queue) finish(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, w := range q.waiters {
		w.done <- err
	}
	q.waiters = nil
}

// stats returns the entries and bytes queued or held.
func (q *queue) stats() (n int, bytes int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) + q.held, q.bytes
}

// pending reports whether entries wait to be taken, in memory or (withSpill) in the spill.
func (q *queue) pending(withSpill bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) > 0 || (withSpill && q.spilled > 0)
}

// backlog is the number of entries waiting, spilled ones included, and the bytes of those
// waiting in memory.
func (q *queue) backlog() (n int, bytes int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) + q.spilled, q.bytes
}

// waitRoom blocks until push succeeds, ctx ends or the queue closes.
func (q *queue) waitRoom(ctx context.Context, e *message.Envelope) error {
	for {
		res, _, room := q.push(e)
		switch res {
		case pushedMem, pushedSpill:
			return nil
		case pushClosed:
			return ErrClosed
		}
		select {
		case <-room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
