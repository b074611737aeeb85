package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LogInterval is how often --metrics-logging logs, as nwaku does.
const LogInterval = 30 * time.Second

// loggedMetrics are the key figures --metrics-logging prints: log key and metric name. Each
// is summed over its label sets; one the node does not export (a service that is off) is left
// out of the line.
var loggedMetrics = []struct{ key, name string }{
	{"peers", "libp2p_peers"},
	{"relayPeers", "libp2p_pubsub_peers"},
	{"topics", "libp2p_pubsub_topics"},
	{"messages", "waku_node_messages_total"},
	{"rejected", "waku_relay_rejected_messages_total"},
	{"dropped", "waku_relay_dropped_messages_total"},
	{"archived", "waku_archive_messages_inserted_total"},
	{"storeQueries", "waku_store_queries_total"},
	{"filterSubscriptions", "waku_filter_subscriptions"},
	{"lightpushRequests", "waku_lightpush_messages_total"},
	{"lightpushV3Requests", "waku_lightpush_v3_messages_total"},
	{"storePeers", "waku_store_peers"},
	{"filterPeers", "waku_filter_peers"},
	{"lightpushPeers", "waku_lightpush_peers"},
	{"pxPeers", "waku_px_peers"},
}

// StartLogging logs the key metrics gathered from g every interval (nwaku's --metrics-logging)
// on a goroutine that stop ends and waits for.
func StartLogging(g prometheus.Gatherer, log *slog.Logger, interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				LogOnce(g, log)
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// LogOnce logs one line of key metrics.
func LogOnce(g prometheus.Gatherer, log *slog.Logger) {
	mfs, err := g.Gather()
	if err != nil {
		log.Warn("gather metrics", "err", err)
		// Gather returns what it could collect; log that.
	}
	sums := make(map[string]float64, len(mfs))
	for _, mf := range mfs {
		var sum float64
		for _, m := range mf.GetMetric() {
			// one of the three is set; the getters of the others return 0
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
		}
		sums[mf.GetName()] = sum
	}
	attrs := make([]any, 0, 2*len(loggedMetrics))
	for _, lm := range loggedMetrics {
		if v, ok := sums[lm.name]; ok {
			attrs = append(attrs, lm.key, v)
		}
	}
	log.Info("metrics", attrs...)
}
