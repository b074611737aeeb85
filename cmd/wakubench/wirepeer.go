package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/libp2p/go-msgio"
	"github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/metadata"
	"github.com/wakunode/wakunode/relay"
)

// wirePeer is a load peer that speaks gossipsub's wire format and does nothing else: no
// validation, hashing, seen cache or message history. Two full nodes as publisher and receiver
// could not keep up with 10 KB × 7,500 msg/s on a core of their own, so on two cores they, not
// the node, set the limit; these two take 0.44 cores there, mostly Noise and yamux.
type wirePeer struct {
	h          host.Host
	meta       *metadata.Service
	out        msgio.WriteCloser // our stream to the node: the hello, then publications
	deliveries chan delivery
	wg         sync.WaitGroup // the readers of the node's streams
	ctx        context.Context
	stop       context.CancelFunc
}

// delivery is one bench message as a receiver saw it.
type delivery struct {
	seq uint64
	lat time.Duration // receipt − the message's timestamp (one clock: the same process)
}

// deliveryOf reads a bench message's sequence number (the payload's first 8 bytes) and its
// latency: receivedAt (ns) − its timestamp.
func deliveryOf(m *pb.WakuMessage, receivedAt int64) delivery {
	return delivery{binary.BigEndian.Uint64(m.Payload), time.Duration(receivedAt - m.GetTimestamp())}
}

// wireMaxRPC bounds one RPC frame we read, as gossipsub's own default does.
const wireMaxRPC = 1 << 20

// dialWirePeer connects a wire peer to the node at addr (with /p2p/) and greets it. A receiver
// subscribes to topic and grafts, so the node puts it in its mesh and forwards to it.
func dialWirePeer(addr multiaddr.Multiaddr, topic string, receiver bool) (*wirePeer, error) {
	info, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("wire peer: %s: %w", addr, err)
	}
	h, err := libp2p.New(libp2p.NoListenAddrs, libp2p.DisableRelay(),
		libp2p.Transport(tcp.NewTCPTransport), libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport))
	if err != nil {
		return nil, fmt.Errorf("wire peer: host: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	p := &wirePeer{h: h, deliveries: make(chan delivery, 1<<20), ctx: ctx, stop: stop}
	// The node disconnects a relay peer that does not tell it its cluster (66/WAKU2-METADATA).
	p.meta = metadata.NewService(h, metadata.Config{Cluster: benchCluster, Shards: func() []uint16 { return []uint16{0} },
		Logger: slog.New(slog.DiscardHandler)})
	// The node opens its own stream to send us RPCs; a publisher drains it too, so that the
	// node's writer to us never blocks.
	h.SetStreamHandler(relay.ProtocolID, func(s network.Stream) {
		p.wg.Add(1)
		defer p.wg.Done()
		p.read(s, receiver)
	})
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := h.Connect(dctx, *info); err != nil {
		p.Close()
		return nil, fmt.Errorf("wire peer: connect: %w", err)
	}
	s, err := h.NewStream(dctx, info.ID, relay.ProtocolID)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("wire peer: stream: %w", err)
	}
	p.out = msgio.NewVarintWriter(s)
	hello := &pubsubpb.RPC{}
	if receiver {
		hello.Subscriptions = []*pubsubpb.RPC_SubOpts{{Subscribe: proto.Bool(true), Topicid: &topic}}
		hello.Control = &pubsubpb.ControlMessage{Graft: []*pubsubpb.ControlGraft{{TopicID: &topic}}}
	}
	if err := p.write(hello); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *wirePeer) write(rpc *pubsubpb.RPC) error {
	b, err := rpc.Marshal()
	if err != nil {
		return err
	}
	if err := p.out.WriteMsg(b); err != nil {
		return fmt.Errorf("wire peer: write: %w", err)
	}
	return nil
}

// publish sends m on topic as one RPC frame, unsigned (StrictNoSign, as Waku relays).
func (p *wirePeer) publish(topic string, m *pb.WakuMessage) error {
	data, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return p.write(&pubsubpb.RPC{Publish: []*pubsubpb.Message{{Data: data, Topic: &topic}}})
}

// read drains one stream from the node; a receiver reports each bench message it carries.
func (p *wirePeer) read(s network.Stream, receiver bool) {
	defer s.Close()
	unblock := context.AfterFunc(p.ctx, func() { _ = s.Reset() }) // Close ends a blocked read
	defer unblock()
	r := msgio.NewVarintReaderSize(s, wireMaxRPC)
	for {
		b, err := r.ReadMsg()
		if err != nil {
			if !errors.Is(err, io.EOF) && p.ctx.Err() == nil {
				fmt.Println("wire peer: read:", err)
			}
			return
		}
		now := time.Now().UnixNano()
		if receiver {
			var rpc pubsubpb.RPC
			if err := rpc.Unmarshal(b); err == nil {
				for _, m := range rpc.Publish {
					var wm pb.WakuMessage
					if proto.Unmarshal(m.Data, &wm) == nil && len(wm.Payload) >= 8 {
						p.deliveries <- deliveryOf(&wm, now)
					}
				}
			}
		}
		r.ReleaseMsg(b)
	}
}

// Close disconnects and waits for the readers.
func (p *wirePeer) Close() {
	p.stop()
	p.meta.Close()
	_ = p.h.Close()
	p.wg.Wait()
}
