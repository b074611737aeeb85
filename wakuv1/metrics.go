package wakuv1

import (
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Drop causes, the `type` label of waku_v1_envelopes_dropped (nwaku's historic names where
// they exist: too_large, low_pow, topic_mismatch, bloom_filter_mismatch, duplicate).
const (
	DropTooLarge      = "too_large"
	DropLowPoW        = "low_pow"
	DropTopicMismatch = "topic_mismatch"
	DropBloomMismatch = "bloom_filter_mismatch"
	DropDuplicate     = "duplicate"
	DropExpired       = "expired"
	DropFuture        = "future"
	DropInvalid       = "invalid" // ttl 0, undecodable envelope
	DropRateLimited   = "rate_limited"
	DropPoolFull      = "pool_full"
	DropSubscriber    = "subscriber_full" // a local subscriber fell behind
)

// Metrics are the node's Prometheus collectors; register them with Collectors.
type Metrics struct {
	peers       prometheus.Gauge
	valid       prometheus.Counter
	dropped     *prometheus.CounterVec
	sent        prometheus.Counter
	disconnects *prometheus.CounterVec
	poolEntries prometheus.GaugeFunc
	poolBytes   prometheus.GaugeFunc

	log    *slog.Logger
	logged sync.Map // cause → struct{}: each drop cause is logged once at WARN
}

func newMetrics(p *pool, log *slog.Logger) *Metrics {
	return &Metrics{
		peers: prometheus.NewGauge(prometheus.GaugeOpts{Name: "waku_v1_peers", Help: "Connected Waku v1 peers (after the status handshake)."}),
		valid: prometheus.NewCounter(prometheus.CounterOpts{Name: "waku_v1_envelopes_valid_total", Help: "Envelopes received from v1 peers and added to the pool."}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_v1_envelopes_dropped_total",
			Help: "Envelopes received from v1 peers and dropped, by cause."}, []string{"type"}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "waku_v1_envelopes_sent_total", Help: "Envelopes sent to v1 peers."}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_v1_peer_disconnects_total",
			Help: "v1 peers we disconnected for misbehaviour, by cause."}, []string{"reason"}),
		poolEntries: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waku_v1_pool_envelopes", Help: "Envelopes in the v1 pool."},
			func() float64 { n, _ := p.size(); return float64(n) }),
		poolBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waku_v1_pool_bytes", Help: "Bytes accounted to the v1 pool."},
			func() float64 { _, b := p.size(); return float64(b) }),
		log: log,
	}
}

// Collectors lists the collectors to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.peers, m.valid, m.dropped, m.sent, m.disconnects, m.poolEntries, m.poolBytes}
}

// drop counts a dropped envelope and logs the first of each cause.
func (m *Metrics) drop(cause string, attrs ...any) {
	m.dropped.WithLabelValues(cause).Inc()
	if _, seen := m.logged.LoadOrStore(cause, struct{}{}); !seen {
		m.log.Warn("dropping v1 envelope (logged once per cause; see waku_v1_envelopes_dropped_total)", append([]any{"cause", cause}, attrs...)...)
	} else {
		m.log.Debug("dropping v1 envelope", append([]any{"cause", cause}, attrs...)...)
	}
}
