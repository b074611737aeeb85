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

	"github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/node"
	storepb "github.com/wakunode/wakunode/store/pb"
)

// rateRow is one step of the rates table: a fresh node of one kind at one rate and size.
type rateRow struct {
	Kind            string
	Size, Rate      int
	Sent, Delivered int
	Stored          int
	StoreErr        error // the store walk failed (go-waku's legacy store times out under load)
	// StoreDropped is what the node's archive counted as accepted but never to be stored
	// (archive.DropReasons), read after the walk; HasStoreDrops says the
	// node exports the counters (go-waku does not). Sent − Stored − StoreDropped is then what
	// the archive still held in its queue or spill when the walk ran.
	StoreDropped      int
	HasStoreDrops     bool
	Cores             float64    // node CPU time / wall time over the step
	PeakRSSKB         int        // VmHWM: the node's peak resident set, start-up included
	WalkPeakRSSKB     int        // VmHWM after the store walk: what answering a history query adds
	PeakAnonKB        int        // the largest RssAnon sampled during the load (anonPeak)
	Budget            *memBudget // with --pprof: the memory budget at the highest RSS of the load
	P50, P99          time.Duration
	HasBytes          bool    // the node exports waku_relay_network_bytes_total (go-waku does not)
	BytesIn, BytesOut float64 // the node's gross relay bytes (RPC frames) per message sent
	// WireIn, WireOut are every byte on the node's libp2p TCP sockets per message sent (the
	// kernel's counters, as in the idle mode): measured the same way for both nodes.
	WireIn, WireOut float64
}

func (r rateRow) lost() int { return r.Sent - r.Delivered }

// anonSampleEvery is how often a step samples the node's RssAnon. The heap peaks just before
// each GC cycle, which at 1,000 msg/s come several hundred ms apart, so 100 ms misses little.
const anonSampleEvery = 100 * time.Millisecond

// ratesConfig is what the rates mode measures; the flags fill it.
type ratesConfig struct {
	DUTs     []dut // each step runs every one of them, one after the other, each fresh
	Steps    []rateStepSpec
	Dur      time.Duration
	Quiet    time.Duration // wait for stragglers after the last publish
	PprofDir string        // "" = no profiles
	// Wire puts wire peers (wirePeer) in place of the in-process nodes as publisher and receiver.
	Wire bool
	// Repeat runs every step this many times, the nodes' order alternating, and compares
	// medians: at 10 msg/s both nodes use 0.01-0.05 cores and one run's noise exceeds the gap.
	Repeat int
}

type rateStepSpec struct{ Size, Rate int }

// rateSteps is every size × rate, then the saturation step (10 KB × 7,500 msg/s) when asked.
func rateSteps(sizes, rates []int, saturation bool) []rateStepSpec {
	var out []rateStepSpec
	for _, s := range sizes {
		for _, r := range rates {
			out = append(out, rateStepSpec{s, r})
		}
	}
	if saturation {
		out = append(out, rateStepSpec{10240, 7500})
	}
	return out
}

// rates measures the node's cost at user rates: for each size and rate, a fresh node with the
// store on (SQLite in its data directory) between an in-process publisher and receiver; with
// --gowaku-bin, a fresh go-waku right after it under the same load, and a comparison table.
func rates(args []string) error {
	fs := flag.NewFlagSet("rates", flag.ExitOnError)
	var c ratesConfig
	duts := dutFlags(fs, "go-waku binary: run every step on it too, with equivalent flags, and compare")
	r := fs.String("rates", "10,100,1000", "publish rates in msg/s")
	s := fs.String("sizes", "1024,10240", "payload sizes in bytes")
	sat := fs.Bool("saturation", false, "add a 10 KB x 7,500 msg/s step")
	fs.DurationVar(&c.Dur, "dur", 30*time.Second, "publishing time per step")
	fs.DurationVar(&c.Quiet, "quiet", 3*time.Second, "after the last publish, wait this long without a delivery before counting a message lost")
	fs.BoolVar(&c.Wire, "wire", false, "publish and receive with peers that only speak gossipsub's wire format, instead of in-process nodes (which on 2 cores cannot keep up with 10 KB x 7,500 msg/s)")
	fs.IntVar(&c.Repeat, "repeat", 1, "run each step this many times (nodes alternating) and compare medians")
	fs.StringVar(&c.PprofDir, "pprof", "", "write CPU and heap profiles of the node under load to this directory (ours: --metrics-pprof=true; go-waku: --pprof), and print each node's memory budget at its peak")
	_ = fs.Parse(args)
	c.DUTs = duts()
	c.Steps = rateSteps(ints(*s), ints(*r), *sat)
	if len(c.Steps) == 0 || len(c.DUTs) == 0 || c.Dur <= 0 || c.Repeat < 1 {
		return errors.New("rates: need --rates, --sizes, a binary, a positive --dur and --repeat")
	}
	fmt.Println(ratesHeader)
	var rows []rateRow
	for _, st := range c.Steps {
		for rep := range c.Repeat {
			duts := slices.Clone(c.DUTs)
			if rep%2 == 1 { // alternate which node runs first
				slices.Reverse(duts)
			}
			for _, d := range duts {
				row, err := rateStep(c, d, st.Rate, st.Size)
				if err != nil {
					return fmt.Errorf("%s, %d msg/s x %d B: %w", d.Kind, st.Rate, st.Size, err)
				}
				fmt.Println(row.markdown())
				rows = append(rows, row)
			}
		}
	}
	if t := budgetTable(rows); t != "" {
		fmt.Println()
		fmt.Print(t)
	}
	if len(c.DUTs) == 2 {
		fmt.Println()
		fmt.Print(comparison(rows))
	}
	return nil
}

