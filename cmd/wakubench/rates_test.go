package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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
	for _, d := range testDUTs(t) {
		t.Run(d.Kind, func(t *testing.T) {
			prof := t.TempDir()
			c := ratesConfig{Dur: 2 * time.Second, Quiet: 3 * time.Second, PprofDir: prof}
			row, err := rateStep(c, d, 10, 1024)
			if err != nil {
				t.Fatal(err)
			}
			for _, kind := range []string{"cpu", "heap"} {
				fi, err := os.Stat(filepath.Join(prof, d.Kind+"-"+kind+"-1024B-10msgs.pprof"))
				if err != nil || fi.Size() == 0 {
					t.Errorf("%s profile: %v", kind, err)
				}
			}
			t.Log(row.markdown())
			if b := row.Budget; b == nil || b.FileKB <= 0 || b.AnonKB <= 0 || b.RSSKB < b.FileKB+b.AnonKB || b.HeapInuse <= 0 || b.HeapHeld < 0 || b.Runtime <= 0 {
				t.Fatalf("with --pprof, want a memory budget at the peak: %+v", b)
			}
			if tab := budgetTable([]rateRow{row}); !strings.Contains(tab, "| "+d.Kind+" | 1024 B | 10 |") {
				t.Fatalf("budget table without the row:\n%s", tab)
			}
			if row.Sent < 10 || row.Delivered != row.Sent || row.Stored != row.Sent {
				t.Fatalf("sent %d, delivered %d, stored %d: want every message forwarded and stored", row.Sent, row.Delivered, row.Stored)
			}
			// The kernel reads RSS from per-CPU counters without summing their pending deltas, so
			// two readings of one VmHWM can differ by a few hundred kB (here: 42,724 then 42,524).
			const rssSlackKB = 1 << 10
			if row.PeakRSSKB <= 0 || row.PeakAnonKB <= 0 || row.PeakAnonKB > row.PeakRSSKB+rssSlackKB || row.WalkPeakRSSKB < row.PeakRSSKB-rssSlackKB || row.Cores <= 0 || row.P99 <= 0 {
				t.Fatalf("implausible row: %+v", row)
			}
			// Both: each message entered the node's sockets once and left them at least once.
			if row.WireIn < 1024 || row.WireOut < 1024 {
				t.Fatalf("socket bytes missing: %+v", row)
			}
			// Ours: each message entered the node once and left it at least once (to the receiver).
			if d.Kind == kindOurs && (!row.HasBytes || row.BytesIn < 1024 || row.BytesOut < 1024) {
				t.Fatalf("relay bytes missing: %+v", row)
			}
			if d.Kind == kindOurs && (!row.HasStoreDrops || row.StoreDropped != 0) {
				t.Fatalf("want the archive's drop count read, and 0: %+v", row)
			}
		})
	}
}

// TestRatesStepWirePeers is the same step with wire peers (--wire) as publisher and receiver:
// the node takes them into its mesh, forwards every message to the receiver and stores it.
func TestRatesStepWirePeers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wakunode binary")
	}
	for _, d := range testDUTs(t) {
		t.Run(d.Kind, func(t *testing.T) {
			row, err := rateStep(ratesConfig{Dur: 2 * time.Second, Quiet: 3 * time.Second, Wire: true}, d, 50, 10240)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(row.markdown())
			if row.Sent < 50 || row.Delivered != row.Sent || row.Stored != row.Sent || row.P50 <= 0 || row.P99 < row.P50 {
				t.Fatalf("sent %d, delivered %d, stored %d, p50 %v, p99 %v: want every message forwarded and stored", row.Sent, row.Delivered, row.Stored, row.P50, row.P99)
			}
		})
	}
}

// testDUTs builds our binary; WAKUBENCH_GOWAKU_BIN=/path/to/go-waku adds go-waku.
func testDUTs(t *testing.T) []dut {
	bin := filepath.Join(t.TempDir(), "wakunode")
	if out, err := exec.Command("go", "build", "-o", bin, "../wakunode").CombinedOutput(); err != nil {
		t.Fatalf("build wakunode: %v\n%s", err, out)
	}
	duts := []dut{{Kind: kindOurs, Bin: bin}}
	if gw := os.Getenv("WAKUBENCH_GOWAKU_BIN"); gw != "" {
		duts = append(duts, dut{Kind: kindGoWaku, Bin: gw})
	}
	return duts
}

