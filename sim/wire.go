package sim

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Wire byte categories: each byte of a written RPC frame falls in exactly one. Gossipsub has no
// heartbeat message of its own: its heartbeat emits GRAFT, PRUNE and IHAVE, counted there.
const (
	WirePublish   = "publish"   // data message copies (the payload and its Waku envelope)
	WireSubscribe = "subscribe" // SUBSCRIBE/UNSUBSCRIBE announcements
	WireIHave     = "ihave"
	WireIWant     = "iwant"
	WireGraft     = "graft"
	WirePrune     = "prune"
	WireIDontWant = "idontwant"
	WireFraming   = "framing" // length prefix, protobuf tags of the frame and control envelope, extensions
)

// WireKinds lists the categories in report order.
var WireKinds = []string{WirePublish, WireSubscribe, WireIHave, WireIWant, WireGraft, WirePrune, WireIDontWant, WireFraming}

func wireIndex(kind string) int {
	for i, k := range WireKinds {
		if k == kind {
			return i
		}
	}
	return len(WireKinds) - 1
}

// Wire counts the bytes a node writes to and reads from its pubsub streams, per category.
// Unlike Traffic (the relay's own RPC sizes) it sees the frames as written on the stream:
// length prefixes included, and after the loss model has removed lost copies.
type Wire struct {
	in, out             [8]atomic.Int64 // indexed like WireKinds
	framesIn, framesOut atomic.Int64    // RPC frames (one per pubsub write)
}

// TransportOverhead is what the TCP transport adds to each pubsub frame and the meter does
// not see: Noise's 2-byte length and 16-byte tag on the message carrying it, and yamux's
// 12-byte data frame header (go-yamux writes a frame's header and body in one Noise message
// when they fit; IP and TCP headers and yamux window updates are left out).
const TransportOverhead = 2 + 16 + 12

// FramesIn and FramesOut count the RPC frames read and written.
func (w *Wire) FramesIn() int64  { return w.framesIn.Load() }
func (w *Wire) FramesOut() int64 { return w.framesOut.Load() }

// In and Out are the bytes of one category.
func (w *Wire) In(kind string) int64  { return w.in[wireIndex(kind)].Load() }
func (w *Wire) Out(kind string) int64 { return w.out[wireIndex(kind)].Load() }

// TotalIn and TotalOut sum every category.
func (w *Wire) TotalIn() (n int64) {
	for i := range w.in {
		n += w.in[i].Load()
	}
	return n
}

func (w *Wire) TotalOut() (n int64) {
	for i := range w.out {
		n += w.out[i].Load()
	}
	return n
}

// frameBytes splits one written buffer into categories. A buffer that is not exactly one
// varint-framed RPC (pubsub writes one per Write) is counted whole as framing.
func frameBytes(b []byte) [8]int64 {
	var c [8]int64
	size, n := binary.Uvarint(b)
	var rpc pubsubpb.RPC
	if n <= 0 || uint64(len(b)-n) != size || rpc.Unmarshal(b[n:]) != nil {
		c[wireIndex(WireFraming)] = int64(len(b))
		return c
	}
	field := func(l int) int64 { return int64(1 + uvarintLen(uint64(l)) + l) } // tag, length, body
	for _, m := range rpc.Publish {
		c[wireIndex(WirePublish)] += field(m.Size())
	}
	for _, s := range rpc.Subscriptions {
		c[wireIndex(WireSubscribe)] += field(s.Size())
	}
	if ctl := rpc.Control; ctl != nil {
		for _, x := range ctl.Ihave {
			c[wireIndex(WireIHave)] += field(x.Size())
		}
		for _, x := range ctl.Iwant {
			c[wireIndex(WireIWant)] += field(x.Size())
		}
		for _, x := range ctl.Graft {
			c[wireIndex(WireGraft)] += field(x.Size())
		}
		for _, x := range ctl.Prune {
			c[wireIndex(WirePrune)] += field(x.Size())
		}
		for _, x := range ctl.Idontwant {
			c[wireIndex(WireIDontWant)] += field(x.Size())
		}
	}
	rest := int64(len(b))
	for _, v := range c {
		rest -= v
	}
	c[wireIndex(WireFraming)] = rest
	return c
}

func uvarintLen(v uint64) int { return len(binary.AppendUvarint(nil, v)) }

// wireHost meters the streams the relay opens. Pubsub writes only on the streams it opens and
// only reads the ones peers open, so metering writes on outbound streams sees every RPC once:
// the writer's Out and, through peerWire, the reading peer's In (all peers are in the sim).
type wireHost struct {
	host.Host
	w        *Wire
	gate     *wireGate
	peerWire func(peer.ID) *Wire // nil when the peer is not a sim node
}

func (h *wireHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	s, err := h.Host.NewStream(ctx, p, pids...)
	if err != nil {
		return nil, err
	}
	return &wireStream{Stream: s, out: h.w, in: h.peerWire(p), gate: h.gate}, nil
}

// wireGate closes every meter of a network at once: the nodes keep gossiping while the run is
// measured, and a frame counted as one node's out after its reader's in was read would break
// in = out. A write counts both sides under the read lock, or neither once closed.
type wireGate struct {
	mu     sync.RWMutex
	closed bool
}

func (g *wireGate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

type wireStream struct {
	network.Stream
	out, in *Wire
	gate    *wireGate
}

func (s *wireStream) Write(b []byte) (int, error) {
	n, err := s.Stream.Write(b)
	s.gate.mu.RLock()
	defer s.gate.mu.RUnlock()
	if n == len(b) && !s.gate.closed {
		s.out.framesOut.Add(1)
		if s.in != nil {
			s.in.framesIn.Add(1)
		}
		c := frameBytes(b)
		for i, v := range c {
			s.out.out[i].Add(v)
			if s.in != nil {
				s.in.in[i].Add(v)
			}
		}
	}
	return n, err
}
