package node

import (
	"sync"
	"sync/atomic"

	"github.com/wakunode/wakunode/message"
)

// Envelope is an accepted message as the node hands it out (see message.Envelope).
type Envelope = message.Envelope

// Consumer receives each accepted message once. Deliver runs on relay's delivery goroutine,
// so it must not block: consumers with real work keep their own bounded queue.
type Consumer interface {
	Deliver(*message.Envelope)
}

// bus hands every accepted message, once, to every consumer (DESIGN.md step 4). Consumers never
// call each other.
type bus struct {
	mu        sync.RWMutex
	consumers map[uint64]Consumer
	next      uint64
}

func newBus() *bus { return &bus{consumers: map[uint64]Consumer{}} }

func (b *bus) Deliver(e *message.Envelope) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, c := range b.consumers {
		c.Deliver(e)
	}
}

// add registers c and returns the function that removes it.
func (b *bus) add(c Consumer) (remove func()) {
	b.mu.Lock()
	id := b.next
	b.next++
	b.consumers[id] = c
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.consumers, id)
		b.mu.Unlock()
	}
}

// Subscription is an application's view of the bus: matching messages on a channel.
type Subscription struct {
	C       <-chan *message.Envelope
	ch      chan *message.Envelope
	match   func(*message.Envelope) bool
	remove  func()
	once    sync.Once
	mu      sync.RWMutex
	closed  bool
	dropped atomic.Uint64
}

// Deliver queues e without blocking; a full channel drops it (counted in Dropped).
func (s *Subscription) Deliver(e *message.Envelope) {
	if s.match != nil && !s.match(e) {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	select {
	case s.ch <- e:
	default:
		s.dropped.Add(1)
	}
}

// Dropped counts messages lost because the reader fell behind.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close stops delivery and closes C.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.remove()
		s.mu.Lock()
		s.closed = true
		close(s.ch)
		s.mu.Unlock()
	})
}
