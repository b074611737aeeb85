package bridge

import (
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values of waku_bridge_transfers{type} and waku_bridge_dropped{type}. duplicate and
// value_error are nwaku's; the others name causes nwaku did not count.
const (
	TransferV1ToV2 = "v1_to_v2"
	TransferV2ToV1 = "v2_to_v1"

	DropDuplicate  = "duplicate"
	DropValueError = "value_error"   // a /waku/1/ content topic that names no 4-byte topic
	DropExpired    = "expired"       // the envelope expired before it could be published
	DropPublish    = "publish_error" // the v2 node refused the message (size, meta, topic)
	DropQueueFull  = "queue_full"    // v2 → v1 work queue full (PoW backlog)
	DropPoW        = "pow_error"     // the PoW target cannot be reached
	DropInvalid    = "invalid"       // the v1 node refused the envelope
)

// Metrics are the bridge's Prometheus collectors.
type Metrics struct {
	transfers *prometheus.CounterVec
	dropped   *prometheus.CounterVec
	log       *slog.Logger
	logged    sync.Map
}

func newMetrics(log *slog.Logger) *Metrics {
	return &Metrics{
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_bridge_transfers",
			Help: "Messages bridged, by direction."}, []string{"type"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_bridge_dropped",
			Help: "Messages not bridged, by cause."}, []string{"type"}),
		log: log,
	}
}

// Collectors lists the collectors to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.transfers, m.dropped}
}

func (m *Metrics) drop(cause string, attrs ...any) {
	m.dropped.WithLabelValues(cause).Inc()
	if cause == DropDuplicate {
		return // routine with several bridges; counted only
	}
	if _, seen := m.logged.LoadOrStore(cause, struct{}{}); !seen {
		m.log.Warn("bridge dropped a message (logged once per cause; see waku_bridge_dropped)", append([]any{"cause", cause}, attrs...)...)
	} else {
		m.log.Debug("bridge dropped a message", append([]any{"cause", cause}, attrs...)...)
	}
}
