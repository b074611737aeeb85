package hostile

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/message/pb"
)

// garbageDisconnectBound bounds how long a peer publishing undecodable messages at 10/s
// stays connected: ~10 invalid messages take its score below the graylist threshold, then one
// score snapshot (1 s) and one peer-manager pass (1 s).
const garbageDisconnectBound = 15 * time.Second

// TestRelayGarbagePublisherDisconnected: a raw gossipsub peer publishing undecodable messages
// at 10/s is disconnected once its score is below the graylist threshold and is refused when it
// comes back (banned); an honest relay peer stays connected and served.
func TestRelayGarbagePublisherDisconnected(t *testing.T) {
	target := relayStartNode(t, relayNodeConfig(t))
	honest := relayStartNode(t, relayNodeConfig(t))
	if err := honest.Connect(context.Background(), target.ListenAddrs()[0]); err != nil {
		t.Fatal(err)
	}
	relayWaitFor(t, "honest peer on the topic", 20*time.Second, func() bool { return relayTracks(target, relayTopic, honest.ID()) })

	g := newRawGossip(t, target.Host())
	if err := g.subscribe(relayTopic); err != nil {
		t.Fatal(err)
	}
	relayWaitFor(t, "attacker on the topic", 20*time.Second, func() bool { return relayTracks(target, relayTopic, g.h.ID()) })
	start := time.Now()
	sent := 0
	topic := relayTopic
	for g.connected(target) {
		if time.Since(start) > garbageDisconnectBound {
			t.Fatalf("garbage publisher still connected after %v (%d messages)", garbageDisconnectBound, sent)
		}
		data := make([]byte, 64)
		_, _ = rand.Read(data)
		data[0] = 0xff // field 31, wire type 7: no WakuMessage decodes from this
		if g.send(&pubsubpb.RPC{Publish: []*pubsubpb.Message{{Data: data, Topic: &topic}}}) != nil {
			break // reset by the node
		}
		sent++
		time.Sleep(100 * time.Millisecond)
	}
	relayWaitFor(t, "attacker disconnected", garbageDisconnectBound, func() bool { return !g.connected(target) })
	took := time.Since(start)

	// Coming back is refused: the handshake names the banned peer and the node drops it.
	_ = g.h.Connect(context.Background(), peer.AddrInfo{ID: target.ID(), Addrs: target.Host().Addrs()})
	relayWaitFor(t, "reconnect refused", 20*time.Second, func() bool {
		return g.h.Network().Connectedness(target.ID()) != network.Connected
	})
	if g.connected(target) {
		t.Fatal("banned peer reconnected")
	}

	// The honest peer is still connected and its messages still arrive.
	if !relayTracks(target, relayTopic, honest.ID()) {
		t.Fatal("honest peer lost")
	}
	sub := target.Subscribe(nil, 16)
	defer sub.Close()
	ts := time.Now().UnixNano()
	pubAt := time.Now()
	if _, err := honest.Publish(context.Background(), relayTopic, &pb.WakuMessage{Payload: []byte("hi"), ContentTopic: "/hostile/1/honest/proto", Timestamp: &ts}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sub.C:
	case <-time.After(20 * time.Second):
		t.Fatal("honest message not delivered after the attack")
	}
	t.Logf("garbage publisher: disconnected after %v and %d invalid messages; reconnect refused; honest message delivered in %v",
		took.Round(time.Millisecond), sent, time.Since(pubAt).Round(time.Millisecond))
}
