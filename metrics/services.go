package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// services holds the collectors of the service protocols, registered on first use (once) so a
// node without them exports nothing for them.
type services struct {
	filterOnce, lightpushOnce, archiveOnce, storeOnce sync.Once

	filterRequests, filterErrors, lightpushRequests, lightpushErrors *prometheus.CounterVec
	filterPushes                                                     prometheus.Counter
	filterSubscriptions                                              prometheus.Gauge
	archiveMessages                                                  prometheus.Counter
	archiveErrors                                                    *prometheus.CounterVec
	archiveQuery                                                     prometheus.Histogram
	storeQueries                                                     *prometheus.CounterVec
	storeDuration                                                    prometheus.Histogram
}

func (r *Registry) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	r.reg.MustRegister(c)
	return c
}

// Filter returns the filter.Metrics implementation (nwaku names).
func (r *Registry) Filter() filterMetrics {
	s := &r.svc
	s.filterOnce.Do(func() {
		s.filterRequests = r.counterVec("waku_filter_requests_total", "Filter subscribe-protocol requests by type.", "type")
		s.filterErrors = r.counterVec("waku_filter_errors_total", "Filter errors by type.", "type")
		s.filterPushes = prometheus.NewCounter(prometheus.CounterOpts{Name: "waku_filter_messages_pushed_total", Help: "Messages pushed to filter subscribers."})
		s.filterSubscriptions = prometheus.NewGauge(prometheus.GaugeOpts{Name: "waku_filter_subscriptions", Help: "Peers with filter subscriptions."})
		r.reg.MustRegister(s.filterPushes, s.filterSubscriptions)
	})
	return filterMetrics{s}
}

type filterMetrics struct{ s *services }

func (m filterMetrics) Request(kind string, status uint32) {
	m.s.filterRequests.WithLabelValues(kind).Inc()
	if status != 200 {
		m.s.filterErrors.WithLabelValues("status_" + strconv.Itoa(int(status))).Inc()
	}
}
func (m filterMetrics) Pushed() { m.s.filterPushes.Inc() }
func (m filterMetrics) PushDropped(reason string) {
	m.s.filterErrors.WithLabelValues("push_" + reason).Inc()
}
func (m filterMetrics) SubscriberDropped(reason string) {
	m.s.filterErrors.WithLabelValues("subscriber_" + reason).Inc()
}
func (m filterMetrics) Subscribers(n int) { m.s.filterSubscriptions.Set(float64(n)) }

// Lightpush returns the lightpush.Metrics implementation.
func (r *Registry) Lightpush() lightpushMetrics {
	s := &r.svc
	s.lightpushOnce.Do(func() {
		s.lightpushRequests = r.counterVec("waku_lightpush_messages_total", "Lightpush requests by protocol version.", "type")
		s.lightpushErrors = r.counterVec("waku_lightpush_errors_total", "Lightpush requests answered with an error, by status.", "type")
	})
	return lightpushMetrics{s}
}

type lightpushMetrics struct{ s *services }

func (m lightpushMetrics) Request(version string, status uint32) {
	m.s.lightpushRequests.WithLabelValues(version).Inc()
	if status != 200 {
		m.s.lightpushErrors.WithLabelValues(strconv.Itoa(int(status))).Inc()
	}
}

// Archive returns the archive.Metrics implementation.
func (r *Registry) Archive() archiveMetrics {
	s := &r.svc
	s.archiveOnce.Do(func() {
		s.archiveMessages = prometheus.NewCounter(prometheus.CounterOpts{Name: "waku_archive_messages_inserted_total", Help: "Messages written to the archive."})
		s.archiveErrors = r.counterVec("waku_archive_errors_total", "Archive errors and refusals by type.", "type")
		s.archiveQuery = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "waku_archive_query_duration_seconds", Help: "Archive query time.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)})
		r.reg.MustRegister(s.archiveMessages, s.archiveQuery)
	})
	return archiveMetrics{s}
}

type archiveMetrics struct{ s *services }

func (m archiveMetrics) Inserted(rows, _ int)  { m.s.archiveMessages.Add(float64(rows)) }
func (m archiveMetrics) Dropped(reason string) { m.s.archiveErrors.WithLabelValues(reason).Inc() }
func (m archiveMetrics) WriteError()           { m.s.archiveErrors.WithLabelValues("write").Inc() }
func (m archiveMetrics) Pruned(int64)          {}
func (m archiveMetrics) Query(d time.Duration, err error) {
	m.s.archiveQuery.Observe(d.Seconds())
	if err != nil {
		m.s.archiveErrors.WithLabelValues("query").Inc()
	}
}

// Store returns the store.Metrics implementation.
func (r *Registry) Store() storeMetrics {
	s := &r.svc
	s.storeOnce.Do(func() {
		s.storeQueries = r.counterVec("waku_store_queries_total", "Store queries answered, by protocol and status.", "protocol", "status")
		s.storeDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "waku_store_query_duration_seconds", Help: "Time to answer a store query.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)})
		r.reg.MustRegister(s.storeDuration)
	})
	return storeMetrics{s}
}

type storeMetrics struct{ s *services }

func (m storeMetrics) Request(protocol string, status uint32, d time.Duration) {
	m.s.storeQueries.WithLabelValues(protocol, strconv.Itoa(int(status))).Inc()
	m.s.storeDuration.Observe(d.Seconds())
}
