package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// rateRow is one step of the rates table: a fresh node at one rate and size.
type rateRow struct {
	Size, Rate        int
	Sent, Delivered   int
	Stored            int
	Cores             float64 // node CPU time / wall time over the step
	PeakRSSKB         int     // VmHWM: the node's peak resident set, start-up included
	P50, P99          string
	BytesIn, BytesOut float64 // the node's gross relay bytes (RPC frames) per message sent
}

// ratesConfig is what the rates mode measures; the flags fill it.
type ratesConfig struct {
	Bin      string
	Rates    []int
	Sizes    []int
	Dur      time.Duration
	Quiet    time.Duration // wait for stragglers after the last publish
	PprofDir string        // "" = no profiles
	NodeArgs []string      // extra flags for the node under test
}

// rates measures the node's cost at user rates: for each size and rate, a fresh wakunode with
// the store on (SQLite in its data directory) between an in-process publisher and receiver.
func rates(args []string) error {
	fs := flag.NewFlagSet("rates", flag.ExitOnError)
	var c ratesConfig
	fs.StringVar(&c.Bin, "bin", "./wakunode", "wakunode binary")
	r := fs.String("rates", "10,100,1000", "publish rates in msg/s")
	s := fs.String("sizes", "1024,10240", "payload sizes in bytes")
	fs.DurationVar(&c.Dur, "dur", 30*time.Second, "publishing time per step")
	fs.DurationVar(&c.Quiet, "quiet", 3*time.Second, "after the last publish, wait this long without a delivery before counting a message lost")
	fs.StringVar(&c.PprofDir, "pprof", "", "write CPU and heap profiles of the node under load to this directory (the node is started with --metrics-pprof=true)")
	nodeArgs := fs.String("node-args", "", "extra flags for the node under test, space separated")
	_ = fs.Parse(args)
	c.Rates, c.Sizes, c.NodeArgs = ints(*r), ints(*s), strings.Fields(*nodeArgs)
	if len(c.Rates) == 0 || len(c.Sizes) == 0 || c.Dur <= 0 {
		return errors.New("rates: need --rates, --sizes and a positive --dur")
	}
	fmt.Println(ratesHeader)
	for _, size := range c.Sizes {
		for _, rate := range c.Rates {
			row, err := rateStep(c, rate, size)
			if err != nil {
				return fmt.Errorf("%d msg/s x %d B: %w", rate, size, err)
			}
			fmt.Println(row.markdown())
		}
	}
	return nil
}

const ratesHeader = "| size | msg/s | sent | delivered | lost | stored | node CPU (cores) | node peak RSS | p50 | p99 | relay B in/msg | relay B out/msg |\n" +
	"|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"

func (r rateRow) markdown() string {
	return fmt.Sprintf("| %d B | %d | %d | %d | %d | %d | %.3f | %.1f MB | %s | %s | %.0f | %.0f |", r.Size, r.Rate, r.Sent,
		r.Delivered, r.Sent-r.Delivered, r.Stored, r.Cores, float64(r.PeakRSSKB)/1024, r.P50, r.P99, r.BytesIn, r.BytesOut)
}

func rateStep(c ratesConfig, rate, size int) (rateRow, error) {
	row := rateRow{Size: size, Rate: rate}
	nodeArgs := append([]string{"--store=true", "--metrics-server=true", "--metrics-server-port=0"}, c.NodeArgs...)
	if c.PprofDir != "" {
		nodeArgs = append(nodeArgs, "--metrics-pprof=true")
	}
	p, peers, cleanup, err := startRig(c.Bin, 2, nodeArgs...)
	if err != nil {
		return row, err
	}
	defer cleanup()
	var metricsURL string
	select {
	case a := <-p.metrics:
		metricsURL = "http://" + a + "/metrics"
	case <-time.After(10 * time.Second):
		return row, errors.New("the node logged no metrics server address")
	}
	var profile func() error
	if c.PprofDir != "" {
		if profile, err = startProfile(c.PprofDir, p, metricsURL, rate, size, c.Dur); err != nil {
			return row, err
		}
	}
	pub, recv := peers[0], peers[1]
	sub := recv.Subscribe(nil, 1<<20)
	defer sub.Close()

	pid := p.cmd.Process.Pid
	in0, out0 := relayBytes(metricsURL)
	cpu0, _, _, err := procStat(pid)
	if err != nil {
		return row, err
	}
	start := time.Now()
	var seq uint64
	row.Sent = publishAt(context.Background(), pub, rate, size, c.Dur, &seq)
	lat := collect(sub, 0, seq, c.Quiet)
	cpu1, _, peak, err := procStat(pid)
	if err != nil {
		return row, err
	}
	wall := time.Since(start)
	in1, out1 := relayBytes(metricsURL)
	slices.Sort(lat)
	row.Delivered, row.PeakRSSKB = len(lat), peak
	row.Cores = (cpu1 - cpu0).Seconds() / wall.Seconds()
	row.P50, row.P99 = pct(lat, 50), pct(lat, 99)
	if row.Sent > 0 {
		row.BytesIn, row.BytesOut = (in1-in0)/float64(row.Sent), (out1-out0)/float64(row.Sent)
	}
	if profile != nil {
		if err := profile(); err != nil {
			return row, err
		}
	}
	if row.Stored, err = storeCount(p.rest); err != nil {
		return row, fmt.Errorf("store walk: %w", err)
	}
	return row, nil
}

// relayBytes reads the node's gross relay bytes in and out (waku_relay_network_bytes_total).
func relayBytes(metricsURL string) (in, out float64) {
	body := scrape(metricsURL)
	const name = "waku_relay_network_bytes_total"
	return sumSeries(body, name, `type="gross"`, `direction="in"`), sumSeries(body, name, `type="gross"`, `direction="out"`)
}

func scrape(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// pprofBase finds /debug/pprof/ on the node's metrics or REST server.
func pprofBase(p *nodeProc, metricsURL string) (string, error) {
	for _, base := range []string{strings.TrimSuffix(metricsURL, "/metrics"), p.rest} {
		resp, err := http.Get(base + "/debug/pprof/")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return base + "/debug/pprof/", nil
		}
	}
	return "", errors.New("--pprof: the node serves no /debug/pprof/ on its metrics or REST server (is the binary older than --metrics-pprof?)")
}

// startProfile begins a CPU profile covering the publishing phase; the returned func waits for
// it, then takes a heap profile of the node still holding the step's state.
func startProfile(dir string, p *nodeProc, metricsURL string, rate, size int, dur time.Duration) (func() error, error) {
	base, err := pprofBase(p, metricsURL)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	name := func(kind string) string {
		return filepath.Join(dir, fmt.Sprintf("%s-%dB-%dmsgs.pprof", kind, size, rate))
	}
	secs := max(1, int(dur.Round(time.Second).Seconds()))
	done := make(chan error, 1)
	go func() { done <- fetch(fmt.Sprintf("%sprofile?seconds=%d", base, secs), name("cpu")) }()
	return func() error {
		if err := <-done; err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if err := fetch(base+"heap", name("heap")); err != nil {
			return fmt.Errorf("heap profile: %w", err)
		}
		return nil
	}, nil
}

func fetch(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
