package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/cmd/wakunode/internal/cli"
)

func TestRunExitsEarly(t *testing.T) {
	badToml := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(badToml, []byte("no-such-key = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		args        []string
		code        int
		out, errOut string
	}{
		{"version", []string{"--version"}, 0, cli.Semver, ""},
		{"help", []string{"--help"}, 0, "-rest-port", ""},
		{"unknown flag", []string{"--bogus"}, 2, "", "--bogus"},
		{"bad value", []string{"--tcp-port=70000"}, 2, "", "--tcp-port"},
		{"unknown toml key", []string{"--config-file", badToml}, 2, "", `unknown key "no-such-key"`},
		{"not supported", []string{"--preset=twn"}, 2, "", "--preset: not supported"},
		{"rln refused with its reason", []string{"--rln-relay=true"}, 2, "", "--rln-relay: not supported: RLN relay"},
		{"bad nodekey", []string{"--nodekey=zz"}, 2, "", "--nodekey"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := run(context.Background(), func() {}, tt.args, &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, tt.code, errOut.String())
			}
			if !strings.Contains(out.String(), tt.out) || !strings.Contains(errOut.String(), tt.errOut) {
				t.Fatalf("stdout %q / stderr %q, want %q / %q", out.String(), errOut.String(), tt.out, tt.errOut)
			}
		})
	}
}

func TestVersionFromLinker(t *testing.T) {
	old := version
	version = "v7.7.7"
	t.Cleanup(func() { version = old })
	var out strings.Builder
	if code := run(context.Background(), func() {}, []string{"--version"}, &out, io.Discard); code != 0 || strings.TrimSpace(out.String()) != "v7.7.7" {
		t.Fatalf("code %d, out %q", code, out.String())
	}
}

// TestRunServesAndStops starts the whole command in-process on loopback, waits for the REST
// API to announce itself, queries it and the metrics endpoint, then stops it as a signal would.
func TestRunServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	args := []string{
		"--listen-address=127.0.0.1", "--nat=none", "--tcp-port=0", "--data-dir=" + t.TempDir(),
		"--rest-port=0", "--metrics-server", "--metrics-server-port=0",
		"--log-format=json", "--log-level=debug", "--shard=0",
		"--metrics-logging=true", "--rln-relay=false", "--keep-alive=true", "--rln-relay-tree-path=/nonexistent",
	}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, func() {}, args, pw, io.Discard)
		pw.Close()
	}()

	addrs := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(addrs) < 2 && sc.Scan() {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Addr != "" {
			switch {
			case strings.HasPrefix(rec.Msg, "REST API listening on "):
				addrs["rest"] = rec.Addr
			case strings.HasPrefix(rec.Msg, "metrics server listening on "):
				addrs["metrics"] = rec.Addr
			}
		}
	}
	go io.Copy(io.Discard, pr) // keep the logger unblocked until run returns
	if len(addrs) < 2 {
		t.Fatalf("run ended before announcing its servers (exit %d)", <-code)
	}

	get := func(url string) string {
		t.Helper()
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", url, resp.Status, b)
		}
		return string(b)
	}
	if v := get("http://" + addrs["rest"] + "/debug/v1/version"); !strings.HasPrefix(v, cli.Semver) {
		t.Errorf("version endpoint = %q", v)
	}
	if m := get("http://" + addrs["metrics"] + "/metrics"); !strings.Contains(m, "go_goroutines") || !strings.Contains(m, "waku_version") {
		t.Errorf("metrics lack go_goroutines or waku_version:\n%.500s", m)
	}

	cancel()
	if c := <-code; c != 0 {
		t.Fatalf("exit code %d after a clean stop", c)
	}
	for _, a := range addrs {
		if _, err := http.Get("http://" + a + "/"); err == nil {
			t.Errorf("%s still answers after stop", a)
		}
	}
}

// runUntilSummary runs the command in-process and returns its "wakunode running" line (JSON
// logs) and a stop function that ends it and returns its exit code.
func runUntilSummary(t *testing.T, args ...string) (map[string]any, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errOut strings.Builder
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, func() {}, append(args, "--log-format=json"), pw, &errOut)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "wakunode running" {
			go io.Copy(io.Discard, pr)
			return rec, func() int { cancel(); return <-code }
		}
	}
	cancel()
	t.Fatalf("run ended without its summary (exit %d): %s", <-code, errOut.String())
	return nil, nil
}

// A --nodekey with a --data-dir that does not exist yet, --store and --store-sync: the data directory is
// created even though no key is generated there, and the summary says where messages go.
func TestRunCreatesDataDirAndLogsSummary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	summary, stop := runUntilSummary(t, "--nodekey=1122334455667788990011223344556677889900112233445566778899001122",
		"--data-dir="+dir, "--store=true", "--store-sync=true", "--store-sync-interval=0", "--filter=true", "--cluster-id=3", "--num-shards-in-network=4", "--shard=2",
		"--listen-address=127.0.0.1", "--nat=none", "--tcp-port=0", "--rest-port=0", "--metrics-logging=false")
	defer func() {
		if c := stop(); c != 0 {
			t.Errorf("exit code %d", c)
		}
	}()
	db := filepath.Join(dir, "store.sqlite3")
	for k, want := range map[string]any{"cluster": float64(3), "sharding": "autosharding over 4 shards", "shards": "2",
		"services": "relay,store,store-sync,filter,peer-exchange", "store": db, "dataDir": dir} {
		if summary[k] != want {
			t.Errorf("summary %s = %v, want %v (%v)", k, summary[k], want, summary)
		}
	}
	if s, _ := summary["rest"].(string); !strings.HasPrefix(s, "127.0.0.1:") {
		t.Errorf("summary rest = %v", summary["rest"])
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("archive file: %v", err)
	}
}

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	debug.SetGCPercent(100)
	pace := tuneGC(func(string) string { return "" })
	if pace == nil {
		t.Fatal("without GOGC: no headroom governor")
	}
	pace.Stop()
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Fatalf("runtime GC percent %d, want %d", got, defaultGCPercent)
	}
	// GOGC set: the runtime has already applied it; tuneGC leaves it alone.
	debug.SetGCPercent(80)
	if pace := tuneGC(func(k string) string { return map[string]string{"GOGC": "80"}[k] }); pace != nil {
		t.Fatal("with GOGC=80: a headroom governor, want none")
	}
	if got := debug.SetGCPercent(100); got != 80 {
		t.Fatalf("runtime GC percent %d after GOGC=80, want 80", got)
	}
}
