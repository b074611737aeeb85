package metrics

import (
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The store-sync events land in nwaku's series (spec/store-sync.md §10), registered once.
func TestStoreSyncMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := New(reg, "v")
	m := r.StoreSync()
	m.Roundtrips(3)
	m.Differences(42)
	m.Bytes("reconciliation", "sent", 100)
	m.Bytes("reconciliation", "sent", 20)
	m.Bytes("transfer", "receive", 7)
	m.TransferMessage("receive")
	m.TransferMessage("receive")
	m.Cached(9)
	r.StoreSync().Dropped("invalid") // a second call shares the collectors

	s := &r.sync
	for _, c := range []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"bytes sent", s.bytes.WithLabelValues("reconciliation", "sent"), 120},
		{"bytes received", s.bytes.WithLabelValues("transfer", "receive"), 7},
		{"transfers", s.transfers.WithLabelValues("receive"), 2},
		{"cached", s.cached, 9},
		{"dropped", s.dropped.WithLabelValues("invalid"), 1},
	} {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
		if mf.GetName() == "reconciliation_differences" {
			h := mf.GetMetric()[0].GetHistogram()
			if h.GetSampleCount() != 1 || h.GetSampleSum() != 42 || len(h.GetBucket()) != 7 || h.GetBucket()[2].GetCumulativeCount() != 1 {
				t.Errorf("differences histogram %v", h)
			}
		}
	}
	for _, want := range []string{"reconciliation_roundtrips", "reconciliation_differences", "total_bytes_exchanged_total",
		"total_transfer_messages_exchanged_total", "total_messages_cached", "waku_store_sync_dropped_total"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s not exported (have %v)", want, names)
		}
	}
}
