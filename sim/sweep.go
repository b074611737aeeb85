package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wakunode/wakunode/relay"
)

// SweepConfig configures Sweep.
type SweepConfig struct {
	// Set is the sweep to run: "figures" (the plan's numbers and the three plots), "tune"
	// (lean settings under churn and loss) or "ci" (a seconds-long smoke of the machinery).
	Set string
	// Dir receives results.md, results.json and the SVG plots.
	Dir string
	// Log gets one line per finished run; nil means none.
	Log io.Writer
	// Base supplies Seed, Latency, Transport and Logger; the sweep sets the rest.
	Base Config
}

// run is one named point of a sweep.
type run struct {
	section, label string
	cfg            Config
}

func profile(name string) (relay.Params, string) {
	switch name {
	case "library":
		return LibraryParams(), "library"
	case "nwaku":
		return relay.NwakuParams(), "nwaku"
	}
	return relay.DefaultParams(), "node"
}

// routers are the three compared everywhere: flooding and gossipsub with both profiles.
var routers = []struct{ label, router, params string }{
	{"flood", RouterFlood, ""},
	{"gossipsub library", RouterGossip, "library"},
	{"gossipsub node", RouterGossip, "node"},
}

func withRouter(c Config, router, params string) Config {
	c.Router = router
	if router == RouterGossip {
		c.Params, c.ParamsName = profile(params)
	}
	return c
}

// TuneCandidates are the gossipsub settings the "tune" sweep tries, leanest last.
func TuneCandidates() []struct {
	Label  string
	Params relay.Params
} {
	node := relay.DefaultParams()
	out := []struct {
		Label  string
		Params relay.Params
	}{
		{"library", LibraryParams()},
		{"node", node},
	}
	add := func(label string, p relay.Params) {
		out = append(out, struct {
			Label  string
			Params relay.Params
		}{label, p})
	}
	for _, d := range [][4]int{{6, 4, 6, 6}, {5, 4, 6, 6}, {4, 3, 5, 6}, {4, 3, 4, 6}, {3, 2, 4, 6}, {3, 2, 3, 6}, {2, 2, 3, 6}} {
		add(fmt.Sprintf("D%d/%d/%d", d[0], d[1], d[2]), WithDegrees(node, d[0], d[1], d[2], d[3]))
	}
	p := WithDegrees(node, 4, 3, 5, 6)
	p.IDontWant = false
	add("D4/3/5 idontwant off", p)
	p = WithDegrees(node, 4, 3, 5, 6)
	p.FloodPublish = false
	add("D4/3/5 flood publish off", p)
	p = WithDegrees(node, 4, 3, 5, 3)
	add("D4/3/5 Dlazy3", p)
	return out
}

func sweepRuns(set string, base Config) ([]run, error) {
	var runs []run
	switch set {
	case "ci":
		c := base
		c.Nodes, c.Degree, c.Messages, c.Size, c.Rate, c.Warmup = 12, 6, 10, 500, 20, time.Second
		for _, r := range routers {
			for _, n := range []int{8, 12} {
				cc := withRouter(c, r.router, r.params)
				cc.Nodes = n
				runs = append(runs, run{"amplification", r.label, cc})
			}
			cc := withRouter(c, r.router, r.params)
			cc.Rate = 40
			runs = append(runs, run{"rate", r.label, cc})
		}
	case "figures":
		// Amplification vs N: degree 25 (the plan's "flooding over ~25 peers"), 10 KB.
		c := base
		c.Degree, c.Size, c.Messages, c.Rate = 25, 10_000, 60, 10
		for _, r := range routers {
			for _, n := range []int{30, 60, 100, 150} {
				cc := withRouter(c, r.router, r.params)
				cc.Nodes = n
				runs = append(runs, run{"amplification", r.label, cc})
			}
		}
		// The reference point: N=100, degree 16, 10 KB.
		c = base
		c.Nodes, c.Degree, c.Size, c.Messages, c.Rate = 100, 16, 10_000, 60, 10
		for _, r := range routers {
			runs = append(runs, run{"reference", r.label, withRouter(c, r.router, r.params)})
		}
		// Per-node bandwidth vs rate: N=60, degree 16, 5 s of traffic each.
		c = base
		c.Nodes, c.Degree, c.Size = 60, 16, 10_000
		for _, r := range routers {
			for _, rate := range []float64{5, 10, 20, 40} {
				cc := withRouter(c, r.router, r.params)
				cc.Rate, cc.Messages = rate, int(rate*5)
				runs = append(runs, run{"rate", r.label, cc})
			}
		}
		// Shards: 160 nodes, one shard each, degree 16 within the shard; same network load.
		c = base
		c.Nodes, c.Degree, c.Size, c.Messages, c.Rate = 160, 16, 10_000, 80, 16
		for _, s := range []int{1, 8} {
			for _, r := range routers[1:] {
				cc := withRouter(c, r.router, r.params)
				cc.Shards = s
				runs = append(runs, run{"shards", r.label, cc})
			}
			cc := withRouter(c, RouterFlood, "")
			cc.Shards, cc.Degree = s, 16
			runs = append(runs, run{"shards", "flood", cc})
		}
	case "tune":
		// Lean settings under 10 % churn and 5 % copy loss, N=100, degree 16, 10 KB.
		c := base
		c.Nodes, c.Degree, c.Size, c.Messages, c.Rate = 100, 16, 10_000, 80, 10
		c.Churn, c.Loss = 0.1, 0.05
		for _, cand := range TuneCandidates() {
			cc := c
			cc.Router, cc.Params, cc.ParamsName = RouterGossip, cand.Params, cand.Label
			runs = append(runs, run{"tune", cand.Label, cc})
		}
	default:
		return nil, fmt.Errorf("sim: unknown sweep %q (figures, tune, ci)", set)
	}
	return runs, nil
}

