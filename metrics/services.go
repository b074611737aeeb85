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

	filterRequests, filterErrors *prometheus.CounterVec
	filterDuration               *prometheus.HistogramVec
	filterPushes                 prometheus.Counter
	filterSubscriptions          prometheus.Gauge
	lightpush, lightpushV3       requestCounters
	archiveMessages              prometheus.Counter
	archiveStored                prometheus.Gauge
	archiveInsert                prometheus.Histogram
	archiveErrors                *prometheus.CounterVec
	archiveQuery                 prometheus.Histogram
	storeQueries, legacyQueries  prometheus.Counter
	storeErrors, legacyErrors    *prometheus.CounterVec
	storeDuration                prometheus.Histogram
}

// requestCounters are nwaku's pair for one protocol version: requests by type, errors by type.
type requestCounters struct{ requests, errors *prometheus.CounterVec }

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
		s.filterDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "waku_filter_request_duration_seconds", Help: "Time to handle a filter subscribe-protocol request, by type.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"type"})
		r.reg.MustRegister(s.filterDuration)
		s.filterPushes = prometheus.NewCounter(prometheus.CounterOpts{Name: "waku_filter_messages_pushed_total", Help: "Messages pushed to filter subscribers."})
		s.filterSubscriptions = prometheus.NewGauge(prometheus.GaugeOpts{Name: "waku_filter_subscriptions", Help: "Peers with filter subscriptions."})
		r.reg.MustRegister(s.filterPushes, s.filterSubscriptions)
	})
	return filterMetrics{s}
}

type filterMetrics struct{ s *services }

func (m filterMetrics) Request(kind string, status uint32, d time.Duration) {
	m.s.filterRequests.WithLabelValues(kind).Inc()
	if kind != "invalid" { // refused undecoded: nothing was handled
		m.s.filterDuration.WithLabelValues(kind).Observe(d.Seconds())
	}
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

// Lightpush returns the lightpush.Metrics implementation: v2 requests under nwaku's
// waku_lightpush_*, v3 under waku_lightpush_v3_*; errors by the status answered.
func (r *Registry) Lightpush() lightpushMetrics {
	s := &r.svc
	s.lightpushOnce.Do(func() {
		s.lightpush = requestCounters{
			r.counterVec("waku_lightpush_messages_total", "Lightpush v2 requests.", "type"),
			r.counterVec("waku_lightpush_errors_total", "Lightpush v2 requests answered with an error, by status.", "type")}
		s.lightpushV3 = requestCounters{
			r.counterVec("waku_lightpush_v3_messages_total", "Lightpush v3 requests.", "type"),
			r.counterVec("waku_lightpush_v3_errors_total", "Lightpush v3 requests answered with an error, by status.", "type")}
	})
	return lightpushMetrics{s}
}

type lightpushMetrics struct{ s *services }

func (m lightpushMetrics) Request(version string, status uint32) {
	c := m.s.lightpushV3
	if version != "v3" {
		c = m.s.lightpush
	}
	c.requests.WithLabelValues("PushRequest").Inc()
	if status != 200 {
		c.errors.WithLabelValues(strconv.Itoa(int(status))).Inc()
	}
}

// Archive returns the archive.Metrics implementation.
func (r *Registry) Archive() archiveMetrics {
	s := &r.svc
	s.archiveOnce.Do(func() {
		s.archiveMessages = prometheus.NewCounter(prometheus.CounterOpts{Name: "waku_archive_messages_inserted_total", Help: "Messages written to the archive."})
		s.archiveErrors = r.counterVec("waku_archive_errors_total", "Archive errors and refusals by type.", "type")
		s.archiveQuery = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "waku_archive_query_duration_seconds", Help: "Archive query time.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)})
		s.archiveStored = prometheus.NewGauge(prometheus.GaugeOpts{Name: "waku_archive_messages", Help: "Messages in the archive.", ConstLabels: prometheus.Labels{"type": "stored"}})
		s.archiveInsert = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "waku_archive_insert_duration_seconds", Help: "Time to write one batch to the archive.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)})
		r.reg.MustRegister(s.archiveMessages, s.archiveQuery, s.archiveStored, s.archiveInsert)
	})
	return archiveMetrics{s}
}

type archiveMetrics struct{ s *services }

func (m archiveMetrics) Inserted(rows, _ int, d time.Duration) {
	m.s.archiveMessages.Add(float64(rows))
	m.s.archiveStored.Add(float64(rows))
	m.s.archiveInsert.Observe(d.Seconds())
}
func (m archiveMetrics) Stored(n int64)        { m.s.archiveStored.Set(float64(n)) }
func (m archiveMetrics) Dropped(reason string) { m.s.archiveErrors.WithLabelValues(reason).Inc() }
func (m archiveMetrics) WriteError()           { m.s.archiveErrors.WithLabelValues("write").Inc() }
func (m archiveMetrics) Pruned(n int64)        { m.s.archiveStored.Sub(float64(n)) }
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
		s.storeQueries = prometheus.NewCounter(prometheus.CounterOpts{Name: "waku_store_queries_total", Help: "Store v3 queries answered."})
		s.legacyQueries = prometheus.NewCounter(prometheus.CounterOpts{Name: "waku_legacy_store_queries_total", Help: "Legacy store v2 queries answered."})
		s.storeErrors = r.counterVec("waku_store_errors_total", "Store v3 queries answered with an error, by status.", "type")
		s.legacyErrors = r.counterVec("waku_legacy_store_errors_total", "Legacy store v2 queries answered with an error, by status.", "type")
		s.storeDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "waku_store_query_duration_seconds", Help: "Time to answer a store query (v3 and legacy).", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)})
		r.reg.MustRegister(s.storeQueries, s.legacyQueries, s.storeDuration)
	})
	return storeMetrics{s}
}

type storeMetrics struct{ s *services }

// Request counts a query under nwaku's names: waku_store_* for v3, waku_legacy_store_* for v2.
func (m storeMetrics) Request(protocol string, status uint32, d time.Duration) {
	queries, errs := m.s.storeQueries, m.s.storeErrors
	if protocol != "v3" {
		queries, errs = m.s.legacyQueries, m.s.legacyErrors
	}
	queries.Inc()
	if status != 200 {
		errs.WithLabelValues(strconv.Itoa(int(status))).Inc()
	}
	m.s.storeDuration.Observe(d.Seconds())
}
