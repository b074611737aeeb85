package metrics

import (
	"strconv"

	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wakunode/wakunode/peerexchange"
)

// discoveryMetrics are nwaku's peer exchange, discv5 and DNS discovery collectors and
// waku_node_errors. nwaku declares them whether or not the protocol runs, so they are
// registered with the node: a dashboard shows zeros rather than gaps.
type discoveryMetrics struct {
	pxReceived, pxUnknown prometheus.Gauge
	pxSent                prometheus.Counter
	pxErrors              *prometheus.CounterVec
	discv5Discovered      prometheus.Gauge
	discv5Errors          *prometheus.CounterVec
	dnsDiscovered         prometheus.Gauge
	dnsErrors             *prometheus.CounterVec
	nodeErrors            *prometheus.CounterVec
}

func (r *Registry) registerDiscovery() {
	d := &r.disc
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		r.reg.MustRegister(g)
		return g
	}
	// nwaku's names: waku_px_peers_received_total is a gauge despite its suffix.
	d.pxReceived = gauge("waku_px_peers_received_total", "Peers in the last peer exchange answer received.")
	d.pxUnknown = gauge("waku_px_peers_received_unknown", "Peers in the last peer exchange answer not in the peer store before.")
	d.pxSent = prometheus.NewCounter(prometheus.CounterOpts{Name: "waku_px_peers_sent_total", Help: "Peers sent in peer exchange answers."})
	r.reg.MustRegister(d.pxSent)
	d.pxErrors = r.counterVec("waku_px_errors_total", "Peer exchange errors by type: answers sent with an error status (status_<code>), failed requests of ours (request_failure).", "type")
	d.discv5Discovered = gauge("waku_discv5_discovered", "Usable nodes found by the discv5 random walk.")
	d.discv5Errors = r.counterVec("waku_discv5_errors_total", "Discv5 errors by type (invalid_record: a record found with no waku capability, address or our cluster).", "type")
	d.dnsDiscovered = gauge("waku_dnsdisc_discovered", "Nodes found by DNS discovery.")
	d.dnsErrors = r.counterVec("waku_dnsdisc_errors_total", "DNS discovery errors by type.", "type")
	d.nodeErrors = r.counterVec("waku_node_errors_total", "Node errors by type.", "type")
}

// NodeError counts one node error of the given type (waku_node_errors_total).
func (r *Registry) NodeError(kind string) { r.disc.nodeErrors.WithLabelValues(kind).Inc() }

// PeerExchange returns the peerexchange.Metrics implementation of the responder.
func (r *Registry) PeerExchange() pxServiceMetrics { return pxServiceMetrics{&r.disc} }

type pxServiceMetrics struct{ d *discoveryMetrics }

func (m pxServiceMetrics) Request(status uint32, peersSent int) {
	m.d.pxSent.Add(float64(peersSent))
	if status != 200 {
		m.d.pxErrors.WithLabelValues("status_" + strconv.Itoa(int(status))).Inc()
	}
}

// PeerExchangeClient returns the discovery.PeerExchangeMetrics implementation; ps tells which
// received peers were unknown.
func (r *Registry) PeerExchangeClient(ps peerstore.Peerstore) pxClientMetrics {
	return pxClientMetrics{&r.disc, ps}
}

type pxClientMetrics struct {
	d  *discoveryMetrics
	ps peerstore.Peerstore
}

func (m pxClientMetrics) Received(got []peerexchange.Peer) {
	unknown := 0
	for _, p := range got {
		if len(m.ps.Addrs(p.Info.PeerID)) == 0 {
			unknown++
		}
	}
	m.d.pxReceived.Set(float64(len(got)))
	m.d.pxUnknown.Set(float64(unknown))
}
func (m pxClientMetrics) Failed() { m.d.pxErrors.WithLabelValues("request_failure").Inc() }

// Discv5 returns the discv5.Metrics implementation.
func (r *Registry) Discv5() discv5Metrics { return discv5Metrics{&r.disc} }

type discv5Metrics struct{ d *discoveryMetrics }

func (m discv5Metrics) NodeSeen(accepted bool) {
	if accepted {
		m.d.discv5Discovered.Inc()
	} else {
		m.d.discv5Errors.WithLabelValues("invalid_record").Inc()
	}
}

// DNS returns the discovery.DNSMetrics implementation.
func (r *Registry) DNS() dnsMetrics { return dnsMetrics{&r.disc} }

type dnsMetrics struct{ d *discoveryMetrics }

func (m dnsMetrics) Discovered(nodes int) { m.d.dnsDiscovered.Add(float64(nodes)) }
func (m dnsMetrics) Failed()              { m.d.dnsErrors.WithLabelValues("sync_failure").Inc() }