type sweepResult struct {
	Section string  `json:"section"`
	Label   string  `json:"label"`
	Result  *Result `json:"result"`
}

// Sweep runs a set of simulations one after another and writes results.md, results.json and
// (when the set has them) amplification_vs_n.svg, bandwidth_vs_rate.svg and latency_cdf.svg.
func Sweep(ctx context.Context, sc SweepConfig) error {
	if sc.Log == nil {
		sc.Log = io.Discard
	}
	runs, err := sweepRuns(sc.Set, sc.Base)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(sc.Dir, 0o755); err != nil {
		return fmt.Errorf("sim: sweep dir: %w", err)
	}
	var results []sweepResult
	for i, r := range runs {
		res, err := Run(ctx, r.cfg)
		if err != nil {
			return fmt.Errorf("sim: sweep %s/%s N=%d: %w", r.section, r.label, r.cfg.Nodes, err)
		}
		fmt.Fprintf(sc.Log, "[%d/%d] %s %s N=%d S=%d rate=%g: copies %.2f ampl %.2f load %.2f delivery %.4f p99 %.0f ms (%.0f s)\n",
			i+1, len(runs), r.section, r.label, res.Nodes, res.Shards, res.Rate, res.CopiesPerMessage, res.Amplification,
			res.NodeLoad, res.DeliveryRatio, res.LatencyP99, res.Seconds)
		results = append(results, sweepResult{r.section, r.label, res})
	}
	return writeSweep(sc.Dir, results)
}

func writeSweep(dir string, results []sweepResult) error {
	var md strings.Builder
	md.WriteString("# wakusim results\n\nGenerated by `wakusim --sweep`; columns are explained in docs/scaling.md.\n")
	// Group by section, sections in order of first appearance.
	first := map[string]int{}
	for i, r := range results {
		if _, ok := first[r.Section]; !ok {
			first[r.Section] = i
		}
	}
	grouped := append([]sweepResult(nil), results...)
	sort.SliceStable(grouped, func(i, j int) bool { return first[grouped[i].Section] < first[grouped[j].Section] })
	section := ""
	for _, r := range grouped {
		if r.Section != section {
			section = r.Section
			h := strings.SplitN(MarkdownHeader(), "\n", 2)
			fmt.Fprintf(&md, "\n## %s\n\n| label %s\n|---%s\n", section, h[0], h[1])
		}
		fmt.Fprintf(&md, "| %s %s\n", r.Label, MarkdownRow(r.Result))
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(md.String()), 0o644); err != nil {
		return fmt.Errorf("sim: write results: %w", err)
	}
	js, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), js, 0o644); err != nil {
		return fmt.Errorf("sim: write results: %w", err)
	}
	plots := map[string]Plot{}
	if s := seriesBy(results, "amplification", func(r *Result) float64 { return float64(r.Nodes) }, func(r *Result) float64 { return r.Amplification }); len(s) > 0 {
		plots["amplification_vs_n.svg"] = Plot{Title: "Amplification vs network size", XLabel: "nodes", YLabel: "bytes received per message / message size", Series: s}
	}
	if s := seriesBy(results, "rate", func(r *Result) float64 { return r.Rate }, func(r *Result) float64 { return r.BandwidthIn / 1000 }); len(s) > 0 {
		plots["bandwidth_vs_rate.svg"] = Plot{Title: "Per-node bandwidth vs message rate", XLabel: "messages per second", YLabel: "Mbit/s received per node", Series: s}
	}
	if s := latencySeries(results); len(s) > 0 {
		plots["latency_cdf.svg"] = Plot{Title: "Publish-to-delivery latency", XLabel: "ms", YLabel: "share of deliveries", Series: s}
	}
	for name, p := range plots {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("sim: plot: %w", err)
		}
		err = p.WriteSVG(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sim: plot %s: %w", name, err)
		}
	}
	return nil
}

// seriesBy draws one line per label from the section's results.
func seriesBy(results []sweepResult, section string, x, y func(*Result) float64) []Series {
	by := map[string][]CDFPoint{}
	var order []string
	for _, r := range results {
		if r.Section != section {
			continue
		}
		if _, ok := by[r.Label]; !ok {
			order = append(order, r.Label)
		}
		by[r.Label] = append(by[r.Label], CDFPoint{X: x(r.Result), P: y(r.Result)})
	}
	var out []Series
	for _, l := range order {
		pts := by[l]
		sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
		out = append(out, Series{Name: l, Points: pts})
	}
	return out
}

// latencySeries takes, per label, the largest network of the amplification section.
func latencySeries(results []sweepResult) []Series {
	best := map[string]*Result{}
	var order []string
	for _, r := range results {
		if r.Section != "amplification" && r.Section != "tune" {
			continue
		}
		b, ok := best[r.Label]
		if !ok {
			order = append(order, r.Label)
		}
		if !ok || r.Result.Nodes > b.Nodes {
			best[r.Label] = r.Result
		}
	}
	var out []Series
	for _, l := range order {
		name := l
		if r := best[l]; r.Nodes > 0 {
			name = fmt.Sprintf("%s N=%d", l, r.Nodes)
		}
		out = append(out, Series{Name: name, Points: CDF(best[l].Latencies, 100)})
	}
	return out
}