const ratesHeader = "| node | size | msg/s | sent | delivered | lost | stored | store dropped | node CPU (cores) | node peak RSS | peak RssAnon | peak RSS after the walk | p50 | p99 | relay B in/msg | relay B out/msg | wire B in/msg | wire B out/msg |\n" +
	"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"

func (r rateRow) markdown() string {
	in, out := "–", "–"
	if r.HasBytes {
		in, out = fmt.Sprintf("%.0f", r.BytesIn), fmt.Sprintf("%.0f", r.BytesOut)
	}
	stored, dropped := fmt.Sprint(r.Stored), "–"
	if r.StoreErr != nil {
		stored = "walk failed"
	}
	if r.HasStoreDrops {
		dropped = fmt.Sprint(r.StoreDropped)
	}
	return fmt.Sprintf("| %s | %d B | %d | %d | %d | %d | %s | %s | %s | %.1f MB | %.1f MB | %.1f MB | %s | %s | %s | %s | %.0f | %.0f |", r.Kind, r.Size, r.Rate, r.Sent,
		r.Delivered, r.lost(), stored, dropped, cores(r.Cores), mb(r.PeakRSSKB), mb(r.PeakAnonKB), mb(r.WalkPeakRSSKB), r.latency(r.P50), r.latency(r.P99), in, out, r.WireIn, r.WireOut)
}

func mb(kb int) float64 { return float64(kb) / 1024 }

func (r rateRow) latency(d time.Duration) string {
	if r.Delivered == 0 {
		return "–"
	}
	if d >= 100*time.Millisecond {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Microsecond).String()
}

