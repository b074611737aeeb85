package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wakunode/wakunode/relay"
)

// Relay returns the relay.Metrics implementation.
func (r *Registry) Relay() relay.Metrics {
	return &relayMetrics{r: r, accepted: r.nodeMessages.WithLabelValues("relay")}
}

// relayMetrics keeps the children of its per-topic byte counters: WithLabelValues hashes
// the labels and takes the vector's lock on every call, and relay counts several times per
// message. relay reports only topics it serves (a bounded set), so the cache is bounded too.
// Children are made on first use, as WithLabelValues would: no series appears earlier.
type relayMetrics struct {
	r        *Registry
	accepted prometheus.Counter
	bytes    sync.Map // byteKey → prometheus.Counter
}

type byteKey struct{ topic, typ, dir string }

func (m *relayMetrics) addBytes(topic, typ, dir string, n int) {
	k := byteKey{topic, typ, dir}
	c, ok := m.bytes.Load(k)
	if !ok {
		c, _ = m.bytes.LoadOrStore(k, m.r.networkBytes.WithLabelValues(topic, typ, dir))
	}
	c.(prometheus.Counter).Add(float64(n))
}

func (m *relayMetrics) MessageAccepted(topic string, bytes int) {
	m.accepted.Inc()
	m.r.validationSuccess.Inc()
	m.addBytes(topic, "net", relay.DirIn, bytes)
	m.r.messageSize.Observe(float64(bytes) / 1024)
}

func (m *relayMetrics) MessageRejected(topic, reason string) {
	m.r.rejected.WithLabelValues(topic, reason).Inc()
	m.r.validationFailure.Inc()
}

func (m *relayMetrics) MessageDropped(topic, reason string) {
	m.r.dropped.WithLabelValues(topic, reason).Inc()
}

func (m *relayMetrics) RPCBytes(topic, direction string, bytes int) {
	m.addBytes(topic, "gross", direction, bytes)
}

func (m *relayMetrics) TopicPeers(topic string, subscribed, mesh int) {
	s := shardLabel(topic)
	m.r.peersPerShard.WithLabelValues(s).Set(float64(subscribed))
	m.r.meshPerShard.WithLabelValues(s).Set(float64(mesh))
}

// Peers returns the peers.Metrics implementation.
func (r *Registry) Peers() peerMetrics { return peerMetrics{r} }

type peerMetrics struct{ r *Registry }

func (m peerMetrics) PeerRejected(reason string) { m.r.peerErrors.WithLabelValues("rejected").Inc() }

// DialResult counts a dial under nwaku's waku_peers_dials{outcome} and nim-libp2p's dial
// counters (the peer manager is the only code that dials).
func (m peerMetrics) DialResult(ok bool) {
	m.r.dialAttempts.Inc()
	if ok {
		m.r.dials.WithLabelValues("successful").Inc()
		m.r.dialsOK.Inc()
	} else {
		m.r.dials.WithLabelValues("failed").Inc()
		m.r.dialsFailed.Inc()
	}
}
