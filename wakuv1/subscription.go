package wakuv1

import (
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/p2p/enode"
)

// Subscription receives every new envelope a peer sends us (valid, not seen before), on a
// bounded channel: a reader that falls behind loses envelopes (counted in Dropped and in
// waku_v1_envelopes_dropped_total{type="subscriber_full"}).
type Subscription struct {
	C       <-chan *Envelope
	ch      chan *Envelope
	n       *Node
	closed  bool // guarded by n.mu
	dropped atomic.Uint64
}

// Subscribe opens a subscription with the given channel capacity (≤ 0: 1024). Envelopes are
// shared and read-only.
func (n *Node) Subscribe(capacity int) *Subscription {
	if capacity <= 0 {
		capacity = 1024
	}
	ch := make(chan *Envelope, capacity)
	s := &Subscription{C: ch, ch: ch, n: n}
	n.mu.Lock()
	n.subs[s] = struct{}{}
	n.mu.Unlock()
	return s
}

// Dropped counts envelopes lost because the reader fell behind.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close stops delivery and closes C.
func (s *Subscription) Close() {
	s.n.mu.Lock()
	defer s.n.mu.Unlock()
	s.closeLocked()
}

func (s *Subscription) closeLocked() {
	if s.closed {
		return
	}
	s.closed = true
	delete(s.n.subs, s)
	close(s.ch)
}

// PeerInfo describes a connected v1 peer for operators.
type PeerInfo struct {
	ID        string    `json:"id"`
	Enode     string    `json:"enode"`
	Name      string    `json:"name"`
	Addr      string    `json:"addr"`
	Inbound   bool      `json:"inbound"`
	Connected time.Time `json:"connectedSince"`
	PoW       float64   `json:"powRequirement"`
	Topics    int       `json:"topicInterest"` // -1: uses a bloom filter
	Light     bool      `json:"lightNode"`
	Sent      uint64    `json:"envelopesSent"`
	Received  uint64    `json:"envelopesReceived"`
}

// Peers lists the peers past the status handshake.
func (n *Node) Peers() []PeerInfo {
	var out []PeerInfo
	for _, p := range n.peerList() {
		out = append(out, p.info())
	}
	return out
}

func (n *Node) peerInfo(id enode.ID) any {
	n.mu.RLock()
	p := n.peers[id]
	n.mu.RUnlock()
	if p == nil {
		return nil
	}
	return p.info()
}

func (p *peer) info() PeerInfo {
	p.mu.Lock()
	o := p.remote
	p.mu.Unlock()
	topics := -1
	if o.TopicInterest != nil {
		topics = len(o.TopicInterest)
	}
	return PeerInfo{
		ID: p.id.String(), Enode: p.p.Node().URLv4(), Name: p.p.Fullname(), Addr: p.p.RemoteAddr().String(),
		Inbound: p.p.Inbound(), Connected: p.connected, PoW: *o.PoWRequirement, Topics: topics,
		Light: o.LightNode != nil && *o.LightNode, Sent: p.sentCount.Load(), Received: p.recvCount.Load(),
	}
}