func TestRateStepsAndComparison(t *testing.T) {
	steps := rateSteps([]int{1024, 10240}, []int{10, 100}, true)
	want := []rateStepSpec{{1024, 10}, {1024, 100}, {10240, 10}, {10240, 100}, {10240, 7500}}
	if !slices.Equal(steps, want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}
	rows := []rateRow{
		{Kind: kindOurs, Size: 1024, Rate: 10, Sent: 300, Delivered: 300, Cores: 0.02, PeakRSSKB: 40 * 1024, PeakAnonKB: 10 * 1024, P50: 300 * time.Microsecond, P99: time.Millisecond, HasBytes: true, BytesIn: 1100, BytesOut: 1200, WireIn: 1300, WireOut: 1400},
		{Kind: kindGoWaku, Size: 1024, Rate: 10, Sent: 300, Delivered: 297, Cores: 0.04, PeakRSSKB: 50 * 1024, PeakAnonKB: 20 * 1024, P50: 600 * time.Microsecond, P99: 2 * time.Millisecond, WireIn: 1500, WireOut: 1500},
		{Kind: kindOurs, Size: 10240, Rate: 7500, Sent: 10, Delivered: 0, Cores: 1, PeakRSSKB: 1024, WalkPeakRSSKB: 2048},
	}
	got := comparison(rows)
	wantRow := "| 1 KB × 10 msg/s | 0.020 / 0.040 | 0.50× | 40.0 / 50.0 MB | 0.80× | 10.0 / 20.0 MB | 0.50× | 300µs / 600µs | 0.50× | 1ms / 2ms | 0.50× | 2700 / 3000 | 0.90× | 0 / 3 |"
	if !strings.Contains(got, wantRow+"\n") {
		t.Fatalf("comparison:\n%s\nwant the row\n%s", got, wantRow)
	}
	if strings.Count(got, "\n") != 3 { // header, rule, one paired step (the unpaired one is left out)
		t.Fatalf("comparison has the wrong rows:\n%s", got)
	}
	// Three runs each: medians, the CPU range, the losses summed.
	var runs []rateRow
	for i, c := range []float64{0.03, 0.01, 0.02} {
		runs = append(runs,
			rateRow{Kind: kindOurs, Size: 1024, Rate: 100, Sent: 100, Delivered: 100 - i, Cores: c, PeakRSSKB: (40 + i) * 1024, PeakAnonKB: (12 - i) * 1024, P50: time.Duration(i+1) * time.Millisecond, P99: 5 * time.Millisecond, WireIn: float64(1000 + 100*i), WireOut: 1000},
			rateRow{Kind: kindGoWaku, Size: 1024, Rate: 100, Sent: 100, Delivered: 100, Cores: 2 * c, PeakRSSKB: 50 * 1024, PeakAnonKB: 20 * 1024, P50: 4 * time.Millisecond, P99: 10 * time.Millisecond, WireIn: 1100, WireOut: 1100})
	}
	wantRow = "| 1 KB × 100 msg/s | 0.020 (0.010–0.030) / 0.040 (0.020–0.060) | 0.50× | 41.0 / 50.0 MB | 0.82× | 11.0 / 20.0 MB | 0.55× | 2ms / 4ms | 0.50× | 5ms / 10ms | 0.50× | 2100 / 2200 | 0.95× | 3 / 0 |"
	if got := comparison(runs); !strings.Contains(got, wantRow+"\n") {
		t.Fatalf("comparison of repeated runs:\n%s\nwant the row\n%s", got, wantRow)
	}
	if got := (rateRow{Delivered: 1}).latency(4484123 * time.Microsecond); got != "4.484s" {
		t.Fatalf("latency of seconds: %s, want 4.484s", got)
	}
	if md := rows[1].markdown(); !strings.HasSuffix(md, "| – | – | 1500 | 1500 |") {
		t.Fatalf("go-waku row must show – for relay bytes: %s", md)
	}
	if md := rows[2].markdown(); !strings.Contains(md, "| 1.0 MB | 0.0 MB | 2.0 MB | – | – | – | – | 0 | 0 |") {
		t.Fatalf("a step with no delivery has no latency: %s", md)
	}
}

// TestTreeUsage: the CPU of a child that burns CPU is counted for the parent's tree.
func TestTreeUsage(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var cpu time.Duration
	for cpu < 50*time.Millisecond {
		c, peak, err := treeUsage(cmd.Process.Pid)
		if err != nil {
			break // the shell has exited
		}
		if peak <= 0 {
			t.Fatalf("no VmHWM for the tree")
		}
		cpu = c
		time.Sleep(10 * time.Millisecond)
	}
	_ = cmd.Wait()
	if cpu < 50*time.Millisecond {
		t.Fatalf("tree CPU %v: the busy child was not counted", cpu)
	}
}

