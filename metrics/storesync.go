package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wakunode/wakunode/storesync"
)

// storeSync holds the store-sync collectors under nwaku's names (waku_store_sync's
// protocols_metrics; counters carry the _total suffix as our other nwaku counters do), plus
// our refusal counter, which nwaku does not have.
type storeSync struct {
	once                    sync.Once
	roundtrips, differences prometheus.Histogram
	bytes, transfers        *prometheus.CounterVec
	cached                  prometheus.Gauge
	dropped                 *prometheus.CounterVec
}

// StoreSync returns the storesync.Metrics implementation, registered on first use.
func (r *Registry) StoreSync() storesync.Metrics {
	s := &r.sync
	s.once.Do(func() {
		s.roundtrips = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "reconciliation_roundtrips",
			Help: "Frames received per finished reconciliation session.", Buckets: []float64{1, 2, 3, 5, 8, 13}})
		s.differences = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "reconciliation_differences",
			Help: "Messages one side lacked per finished reconciliation session.", Buckets: []float64{0, 10, 50, 100, 500, 1000, 5000}})
		s.cached = prometheus.NewGauge(prometheus.GaugeOpts{Name: "total_messages_cached", Help: "Message IDs in the store-sync index."})
		r.reg.MustRegister(s.roundtrips, s.differences, s.cached)
		s.bytes = r.counterVec("total_bytes_exchanged_total", "Store-sync frame bytes by protocol (reconciliation, transfer) and direction.", "protocol", "direction")
		s.transfers = r.counterVec("total_transfer_messages_exchanged_total", "Messages pushed (sent) or taken (receive) by store-sync transfer.", "direction")
		s.dropped = r.counterVec("waku_store_sync_dropped_total", "Store-sync refusals by cause (not an nwaku metric).", "type")
	})
	return storeSyncMetrics{s}
}

type storeSyncMetrics struct{ s *storeSync }

func (m storeSyncMetrics) Roundtrips(frames int) { m.s.roundtrips.Observe(float64(frames)) }
func (m storeSyncMetrics) Differences(n int)     { m.s.differences.Observe(float64(n)) }
func (m storeSyncMetrics) Bytes(protocol, direction string, n int) {
	m.s.bytes.WithLabelValues(protocol, direction).Add(float64(n))
}
func (m storeSyncMetrics) TransferMessage(direction string) {
	m.s.transfers.WithLabelValues(direction).Inc()
}
func (m storeSyncMetrics) Cached(n int)          { m.s.cached.Set(float64(n)) }
func (m storeSyncMetrics) Dropped(reason string) { m.s.dropped.WithLabelValues(reason).Inc() }
