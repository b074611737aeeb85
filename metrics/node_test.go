package metrics

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/relay"
	"github.com/wakunode/wakunode/store"
)

type fakeNode struct {
	h      host.Host
	topics []string
}

func (f fakeNode) Host() host.Host       { return f.h }
func (f fakeNode) RelayTopics() []string { return f.topics }

// Two real hosts on loopback: the collector reports what the connection, its streams and the
// peer store hold, under nwaku's names.
func TestWatchNode(t *testing.T) {
	a, b := testhost.New(t), testhost.New(t)
	const echo = "/test/echo/1"
	opened := make(chan struct{})
	b.SetStreamHandler(echo, func(s network.Stream) { close(opened); <-t.Context().Done(); s.Close() })
	testhost.Connect(t, a, b)
	a.Peerstore().AddProtocols(b.ID(), relay.ProtocolID, store.QueryProtocol)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := a.NewStream(ctx, b.ID(), echo)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write([]byte{1}); err != nil { // the protocol is negotiated with the first write
		t.Fatal(err)
	}
	select {
	case <-opened:
	case <-ctx.Done():
		t.Fatal("the stream did not reach the other host")
	}

	reg := prometheus.NewRegistry()
	WatchNode(reg, fakeNode{a, []string{"/waku/2/rs/0/0", "/waku/2/rs/0/1"}}, []ServicePeer{{store.QueryProtocol, b.ID()}})
	for name, want := range map[string]float64{
		"libp2p_peers": 1, "libp2p_pubsub_peers": 1, "libp2p_pubsub_topics": 2,
		"waku_store_peers": 1, "waku_lightpush_peers": 0, "waku_service_peers": 1,
	} {
		if got, err := testutil.GatherAndCount(reg, name); err != nil || got == 0 {
			t.Errorf("%s not exported (%v)", name, err)
			continue
		}
		if got := gathered(t, reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := gathered(t, reg, "waku_streams_peers"); got < 1 {
		t.Errorf("waku_streams_peers = %v, want the open %s stream", got, echo)
	}
}

// gathered sums the gathered series of one metric.
func gathered(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}
