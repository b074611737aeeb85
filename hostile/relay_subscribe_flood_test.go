package hostile

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message/pb"
)

// Bounds of TestRelaySubscribeFlood. Unfiltered, 1,000,000 announced topics took the heap
// up by ~430 MB and kept most of it after the attacker left.
const (
	subscribeFloodHeapCeilingMB = 64              // live heap growth after both attackers
	honestDeliveryBound         = 5 * time.Second // per message, while the flood runs (-race, shared CPU)
	// floodDisconnectBound: a peer is flagged after 1,024 unserved topics; one peer-manager
	// pass (1 s) later it is disconnected and banned.
	floodDisconnectBound = 15 * time.Second
)

// floodTopics writes up to n subscription announcements in RPCs of batch topics each (under
// the per-RPC cap): random names, other clusters, and non-canonical spellings of our own
// shards. It stops when the node drops the connection and reports how many it wrote.
func floodTopics(g *rawGossip, n, batch int) int {
	topics := make([]string, 0, batch)
	sent := 0
	for i := 0; i < n; i++ {
		switch i % 3 {
		case 0:
			topics = append(topics, fmt.Sprintf("/flood/%016x", rand.Uint64()))
		case 1:
			topics = append(topics, fmt.Sprintf("/waku/2/rs/%d/%d", rand.IntN(65536), rand.IntN(1024)))
		default: // our cluster, leading zeros: the same shard under unboundedly many names
			topics = append(topics, fmt.Sprintf("/waku/2/rs/%d/%0*d", relayCluster, 5+rand.IntN(20), rand.IntN(1024)))
		}
		if len(topics) == batch || i == n-1 {
			if g.subscribe(topics...) != nil {
				return sent
			}
			sent += len(topics)
			topics = topics[:0]
		}
	}
	return sent
}

// floodProbes are announced before every flood; the node must track none of them.
func floodProbes() []string {
	return []string{"/flood/probe", fmt.Sprintf("/waku/2/rs/%d/%05d", relayCluster, relayShard), "/waku/2/rs/17/3"}
}

// TestRelaySubscribeFlood: two peers, one after the other, announce many random topics on
// /vac/waku/relay/2.0.0. The node keeps state only for topics it serves, disconnects and bans
// each flooding peer, its heap stays under subscribeFloodHeapCeilingMB, and an honest relay
// peer's messages keep arriving.
func TestRelaySubscribeFlood(t *testing.T) {
	topicsPerAttacker := relaySize(30_000, 1_000_000)
	target := relayStartNode(t, relayNodeConfig(t))
	honest := relayStartNode(t, relayNodeConfig(t))
	if err := honest.Connect(context.Background(), target.ListenAddrs()[0]); err != nil {
		t.Fatal(err)
	}
	relayWaitFor(t, "honest peer on the topic", 20*time.Second, func() bool { return relayTracks(honest, relayTopic, target.ID()) })
	sub := target.Subscribe(nil, 1024)
	defer sub.Close()

	// The honest peer publishes every 50 ms throughout; each message's latency is recorded.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			ts := time.Now().UnixNano()
			m := &pb.WakuMessage{Payload: []byte(fmt.Sprint(i)), ContentTopic: "/hostile/1/flood/proto", Timestamp: &ts}
			_, _ = honest.Publish(ctx, relayTopic, m)
			time.Sleep(50 * time.Millisecond)
		}
	}()
	var worst time.Duration
	received := 0
	drain := func() {
		for {
			select {
			case env := <-sub.C:
				worst = max(worst, time.Since(time.Unix(0, env.Message.GetTimestamp())))
				received++
			default:
				return
			}
		}
	}

	base := relayHeapMB()
	baseRSS := relayRSSMB()
	var peakHeap float64
	start := time.Now()
	var disconnectAfter []string
	for range 2 {
		g := newRawGossip(t, target.Host())
		// The probes, then our own topic as a marker: RPCs on one stream are handled in order.
		if err := g.subscribe(append(floodProbes(), relayTopic)...); err != nil {
			t.Fatal(err)
		}
		relayWaitFor(t, "probes processed", 20*time.Second, func() bool { drain(); return relayTracks(target, relayTopic, g.h.ID()) })
		for _, probe := range floodProbes() {
			if relayTracks(target, probe, g.h.ID()) {
				t.Fatalf("node keeps state for %q", probe)
			}
		}
		floodStart := time.Now()
		sent := floodTopics(g, topicsPerAttacker, 1000)
		relayWaitFor(t, "flooding peer disconnected", floodDisconnectBound, func() bool { drain(); return !g.connected(target) })
		disconnectAfter = append(disconnectAfter, fmt.Sprintf("%v (%d topics written)", time.Since(floodStart).Round(time.Millisecond), sent))
		peakHeap = max(peakHeap, relayHeapMB())
		g.close()
	}
	floodTime := time.Since(start)
	// The honest peer was served throughout.
	before := received
	relayWaitFor(t, "honest messages after the flood", 20*time.Second, func() bool { drain(); return received > before })
	cancel()
	after := relayHeapMB()
	t.Logf("subscribe flood: 2 attackers x up to %d topics in %v, disconnected after %v; heap %.1f MB -> peak %.1f MB -> %.1f MB after; RSS %.0f -> %.0f MB; honest messages %d, worst latency %v",
		topicsPerAttacker, floodTime.Round(time.Millisecond), disconnectAfter, base, peakHeap, after, baseRSS, relayRSSMB(), received, worst.Round(time.Millisecond))
	if growth := peakHeap - base; growth > subscribeFloodHeapCeilingMB {
		t.Errorf("heap grew %.1f MB under the flood, ceiling %d MB", growth, subscribeFloodHeapCeilingMB)
	}
	if worst > honestDeliveryBound {
		t.Errorf("an honest message took %v, bound %v", worst, honestDeliveryBound)
	}
}
