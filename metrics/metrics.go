// Package metrics implements the protocol packages' small Metrics interfaces with Prometheus
// collectors under nwaku's names (spec/metrics.md). It registers collectors only; serving
// /metrics over HTTP is the command's job.
package metrics

import (
	"strconv"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wakunode/wakunode/message"
)

// Registry holds the node's collectors.
type Registry struct {
	reg  prometheus.Registerer
	disc discoveryMetrics // discovery.go

	nodeMessages  *prometheus.CounterVec
	networkBytes  *prometheus.CounterVec
	messageSize   prometheus.Histogram
	rejected      *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	peersPerShard *prometheus.GaugeVec
	meshPerShard  *prometheus.GaugeVec
	dials         *prometheus.CounterVec
	peerErrors    *prometheus.CounterVec
	svc           services
	sync          storeSync

	// nim-libp2p's names, which nwaku dashboards read
	validationSuccess, validationFailure prometheus.Counter
	dialAttempts, dialsOK, dialsFailed   prometheus.Counter
}

// New registers the node's collectors, Go runtime and process collectors on reg.
func New(reg prometheus.Registerer, version string) *Registry {
	f := func(c prometheus.Collector) prometheus.Collector { reg.MustRegister(c); return c }
	r := &Registry{reg: reg}
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "waku_version", Help: "Version of the node software (value 1)."}, []string{"version"})
	f(v)
	v.WithLabelValues(version).Set(1)
	r.nodeMessages = f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_node_messages_total", Help: "Messages accepted, by type."}, []string{"type"})).(*prometheus.CounterVec)
	r.networkBytes = f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_relay_network_bytes_total", Help: "Relay traffic in bytes: gross = gossip RPC frames incl. duplicates and control, net = accepted messages."}, []string{"topic", "type", "direction"})).(*prometheus.CounterVec)
	r.messageSize = f(prometheus.NewHistogram(prometheus.HistogramOpts{Name: "waku_histogram_message_size", Help: "Size of accepted messages in kB.", Buckets: []float64{0, 1, 5, 15, 50, 75, 100, 125, 150, 300, 700, 1000}})).(prometheus.Histogram)
	r.rejected = f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_relay_rejected_messages_total", Help: "Relay messages rejected by validation, by reason."}, []string{"topic", "reason"})).(*prometheus.CounterVec)
	r.dropped = f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_relay_dropped_messages_total", Help: "Relay messages or RPCs lost to back-pressure, by reason."}, []string{"topic", "reason"})).(*prometheus.CounterVec)
	r.peersPerShard = f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "waku_connected_peers_per_shard", Help: "Connected peers subscribed to each shard."}, []string{"shard"})).(*prometheus.GaugeVec)
	r.meshPerShard = f(prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "waku_relay_mesh_peers_per_shard", Help: "Gossipsub mesh size of each shard."}, []string{"shard"})).(*prometheus.GaugeVec)
	r.dials = f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_peers_dials_total", Help: "Peer dial outcomes."}, []string{"outcome"})).(*prometheus.CounterVec)
	r.peerErrors = f(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_peers_errors_total", Help: "Peers rejected or failed, by type."}, []string{"type"})).(*prometheus.CounterVec)
	counter := func(name, help string) prometheus.Counter {
		return f(prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})).(prometheus.Counter)
	}
	r.validationSuccess = counter("libp2p_pubsub_validation_success_total", "Relay messages that passed validation (accepted).")
	r.validationFailure = counter("libp2p_pubsub_validation_failure_total", "Relay messages that failed validation (rejected).")
	r.dialAttempts = counter("libp2p_total_dial_attempts_total", "Dials by the peer manager.")
	r.dialsOK = counter("libp2p_successful_dials_total", "Successful dials by the peer manager.")
	r.dialsFailed = counter("libp2p_failed_dials_total", "Failed dials by the peer manager.")
	r.registerDiscovery()
	return r
}

// NewWithRuntime is New on a fresh registry that also exports Go runtime and process metrics.
func NewWithRuntime(version string) (*prometheus.Registry, *Registry) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg, New(reg, version)
}

// shardLabel turns /waku/2/rs/<c>/<s> into "<s>"; other topics keep their name.
func shardLabel(topic string) string {
	if s, err := message.ParseShard(topic); err == nil {
		return strconv.Itoa(int(s.Index))
	}
	return topic
}

// WatchHost exports connection counts read from h at scrape time.
func (r *Registry) WatchHost(h host.Host) {
	r.reg.MustRegister(&hostCollector{h: h,
		connected: prometheus.NewDesc("waku_connected_peers", "Connected peers by direction and protocol.", []string{"direction", "protocol"}, nil),
		store:     prometheus.NewDesc("waku_peer_store_size", "Peers in the peer store.", nil, nil),
	})
}

type hostCollector struct {
	h                host.Host
	connected, store *prometheus.Desc
}

func (c *hostCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.connected; ch <- c.store }

func (c *hostCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ dir, proto string }
	counts := map[key]int{}
	for _, p := range c.h.Network().Peers() {
		conns := c.h.Network().ConnsToPeer(p)
		if len(conns) == 0 {
			continue
		}
		dir := "in"
		if conns[0].Stat().Direction == network.DirOutbound {
			dir = "out"
		}
		protos, _ := c.h.Peerstore().GetProtocols(p)
		for _, pr := range protos {
			counts[key{dir, string(pr)}]++
		}
		counts[key{dir, "all"}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, float64(n), k.dir, k.proto)
	}
	ch <- prometheus.MustNewConstMetric(c.store, prometheus.GaugeValue, float64(len(c.h.Peerstore().Peers())))
}
