package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestSumSeriesMatchesLabels(t *testing.T) {
	body := `# HELP waku_relay_network_bytes_total x
waku_relay_network_bytes_total{direction="in",topic="/waku/2/rs/16/0",type="gross"} 1500
waku_relay_network_bytes_total{direction="in",topic="/waku/2/rs/16/1",type="gross"} 500
waku_relay_network_bytes_total{direction="in",topic="/waku/2/rs/16/0",type="net"} 1000
waku_relay_network_bytes_total{direction="out",topic="/waku/2/rs/16/0",type="gross"} 7e3
waku_relay_network_bytes_total_other 99
`
	name := "waku_relay_network_bytes_total"
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{`type="gross"`, `direction="in"`}, 2000},
		{[]string{`type="gross"`, `direction="out"`}, 7000},
		{nil, 10000},
	} {
		if got := sumSeries(body, name, c.labels...); got != c.want {
			t.Errorf("%v: %g, want %g", c.labels, got, c.want)
		}
	}
}

// TestRatesStep runs one short step of the rates mode against the real binary: a fresh storing
// node forwards every message to the receiver and stores it, and the row carries the node's
// figures. With --pprof it writes both profiles, read from the node's --metrics-pprof endpoint.
func TestRatesStep(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wakunode binary")
	}
	bin := filepath.Join(t.TempDir(), "wakunode")
	if out, err := exec.Command("go", "build", "-o", bin, "../wakunode").CombinedOutput(); err != nil {
		t.Fatalf("build wakunode: %v\n%s", err, out)
	}
	prof := t.TempDir()
	c := ratesConfig{Bin: bin, Dur: 2 * time.Second, Quiet: 3 * time.Second, PprofDir: prof}
	row, err := rateStep(c, 10, 1024)
	if err == nil {
		for _, kind := range []string{"cpu", "heap"} {
			fi, err := os.Stat(filepath.Join(prof, kind+"-1024B-10msgs.pprof"))
			if err != nil || fi.Size() == 0 {
				t.Errorf("%s profile: %v", kind, err)
			}
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Log(row.markdown())
	if row.Sent < 10 || row.Delivered != row.Sent || row.Stored != row.Sent {
		t.Fatalf("sent %d, delivered %d, stored %d: want every message forwarded and stored", row.Sent, row.Delivered, row.Stored)
	}
	// Each message entered the node once and left it at least once (to the receiver).
	if row.BytesIn < 1024 || row.BytesOut < 1024 || row.PeakRSSKB <= 0 || row.Cores < 0 || row.P99 == "-" {
		t.Fatalf("implausible row: %+v", row)
	}
}
