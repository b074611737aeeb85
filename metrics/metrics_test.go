package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRelayAndServiceMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := New(reg, "v1.2.3")
	rm := r.Relay()
	rm.MessageAccepted("/waku/2/rs/1/3", 2048)
	rm.MessageAccepted("/waku/2/rs/1/3", 1024)
	rm.MessageRejected("/waku/2/rs/1/3", "timestamp_drift")
	rm.MessageDropped("/waku/2/rs/1/3", "outbound_queue_full")
	rm.RPCBytes("/waku/2/rs/1/3", "in", 5000)
	rm.TopicPeers("/waku/2/rs/1/3", 7, 4)
	r.Filter().Request("SUBSCRIBE", 200, time.Millisecond)
	r.Filter().Request("SUBSCRIBE", 503, time.Millisecond)
	r.Lightpush().Request("v3", 421)
	r.Lightpush().Request("v2", 200)
	r.Store().Request("v3", 200, time.Millisecond)
	r.Store().Request("v3", 429, time.Millisecond)
	r.Store().Request("legacy", 200, time.Millisecond)
	r.Peers().DialResult(true)
	r.Peers().DialResult(false)
	a := r.Archive()
	a.Stored(100)
	a.Inserted(10, 10, time.Millisecond)
	a.Pruned(4)
	a.Dropped("ephemeral")
	r.PeerExchange().Request(200, 5)
	r.PeerExchange().Request(429, 0)
	r.Discv5().NodeSeen(true)
	r.Discv5().NodeSeen(false)
	r.DNS().Discovered(3)
	r.DNS().Failed()
	r.NodeError("test")

	for _, c := range []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"accepted", r.nodeMessages.WithLabelValues("relay"), 2},
		{"net bytes", r.networkBytes.WithLabelValues("/waku/2/rs/1/3", "net", "in"), 3072},
		{"gross bytes", r.networkBytes.WithLabelValues("/waku/2/rs/1/3", "gross", "in"), 5000},
		{"rejected", r.rejected.WithLabelValues("/waku/2/rs/1/3", "timestamp_drift"), 1},
		{"dropped", r.dropped.WithLabelValues("/waku/2/rs/1/3", "outbound_queue_full"), 1},
		{"peers per shard", r.peersPerShard.WithLabelValues("3"), 7},
		{"mesh per shard", r.meshPerShard.WithLabelValues("3"), 4},
		{"filter requests", r.svc.filterRequests.WithLabelValues("SUBSCRIBE"), 2},
		{"filter errors", r.svc.filterErrors.WithLabelValues("status_503"), 1},
		{"lightpush v3 requests", r.svc.lightpushV3.requests.WithLabelValues("PushRequest"), 1},
		{"lightpush v3 errors", r.svc.lightpushV3.errors.WithLabelValues("421"), 1},
		{"lightpush v2 requests", r.svc.lightpush.requests.WithLabelValues("PushRequest"), 1},
		{"store v3 queries", r.svc.storeQueries, 2},
		{"store v3 errors", r.svc.storeErrors.WithLabelValues("429"), 1},
		{"legacy store queries", r.svc.legacyQueries, 1},
		{"validation success", r.validationSuccess, 2},
		{"validation failure", r.validationFailure, 1},
		{"dial attempts", r.dialAttempts, 2},
		{"dials ok", r.dialsOK, 1},
		{"dials failed", r.dialsFailed, 1},
		{"archive inserted", r.svc.archiveMessages, 10},
		{"archive refused", r.svc.archiveErrors.WithLabelValues("ephemeral"), 1},
		{"archive stored", r.svc.archiveStored, 106},
		{"px peers sent", r.disc.pxSent, 5},
		{"px errors", r.disc.pxErrors.WithLabelValues("status_429"), 1},
		{"discv5 discovered", r.disc.discv5Discovered, 1},
		{"discv5 errors", r.disc.discv5Errors.WithLabelValues("invalid_record"), 1},
		{"dns discovered", r.disc.dnsDiscovered, 3},
		{"dns errors", r.disc.dnsErrors.WithLabelValues("sync_failure"), 1},
		{"node errors", r.disc.nodeErrors.WithLabelValues("test"), 1},
	} {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	// The exported names are nwaku's where spec/metrics.md gives them.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	all := strings.Join(names, " ")
	for _, want := range []string{"waku_version", "waku_node_messages_total", "waku_relay_network_bytes_total", "waku_histogram_message_size",
		"waku_connected_peers_per_shard", "waku_filter_requests_total", "waku_lightpush_messages_total", "waku_store_queries_total", "waku_archive_errors_total",
		"waku_archive_messages", "waku_archive_insert_duration_seconds", "waku_archive_query_duration_seconds", "waku_filter_request_duration_seconds",
		"waku_px_peers_sent_total", "waku_px_errors_total", "waku_discv5_discovered", "waku_discv5_errors_total", "waku_dnsdisc_discovered",
		"waku_dnsdisc_errors_total", "waku_node_errors_total"} {
		if !strings.Contains(all, want) {
			t.Errorf("metric %s not exported (have %s)", want, all)
		}
	}
}

// The archive gauge carries nwaku's type="stored" label and the filter histogram its type.
func TestArchiveAndFilterLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := New(reg, "v")
	r.Archive().Stored(7)
	r.Filter().Request("SUBSCRIBE", 200, 2*time.Millisecond)
	r.Filter().Request("invalid", 400, 0)
	want := `
# HELP waku_archive_messages Messages in the archive.
# TYPE waku_archive_messages gauge
waku_archive_messages{type="stored"} 7
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "waku_archive_messages"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(r.svc.filterDuration); n != 1 {
		t.Errorf("filter duration series = %d, want 1 (SUBSCRIBE only, not the undecoded request)", n)
	}
}
