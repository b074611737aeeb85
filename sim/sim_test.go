package sim

import (
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGossipFewerCopiesThanFlood runs both routers on the same graph (same seed) and checks
// the claim the simulator exists for: full delivery either way, fewer copies with gossipsub.
func TestGossipFewerCopiesThanFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("network run")
	}
	base := Config{Nodes: 24, Degree: 10, Messages: 20, Size: 2000, Rate: 20, Warmup: 2 * time.Second, Drain: 30 * time.Second, Seed: 7}
	results := map[string]*Result{}
	for _, router := range []string{RouterFlood, RouterGossip} {
		cfg := base
		cfg.Router = router
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatalf("%s: %v", router, err)
		}
		// Without churn every receiver is expected: each delivery counts once either way.
		if res.Published != cfg.Messages || res.Expected != cfg.Messages*(cfg.Nodes-1) || res.Delivered != res.Expected || res.Received != res.Delivered {
			t.Fatalf("%s: published %d, delivered %d of %d expected, received %d", router, res.Published, res.Delivered, res.Expected, res.Received)
		}
		if res.CopiesPerMessage < 1 {
			t.Fatalf("%s: %.2f copies per message: every non-publisher receives at least one", router, res.CopiesPerMessage)
		}
		results[router] = res
	}
	f, g := results[RouterFlood], results[RouterGossip]
	t.Logf("copies per message: flood %.2f, gossipsub %.2f", f.CopiesPerMessage, g.CopiesPerMessage)
	if g.CopiesPerMessage >= f.CopiesPerMessage {
		t.Fatalf("gossipsub %.2f copies per message, flood %.2f: want fewer", g.CopiesPerMessage, f.CopiesPerMessage)
	}
	// Flooding: every node hears each message from every neighbour but the one it came from.
	if f.CopiesPerMessage < float64(base.Degree)-3 {
		t.Fatalf("flood over degree %d: %.2f copies per message", base.Degree, f.CopiesPerMessage)
	}
}

// TestShardsSplitLoad: with 2 shards each node relays half the network's messages.
func TestShardsSplitLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("network run")
	}
	res, err := Run(context.Background(), Config{Nodes: 24, Degree: 6, Shards: 2, Messages: 20, Rate: 20, Warmup: 2 * time.Second, Drain: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Delivered != res.Expected || res.Expected != 20*11 {
		t.Fatalf("delivered %d of %d expected (want 20 messages x 11 shard peers)", res.Delivered, res.Expected)
	}
	if res.NodeLoad >= res.Amplification*0.75 {
		t.Fatalf("node load %.2f vs amplification %.2f: two shards should halve it", res.NodeLoad, res.Amplification)
	}
}

// TestChurnAndLossRun exercises restarts and the lossy streams end to end.
func TestChurnAndLossRun(t *testing.T) {
	if testing.Short() {
		t.Skip("network run")
	}
	res, err := Run(context.Background(), Config{Nodes: 20, Degree: 8, Messages: 30, Rate: 15, Churn: 0.2, Loss: 0.2,
		ChurnDowntime: 300 * time.Millisecond, Warmup: 2 * time.Second, Drain: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Restarts != 4 || res.LostCopies == 0 {
		t.Fatalf("restarts %d, lost copies %d: churn or loss not applied", res.Restarts, res.LostCopies)
	}
	if res.Expected == 0 || res.Delivered == 0 || res.Received < res.Delivered {
		t.Fatalf("delivered %d of %d, received %d", res.Delivered, res.Expected, res.Received)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, c := range map[string]Config{
		"router":    {Router: "carrier-pigeon"},
		"transport": {Transport: "udp"},
		"one node":  {Nodes: 1},
		"tiny size": {Size: 4},
		"loss":      {Loss: 1},
		"shards":    {Nodes: 4, Shards: 3},
		"D":         {Params: WithDegrees(LibraryParams(), 1, 1, 2, 1)},
	} {
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestSweepCI runs the smallest sweep and checks its files: the table has a row per run and
// each plot is well-formed SVG with one line per router.
func TestSweepCI(t *testing.T) {
	if testing.Short() {
		t.Skip("network runs")
	}
	dir := t.TempDir()
	if err := Sweep(context.Background(), SweepConfig{Set: "ci", Dir: dir, Base: Config{Seed: 3}}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(md), "\n| "); n != 9+2 { // 9 runs, 2 section headers
		t.Fatalf("results.md has %d table lines:\n%s", n, md)
	}
	for _, name := range []string{"amplification_vs_n.svg", "bandwidth_vs_rate.svg", "latency_cdf.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(b, new(struct{})); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := strings.Count(string(b), "<polyline"); n != 3 {
			t.Fatalf("%s: %d lines, want 3", name, n)
		}
	}
}
