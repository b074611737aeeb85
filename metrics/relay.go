package metrics

import "github.com/wakunode/wakunode/relay"

// Relay returns the relay.Metrics implementation.
func (r *Registry) Relay() relay.Metrics { return relayMetrics{r} }

type relayMetrics struct{ r *Registry }

func (m relayMetrics) MessageAccepted(topic string, bytes int) {
	m.r.nodeMessages.WithLabelValues("relay").Inc()
	m.r.validationSuccess.Inc()
	m.r.networkBytes.WithLabelValues(topic, "net", relay.DirIn).Add(float64(bytes))
	m.r.messageSize.Observe(float64(bytes) / 1024)
}

func (m relayMetrics) MessageRejected(topic, reason string) {
	m.r.rejected.WithLabelValues(topic, reason).Inc()
	m.r.validationFailure.Inc()
}

func (m relayMetrics) MessageDropped(topic, reason string) {
	m.r.dropped.WithLabelValues(topic, reason).Inc()
}

func (m relayMetrics) RPCBytes(topic, direction string, bytes int) {
	m.r.networkBytes.WithLabelValues(topic, "gross", direction).Add(float64(bytes))
}

func (m relayMetrics) TopicPeers(topic string, subscribed, mesh int) {
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