func TestParseSS(t *testing.T) {
	out := "0      0      127.0.0.1:60000 127.0.0.1:40874 users:((\"wakunode\",pid=42,fd=16))\n" +
		"\t cubic wscale:10,10 bytes_sent:2000 bytes_retrans:10 bytes_acked:1990 bytes_received:4005 segs_out:5\n" +
		"0      0      127.0.0.1:8645 127.0.0.1:50000 users:((\"wakunode\",pid=42,fd=17))\n" +
		"\t cubic bytes_acked:500 bytes_received:600\n" +
		"0      0      127.0.0.1:40874 127.0.0.1:60000 users:((\"wakubench\",pid=420,fd=3))\n" +
		"\t cubic bytes_acked:4005 bytes_received:1990\n" +
		"0      0      127.0.0.1:60000 127.0.0.1:40900 users:((\"wakunode\",pid=42,fd=18))\n" +
		"\t cubic bytes_acked:7\n"
	got := parseSS(out, 42, "8645")
	want := sockBytes{"127.0.0.1:60000 127.0.0.1:40874": {1990, 4005}, "127.0.0.1:60000 127.0.0.1:40900": {7, 0}}
	if len(got) != len(want) || got["127.0.0.1:60000 127.0.0.1:40874"] != want["127.0.0.1:60000 127.0.0.1:40874"] ||
		got["127.0.0.1:60000 127.0.0.1:40900"] != want["127.0.0.1:60000 127.0.0.1:40900"] {
		t.Fatalf("parseSS: %v, want %v (pid 420 and the REST port left out)", got, want)
	}
	before := sockBytes{"127.0.0.1:60000 127.0.0.1:40874": {990, 4000}, "gone": {5, 5}}
	if in, out := got.since(before); in != 5 || out != 1000+7 {
		t.Fatalf("since: in %d out %d, want 5 and 1007 (a new socket counts from zero, a closed one is dropped)", in, out)
	}
}

func TestIdleRowMarkdown(t *testing.T) {
	r := idleRow{Kind: kindOurs, Conns: 50, Cores: 0.07, RSSKB: 64 * 1024, PeakKB: 65 * 1024, In: 1000, Out: 4000,
		PayloadIn: 600, PayloadOut: 3000, HasRelay: true, GossipIn: 300, GossipOt: 500, HasService: true, ServiceIn: 60, ServiceOut: 200}
	r.Published = 9.9
	want := "| wakunode | 50 | 9.9 | 0.070 | 64.0 MB (65.0) | 1000 | 4000 | 600 / 3000 | 300 / 500 | 60 / 200 | 40 / 300 | 40 % / 25 % |"
	if got := r.markdown(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	g := idleRow{Kind: kindGoWaku, In: 1000, Out: 4000}
	if got := g.markdown(); !strings.HasSuffix(got, "| 1000 | 4000 | – | – | – | – | – |") {
		t.Fatalf("go-waku has no relay split: %s", got)
	}
}

// storeDrops counts the archive's drops of accepted messages, not its other errors, and tells
// a page with an archive from one without.
func TestStoreDrops(t *testing.T) {
	page := `# TYPE waku_archive_errors_total counter
waku_archive_errors_total{type="queue_full"} 3
waku_archive_errors_total{type="spill_full"} 40
waku_archive_errors_total{type="spill_failed"} 2
waku_archive_errors_total{type="query"} 7
waku_archive_errors_total{type="write"} 11
waku_archive_errors_total{type="invalid"} 5
# TYPE waku_archive_messages gauge
waku_archive_messages{type="stored"} 100
`
	if n, ok := storeDrops(page); n != 45 || !ok {
		t.Fatalf("storeDrops = %d, %v; want 45, true", n, ok)
	}
	if n, ok := storeDrops("# TYPE go_goroutines gauge\ngo_goroutines 12\n"); n != 0 || ok {
		t.Fatalf("page without an archive: %d, %v; want 0, false", n, ok)
	}
}

// Thousandths of a core keep a second significant digit; larger shares keep three decimals.
func TestCoresDigits(t *testing.T) {
	for c, want := range map[float64]string{0.0065: "0.0065", 0.0104: "0.010", 0.15: "0.150", 1.1: "1.100"} {
		if got := cores(c); got != want {
			t.Errorf("cores(%v) = %q, want %q", c, got, want)
		}
	}
}
