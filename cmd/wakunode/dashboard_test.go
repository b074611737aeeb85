package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/wakunode/wakunode/internal/testlog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wakunode/wakunode/cmd/wakunode/internal/cli"
)

// recorder is a registry that remembers the name of every metric registered on it, whether or
// not it has a sample yet (a counter vector has none until its first label set).
type recorder struct {
	*prometheus.Registry
	mu    sync.Mutex
	names map[string]bool
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *recorder) note(c prometheus.Collector) {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	r.mu.Lock()
	defer r.mu.Unlock()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
		}
	}
}

func (r *recorder) Register(c prometheus.Collector) error {
	r.note(c)
	return r.Registry.Register(c)
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		r.note(c)
	}
	r.Registry.MustRegister(cs...)
}

// dashboardMetrics are the metric names docs/grafana/wakunode.json queries.
func dashboardMetrics(t *testing.T) []string {
	b, err := os.ReadFile("../../docs/grafana/wakunode.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct{ Definition string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var exprs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		exprs = append(exprs, v.Definition)
	}
	name := regexp.MustCompile(`\b(?:waku|libp2p|process|go)_[a-z0-9_]+\b`)
	seen := map[string]bool{}
	for _, e := range exprs {
		for _, n := range name.FindAllString(e, -1) {
			seen[n] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TestDashboardQueriesExportedMetrics starts the node as the command does, with every service
// whose metrics the dashboard shows, and checks that each metric name the dashboard queries
// is registered (histograms by their _bucket series), and that /metrics serves.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	names := dashboardMetrics(t)
	if len(names) < 30 {
		t.Fatalf("only %d metric names found in the dashboard: %v", len(names), names)
	}
	o, err := cli.Parse([]string{"--listen-address=127.0.0.1", "--nat=none", "--tcp-port=0", "--rest=false",
		"--data-dir=" + t.TempDir(), "--store=true", "--filter=true", "--lightpush=true",
		"--metrics-server=true", "--metrics-server-port=0", "--metrics-logging=false"})
	if err != nil {
		t.Fatal(err)
	}
	var logs testlog.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	cfg, err := o.NodeConfig(log, "v0.0.0-test")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Registry: prometheus.NewRegistry(), names: map[string]bool{}}
	registerRuntime(rec)
	var stops []func() error
	defer func() {
		if err := shutdown(stops); err != nil {
			t.Error(err)
		}
	}()
	keepSchedulerThreads(t)
	if err := start(context.Background(), o, cfg, rec, log, nil, "v0.0.0-test", &stops); err != nil {
		t.Fatal(err)
	}
	// The names an nwaku dashboard reads that are labelled and so have no sample until their
	// first event: they must be registered all the same.
	for _, n := range []string{"waku_node_errors_total", "waku_filter_request_duration_seconds", "waku_px_errors_total",
		"waku_discv5_errors_total", "waku_dnsdisc_errors_total", "waku_archive_messages", "waku_archive_insert_duration_seconds"} {
		if !rec.names[n] {
			t.Errorf("the node does not export %s", n)
		}
	}
	for _, n := range names {
		base := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(n, suffix); ok && rec.names[b] {
				base = b
			}
		}
		if !rec.names[base] {
			t.Errorf("the dashboard queries %s, which the node does not export", n)
		}
	}

	// And the scrape endpoint serves them: a metric without label sets yet is still absent
	// from the text, so check those the node always has a sample of.
	addr := regexp.MustCompile(`"msg":"wakunode running".*"metrics":"([^"]+)"`).FindStringSubmatch(logs.String())
	if addr == nil {
		t.Fatalf("no metrics address in the summary: %s", logs.String())
	}
	resp, err := http.Get("http://" + addr[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// waku_archive_messages has its sample from the count at open.
	for _, n := range []string{"waku_version", "libp2p_peers", "libp2p_pubsub_topics", "waku_peer_store_size", "waku_store_peers", "go_goroutines",
		`waku_archive_messages{type="stored"} 0`, "waku_archive_insert_duration_seconds_bucket", "waku_archive_query_duration_seconds_bucket",
		"waku_px_peers_received_total", "waku_px_peers_received_unknown", "waku_px_peers_sent_total", "waku_discv5_discovered", "waku_dnsdisc_discovered"} {
		if !strings.Contains(string(body), "\n"+n) {
			t.Errorf("/metrics lacks %s", n)
		}
	}
}
