package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
)

// connectPeers starts n in-process peer nodes relaying shards of cluster 16, each connected to
// addr. stop stops them.
func connectPeers(dir string, addr multiaddr.Multiaddr, n int, shards []uint16) ([]*node.Node, func(), error) {
	var peers []*node.Node
	stop := func() {
		for _, p := range peers {
			_ = p.Stop()
		}
	}
	for i := range n {
		pn, err := peerNodeOn(filepath.Join(dir, fmt.Sprintf("peer%d", i)), shards)
		if err != nil {
			stop()
			return nil, nil, err
		}
		peers = append(peers, pn)
		if err := pn.Connect(context.Background(), addr); err != nil {
			stop()
			return nil, nil, err
		}
	}
	return peers, stop, nil
}

// benchPeers are a step's publisher and receiver.
type benchPeers struct {
	send       func(*pb.WakuMessage) error
	deliveries <-chan delivery
	recv       *node.Node // the in-process receiver; nil with wire peers
	close      func()
}

func startBenchPeers(wire bool, dir string, addr multiaddr.Multiaddr) (*benchPeers, error) {
	if !wire {
		nodes, stop, err := connectPeers(dir, addr, 2, []uint16{0})
		if err != nil {
			return nil, err
		}
		sub := nodes[1].Subscribe(nil, 1<<20)
		return &benchPeers{send: nodePublisher(nodes[0]), deliveries: nodeDeliveries(sub), recv: nodes[1],
			close: func() { sub.Close(); stop() }}, nil
	}
	pub, err := dialWirePeer(addr, benchTopic, false)
	if err != nil {
		return nil, err
	}
	recv, err := dialWirePeer(addr, benchTopic, true)
	if err != nil {
		pub.Close()
		return nil, err
	}
	return &benchPeers{send: func(m *pb.WakuMessage) error { return pub.publish(benchTopic, m) },
		deliveries: recv.deliveries, close: func() { pub.Close(); recv.Close() }}, nil
}

// storeCount walks the node's store from the receiver, or from a node started for it.
func (b *benchPeers) storeCount(dir string, addr multiaddr.Multiaddr) (int, error) {
	if b.recv != nil {
		return legacyStoreCount(b.recv, addr)
	}
	nodes, stop, err := connectPeers(filepath.Join(dir, "walker"), addr, 1, []uint16{0})
	if err != nil {
		return 0, err
	}
	defer stop()
	return legacyStoreCount(nodes[0], addr)
}
