package hostile

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/metadata"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/relay"
)

// The node under attack relays relayShard of relayCluster.
const relayCluster, relayShard = 16, 3

var relayTopic = message.Shard{Cluster: relayCluster, Index: relayShard}.PubsubTopic()

// relayNodeConfig is a node on 127.0.0.1 (free ports) relaying relayTopic, logging nothing.
func relayNodeConfig(t testing.TB) node.Config {
	cfg := node.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.ListenAddress = "127.0.0.1"
	cfg.TCPPort, cfg.WebSocketPort = 0, 0
	cfg.ClusterID = relayCluster
	cfg.Shards = []uint16{relayShard}
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

func relayStartNode(t testing.TB, cfg node.Config) *node.Node {
	t.Helper()
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	return n
}

// relayWaitFor polls cond; the deadline only bounds a hung test.
func relayWaitFor(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rawGossip is a hostile relay peer: a plain libp2p host that passes the node's metadata
// check and then writes gossipsub RPC frames by hand on /vac/waku/relay/2.0.0.
type rawGossip struct {
	h   host.Host
	out network.Stream
}

func newRawGossip(t testing.TB, target host.Host) *rawGossip {
	t.Helper()
	h := testhost.New(t)
	metadata.NewService(h, metadata.Config{Cluster: relayCluster, Shards: func() []uint16 { return []uint16{relayShard} }})
	// Drain whatever the node sends us, so its writer never blocks on us.
	h.SetStreamHandler(relay.ProtocolID, func(s network.Stream) { _, _ = io.Copy(io.Discard, s); _ = s.Reset() })
	testhost.Connect(t, h, target)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, target.ID(), relay.ProtocolID)
	if err != nil {
		t.Fatalf("relay stream: %v", err)
	}
	t.Cleanup(func() { _ = s.Reset() })
	return &rawGossip{h: h, out: s}
}

// send writes one RPC frame; it reports the error (the node may have reset us).
func (g *rawGossip) send(rpc *pubsubpb.RPC) error {
	b, err := rpc.Marshal()
	if err != nil {
		return err
	}
	_, err = g.out.Write(append(binary.AppendUvarint(nil, uint64(len(b))), b...))
	return err
}

func (g *rawGossip) subscribe(topics ...string) error {
	subs := make([]*pubsubpb.RPC_SubOpts, len(topics))
	for i := range topics {
		yes := true
		subs[i] = &pubsubpb.RPC_SubOpts{Subscribe: &yes, Topicid: &topics[i]}
	}
	return g.send(&pubsubpb.RPC{Subscriptions: subs})
}

func (g *rawGossip) close() { _ = g.h.Close() }

func (g *rawGossip) connected(n *node.Node) bool {
	return n.Host().Network().Connectedness(g.h.ID()) == network.Connected
}

func relayTracks(n *node.Node, topic string, p peer.ID) bool {
	ps, _ := n.Relay().TopicPeers(topic)
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// relayHeapMB is the live heap after a full collection, in MB.
func relayHeapMB() float64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// relayRSSMB is the process's resident set (Linux), 0 where unknown.
func relayRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// relaySize picks the quick (-short) or the full figure.
func relaySize[T any](short, full T) T {
	if testing.Short() {
		return short
	}
	return full
}
