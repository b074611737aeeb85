// Package testmetrics reads gathered Prometheus series in tests.
package testmetrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Series returns the series of the metric name, each as its labels and its sample.
func Series(tb testing.TB, g prometheus.Gatherer, name string) map[*dto.Metric]map[string]string {
	tb.Helper()
	mfs, err := g.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[*dto.Metric]map[string]string{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[m] = labels
		}
	}
	return out
}

// Counter is the value of the first series of counter name whose labels include want (0 if
// there is none).
func Counter(tb testing.TB, g prometheus.Gatherer, name string, want map[string]string) float64 {
	tb.Helper()
	for m, labels := range Series(tb, g, name) {
		if matches(labels, want) {
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func matches(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}