// comparison pairs each step's wakunode rows with its go-waku rows: ours / go-waku and the
// ratio (below 1 means ours is lower). With several runs of a step it compares medians, gives
// the CPU range in brackets and sums the losses.
func comparison(rows []rateRow) string {
	var b strings.Builder
	b.WriteString("| load | CPU cores ours / go-waku | × | peak RSS ours / go-waku | × | peak RssAnon ours / go-waku | × | p50 ours / go-waku | × | p99 ours / go-waku | × | wire B/msg in+out ours / go-waku | × | lost ours / go-waku |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	type step struct{ size, rate int }
	var order []step
	runs := map[step]map[string][]rateRow{}
	for _, r := range rows {
		k := step{r.Size, r.Rate}
		if runs[k] == nil {
			runs[k] = map[string][]rateRow{}
			order = append(order, k)
		}
		runs[k][r.Kind] = append(runs[k][r.Kind], r)
	}
	for _, k := range order {
		ours, gws := runs[k][kindOurs], runs[k][kindGoWaku]
		if len(ours) == 0 || len(gws) == 0 {
			continue
		}
		o, g := medianRow(ours), medianRow(gws)
		lat := func(d time.Duration, r rateRow) float64 {
			if r.Delivered == 0 {
				return 0
			}
			return float64(d)
		}
		wireO, wireG := o.WireIn+o.WireOut, g.WireIn+g.WireOut
		fmt.Fprintf(&b, "| %s × %d msg/s | %s / %s | %s | %.1f / %.1f MB | %s | %.1f / %.1f MB | %s | %s / %s | %s | %s / %s | %s | %.0f / %.0f | %s | %d / %d |\n",
			sizeLabel(k.size), k.rate, coresCell(ours, o), coresCell(gws, g), ratio(o.Cores, g.Cores), mb(o.PeakRSSKB), mb(g.PeakRSSKB),
			ratio(float64(o.PeakRSSKB), float64(g.PeakRSSKB)), mb(o.PeakAnonKB), mb(g.PeakAnonKB), ratio(float64(o.PeakAnonKB), float64(g.PeakAnonKB)), o.latency(o.P50), g.latency(g.P50), ratio(lat(o.P50, o), lat(g.P50, g)),
			o.latency(o.P99), g.latency(g.P99), ratio(lat(o.P99, o), lat(g.P99, g)), wireO, wireG, ratio(wireO, wireG), lostSum(ours), lostSum(gws))
	}
	return b.String()
}

// medianRow is a row of the medians of rs' CPU, peak RSS, latencies and wire bytes in and out (the upper median of an
// even count); Delivered is set when any run delivered.
func medianRow(rs []rateRow) rateRow {
	med := func(get func(rateRow) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	m := rateRow{Kind: rs[0].Kind, Size: rs[0].Size, Rate: rs[0].Rate}
	m.Cores = med(func(r rateRow) float64 { return r.Cores })
	m.PeakRSSKB = int(med(func(r rateRow) float64 { return float64(r.PeakRSSKB) }))
	m.PeakAnonKB = int(med(func(r rateRow) float64 { return float64(r.PeakAnonKB) }))
	m.P50 = time.Duration(med(func(r rateRow) float64 { return float64(r.P50) }))
	m.P99 = time.Duration(med(func(r rateRow) float64 { return float64(r.P99) }))
	m.WireIn = med(func(r rateRow) float64 { return r.WireIn })
	m.WireOut = med(func(r rateRow) float64 { return r.WireOut })
	for _, r := range rs {
		m.Delivered = max(m.Delivered, r.Delivered)
	}
	return m
}

// coresCell is the median CPU, with the range of the runs when there are several.
func coresCell(rs []rateRow, m rateRow) string {
	if len(rs) == 1 {
		return cores(m.Cores)
	}
	lo, hi := rs[0].Cores, rs[0].Cores
	for _, r := range rs {
		lo, hi = min(lo, r.Cores), max(hi, r.Cores)
	}
	return fmt.Sprintf("%s (%s–%s)", cores(m.Cores), cores(lo), cores(hi))
}

// cores prints a CPU share to three decimals, four below 0.01 cores: at 10 msg/s a node uses
// a few thousandths, where three decimals leave one digit.
func cores(c float64) string {
	if c < 0.01 {
		return fmt.Sprintf("%.4f", c)
	}
	return fmt.Sprintf("%.3f", c)
}

func lostSum(rs []rateRow) (n int) {
	for _, r := range rs {
		n += r.lost()
	}
	return n
}

// ratio is a/b to two decimals with a ×, or – when either side is missing.
func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func sizeLabel(size int) string {
	if size%1024 == 0 {
		return fmt.Sprintf("%d KB", size/1024)
	}
	return fmt.Sprintf("%d B", size)
}

// rateStep runs one step on a fresh node of kind d.
func rateStep(c ratesConfig, d dut, rate, size int) (rateRow, error) {
	row := rateRow{Kind: d.Kind, Size: size, Rate: rate}
	dir, rmdir, err := tempDir()
	if err != nil {
		return row, err
	}
	defer rmdir()
	r, err := d.start(filepath.Join(dir, "dut"), dutOptions{Shards: []uint16{0}, Store: true, Pprof: c.PprofDir != ""})
	if err != nil {
		return row, err
	}
	defer r.stop()
	peers, err := startBenchPeers(c.Wire, dir, r.addr)
	if err != nil {
		return row, err
	}
	defer peers.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = waitHTTP(ctx, r.metricsURL)
	cancel()
	if err != nil {
		return row, err
	}
	time.Sleep(3 * time.Second) // a few heartbeats for the mesh to form
	var profile func() error
	if c.PprofDir != "" {
		if profile, err = startProfile(c.PprofDir, r, rate, size, c.Dur); err != nil {
			return row, err
		}
	}
	in0, out0, hasBytes := relayBytes(r.metricsURL)
	sock0, err := tcpBytes(r.pid(), r)
	if err != nil {
		return row, err
	}
	cpu0, _, err := treeUsage(r.pid())
	if err != nil {
		return row, err
	}
	start := time.Now()
	budgetURL := ""
	if c.PprofDir != "" {
		budgetURL = r.metricsURL
	}
	anon := startAnonPeak(r.pid(), anonSampleEvery, budgetURL)
	var seq uint64
	row.Sent = publishAt(peers.send, rate, size, c.Dur, &seq)
	lat := collect(peers.deliveries, 0, seq, c.Quiet)
	row.PeakAnonKB, row.Budget = anon.Stop()
	cpu1, peak, err := treeUsage(r.pid())
	if err != nil {
		return row, err
	}
	wall := time.Since(start)
	in1, out1, _ := relayBytes(r.metricsURL)
	sock1, err := tcpBytes(r.pid(), r)
	if err != nil {
		return row, err
	}
	slices.Sort(lat)
	row.Delivered, row.PeakRSSKB = len(lat), peak
	row.Cores = (cpu1 - cpu0).Seconds() / wall.Seconds()
	if len(lat) > 0 {
		row.P50, row.P99 = lat[(len(lat)-1)*50/100], lat[(len(lat)-1)*99/100]
	}
	if row.Sent > 0 {
		wireIn, wireOut := sock1.since(sock0)
		row.WireIn, row.WireOut = float64(wireIn)/float64(row.Sent), float64(wireOut)/float64(row.Sent)
	}
	if row.Sent > 0 && hasBytes {
		row.HasBytes, row.BytesIn, row.BytesOut = true, (in1-in0)/float64(row.Sent), (out1-out0)/float64(row.Sent)
	}
	if profile != nil {
		if err := profile(); err != nil {
			return row, err
		}
	}
	// A walk that fails is reported in the row, not fatal: the load figures stand without it.
	if row.Stored, err = peers.storeCount(dir, r.addr); err != nil {
		row.StoreErr = err
		fmt.Fprintf(os.Stderr, "wakubench: %s, %d msg/s x %d B: store walk: %v\n", row.Kind, rate, size, err)
	}
	row.StoreDropped, row.HasStoreDrops = storeDrops(scrape(r.metricsURL))
	if _, row.WalkPeakRSSKB, err = treeUsage(r.pid()); err != nil {
		return row, err
	}
	return row, nil
}

// legacyStoreCount walks the node's whole store over legacy store v2, the store protocol
// both nodes serve (go-waku v0.10 serves no store v3, and its REST store queries a remote
// peer), from the in-process peer c.
func legacyStoreCount(c *node.Node, addr multiaddr.Multiaddr) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	q := &storepb.HistoryQuery{
		PubsubTopic:    proto.String(benchTopic),
		ContentFilters: []*storepb.ContentFilter{{ContentTopic: benchContentTopic}},
		PagingInfo:     &storepb.PagingInfo{PageSize: proto.Uint64(100), Direction: storepb.PagingInfo_FORWARD.Enum()},
	}
	n := 0
	for {
		resp, err := c.Store().LegacyQuery(ctx, addr, q)
		if err != nil {
			return n, err
		}
		if resp.GetError() != storepb.HistoryResponse_NONE {
			return n, fmt.Errorf("store answered %s", resp.GetError())
		}
		n += len(resp.GetMessages())
		cur := resp.GetPagingInfo().GetCursor()
		if cur == nil || len(resp.GetMessages()) == 0 {
			return n, nil
		}
		q.PagingInfo.Cursor = cur
	}
}

// relayBytes reads the node's gross relay bytes in and out (waku_relay_network_bytes_total);
// ok is false when the node exports no such counter (go-waku).
func relayBytes(metricsURL string) (in, out float64, ok bool) {
	body := scrape(metricsURL)
	const name = "waku_relay_network_bytes_total"
	ok = strings.Contains(body, "\n"+name+"{") || strings.Contains(body, "# TYPE "+name+" ")
	return sumSeries(body, name, `type="gross"`, `direction="in"`), sumSeries(body, name, `type="gross"`, `direction="out"`), ok
}

// storeDrops sums the archive's drops of messages it had accepted (archive.DropReasons)
// in a metrics page. ok is false where the page has no archive (go-waku's, or the store off).
func storeDrops(body string) (n int, ok bool) {
	const name = "waku_archive_errors_total"
	var sum float64
	for _, typ := range archive.DropReasons() {
		sum += sumSeries(body, name, `type="`+typ+`"`)
	}
	return int(sum), strings.Contains(body, "\nwaku_archive_messages{")
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
func pprofBase(rest, metricsURL string) (string, error) {
	for _, base := range []string{strings.TrimSuffix(metricsURL, "/metrics"), rest} {
		resp, err := http.Get(base + "/debug/pprof/")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return base + "/debug/pprof/", nil
		}
	}
	return "", errors.New("--pprof: the node serves no /debug/pprof/ on its metrics or REST server (is the binary older than --metrics-pprof? go-waku serves it on REST with --pprof)")
}

// startProfile begins a CPU profile covering the publishing phase; the returned func waits for
// it, then takes a heap profile of the node still holding the step's state.
func startProfile(dir string, r *runningDUT, rate, size int, dur time.Duration) (func() error, error) {
	base, err := pprofBase(r.rest, r.metricsURL)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	name := func(kind string) string {
		return filepath.Join(dir, fmt.Sprintf("%s-%s-%dB-%dmsgs.pprof", r.kind, kind, size, rate))
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
