// Package discovery turns every source of peers (static peers, DNS trees, discv5, peer
// exchange) into one stream of candidates, which the node drains into the peer manager. The
// polling loops of the sources live here too, each testable without a node; the wire
// protocols are in discovery/discv5, discovery/dnsdisc and peerexchange.
package discovery

import (
	"context"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/enr"
)

// Candidate is one peer a source found.
type Candidate struct {
	Peer   peer.AddrInfo
	Origin string    // peers.Origin*: which source found it
	Record *enr.Info // the peer's ENR, when the source had one
}

// DefaultStreamCapacity is how many candidates wait for the consumer before sources block.
const DefaultStreamCapacity = 256

// Stream is the one stream of candidates. Sources Emit into it from any goroutine; Run hands
// each candidate to the consumer in the order it came. Emit blocks while the stream is full
// (so no candidate is lost) and returns false once Run has ended.
type Stream struct {
	ch   chan Candidate
	done chan struct{}
	once sync.Once
}

// NewStream makes a stream holding at most capacity waiting candidates (0 = default).
func NewStream(capacity int) *Stream {
	if capacity <= 0 {
		capacity = DefaultStreamCapacity
	}
	return &Stream{ch: make(chan Candidate, capacity), done: make(chan struct{})}
}

// Emit queues c; false when the stream is closed.
func (s *Stream) Emit(c Candidate) bool {
	select {
	case <-s.done:
		return false
	default:
	}
	select {
	case s.ch <- c:
		return true
	case <-s.done:
		return false
	}
}

// EmitRecord queues the peer a record describes, under each of its addresses' peer ids that
// match the record's own (a record may carry addresses of relays or other peers).
func (s *Stream) EmitRecord(info enr.Info, origin string) {
	ais, err := peer.AddrInfosFromP2pAddrs(info.Addrs...)
	if err != nil {
		return
	}
	for _, ai := range ais {
		if ai.ID == info.PeerID {
			s.Emit(Candidate{Peer: ai, Origin: origin, Record: &info})
		}
	}
}

// Run hands every candidate to consume until ctx ends; then the stream is closed.
func (s *Stream) Run(ctx context.Context, consume func(Candidate)) {
	defer s.once.Do(func() { close(s.done) })
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-s.ch:
			consume(c)
		}
	}
}
