package sim

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"sync"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// lossyHost hands the relay outbound streams that lose data messages. Mocknet and TCP streams
// are reliable, and on a real lossy link TCP would retransmit (the loss shows as delay); we
// model the harsher case for a gossip protocol, where a copy sent to a peer never arrives and
// only another path or gossip (IHAVE/IWANT) repairs it. Pubsub writes one varint-framed RPC per
// Write on the streams it opens (it only reads inbound ones), so the wrapper decodes the
// frame, drops each Publish entry with probability loss, and writes the rest. Control messages
// are kept: losing them would only be retransmitted by TCP in reality.
type lossyHost struct {
	host.Host
	loss float64
	mu   sync.Mutex
	rng  *rand.Rand
	lost *int64 // copies dropped, guarded by mu
}

func (h *lossyHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	s, err := h.Host.NewStream(ctx, p, pids...)
	if err != nil {
		return nil, err
	}
	return &lossyStream{Stream: s, h: h}, nil
}

func (h *lossyHost) drop() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rng.Float64() < h.loss {
		*h.lost++
		return true
	}
	return false
}

type lossyStream struct {
	network.Stream
	h *lossyHost
}

func (s *lossyStream) Write(b []byte) (int, error) {
	out, ok := dropPublished(b, s.h.drop)
	if !ok {
		return s.Stream.Write(b)
	}
	if out == nil {
		return len(b), nil // the whole frame was lost
	}
	if _, err := s.Stream.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// dropPublished decodes one varint-framed pubsub RPC and removes the Publish entries for which
// drop returns true. ok is false when b is not exactly one frame or nothing was dropped (send b
// unchanged); out is nil when nothing is left to send.
func dropPublished(b []byte, drop func() bool) (out []byte, ok bool) {
	size, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) != size {
		return nil, false
	}
	var rpc pubsubpb.RPC
	if err := rpc.Unmarshal(b[n:]); err != nil || len(rpc.Publish) == 0 {
		return nil, false
	}
	kept := rpc.Publish[:0]
	for _, m := range rpc.Publish {
		if !drop() {
			kept = append(kept, m)
		}
	}
	if len(kept) == len(rpc.Publish) {
		return nil, false
	}
	rpc.Publish = kept
	if len(rpc.Publish) == 0 && len(rpc.Subscriptions) == 0 && rpc.Control == nil {
		return nil, true
	}
	body, err := rpc.Marshal()
	if err != nil {
		return nil, false
	}
	return append(binary.AppendUvarint(nil, uint64(len(body))), body...), true
}
