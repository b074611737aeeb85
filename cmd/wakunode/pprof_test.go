package main

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"testing"

	"github.com/wakunode/wakunode/cmd/wakunode/internal/cli"
	"github.com/wakunode/wakunode/internal/testlog"
)

// startWithMetrics starts the node as the command does with the given extra flags and a metrics
// server on a free port, and returns the metrics server's address.
func startWithMetrics(t *testing.T, extra ...string) string {
	t.Helper()
	args := append([]string{"--listen-address=127.0.0.1", "--nat=none", "--tcp-port=0", "--rest=false", "--relay=false",
		"--data-dir=" + t.TempDir(), "--metrics-server=true", "--metrics-server-port=0", "--metrics-logging=false"}, extra...)
	o, err := cli.Parse(args)
	if err != nil {
		t.Fatal(err)
	}
	var logs testlog.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	cfg, err := o.NodeConfig(log, "v0.0.0-test")
	if err != nil {
		t.Fatal(err)
	}
	var stops []func() error
	t.Cleanup(func() {
		if err := shutdown(stops); err != nil {
			t.Error(err)
		}
	})
	keepSchedulerThreads(t)
	if err := start(context.Background(), o, cfg, newRegistry(), log, nil, "v0.0.0-test", &stops); err != nil {
		t.Fatal(err)
	}
	addr := regexp.MustCompile(`"msg":"wakunode running".*"metrics":"([^"]+)"`).FindStringSubmatch(logs.String())
	if addr == nil {
		t.Fatalf("no metrics address in the summary: %s", logs.String())
	}
	return addr[1]
}

// TestMetricsPprof: --metrics-pprof=true serves net/http/pprof on the metrics port; without it
// /debug/pprof/ is not there, while /metrics is in both cases.
func TestMetricsPprof(t *testing.T) {
	for _, tc := range []struct {
		flag string
		want int
	}{{"--metrics-pprof=true", http.StatusOK}, {"--metrics-pprof=false", http.StatusNotFound}} {
		t.Run(tc.flag, func(t *testing.T) {
			addr := startWithMetrics(t, tc.flag)
			for path, want := range map[string]int{"/debug/pprof/heap?debug=1": tc.want, "/debug/pprof/": tc.want, "/metrics": http.StatusOK} {
				resp, err := http.Get("http://" + addr + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
				}
			}
		})
	}
}

// keepSchedulerThreads turns off the scheduler governor (internal/procs) for a start() in the
// test process, as GOMAXPROCS does for an operator: otherwise it would change GOMAXPROCS under
// every test running alongside.
func keepSchedulerThreads(t *testing.T) {
	t.Setenv("GOMAXPROCS", strconv.Itoa(runtime.GOMAXPROCS(0)))
}
