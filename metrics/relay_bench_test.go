package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wakunode/wakunode/relay"
)

// BenchmarkRelayMessage is the metrics work relay's tracer does for one message forwarded
// to one peer: its bytes in and out (message and frame overhead) and its acceptance.
func BenchmarkRelayMessage(b *testing.B) {
	m := New(prometheus.NewRegistry(), "bench").Relay()
	const topic = "/waku/2/rs/1/3"
	b.ReportAllocs()
	for b.Loop() {
		m.RPCBytes(topic, relay.DirIn, 1100)
		m.RPCBytes("", relay.DirIn, 20)
		m.MessageAccepted(topic, 1100)
		m.RPCBytes(topic, relay.DirOut, 1100)
		m.RPCBytes("", relay.DirOut, 20)
	}
}
