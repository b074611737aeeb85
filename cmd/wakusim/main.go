// Command wakusim runs many Waku relay nodes in one process and measures what relaying costs
// each of them: copies per message, amplification, bytes sent and received per published
// message (payload copies and each kind of control), delivery and latency.
//
//	wakusim --nodes 100 --degree 16 --router gossipsub --shards 1 --messages 100 --size 10000 --rate 10 --json
//	wakusim --sweep --out docs/scaling
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/wakunode/wakunode/relay"
	"github.com/wakunode/wakunode/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "wakusim:", err)
		os.Exit(1)
	}
}

// optBool is a tri-state flag: unset keeps the profile's value.
type optBool struct{ set, v bool }

func (b *optBool) String() string {
	if !b.set {
		return ""
	}
	return fmt.Sprint(b.v)
}

func (b *optBool) Set(s string) error {
	switch strings.ToLower(s) {
	case "on", "true", "1":
		b.v = true
	case "off", "false", "0":
		b.v = false
	default:
		return fmt.Errorf("want on or off, have %q", s)
	}
	b.set = true
	return nil
}

func (b *optBool) IsBoolFlag() bool { return true }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wakusim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c sim.Config
	fs.IntVar(&c.Nodes, "nodes", 30, "number of relay nodes")
	fs.IntVar(&c.Degree, "degree", 8, "connections per node in the random graph")
	fs.StringVar(&c.Router, "router", sim.RouterGossip, "flood or gossipsub")
	profile := fs.String("params", "node", "gossipsub profile: node (relay.DefaultParams), nwaku (relay.NwakuParams) or library (go-libp2p-pubsub defaults)")
	d := fs.Int("D", 0, "override gossipsub D")
	dlo := fs.Int("Dlo", 0, "override gossipsub Dlo")
	dhi := fs.Int("Dhi", 0, "override gossipsub Dhi")
	dlazy := fs.Int("Dlazy", -1, "override gossipsub Dlazy")
	history := fs.Int("history", 0, "override gossipsub HistoryLength (heartbeats of messages kept to answer IWANT)")
	gossip := fs.Int("gossip", 0, "override gossipsub HistoryGossip (heartbeats of messages advertised in IHAVE)")
	heartbeat := fs.Duration("heartbeat", 0, "override gossipsub HeartbeatInterval")
	var idw, fpub optBool
	fs.Var(&idw, "idontwant", "IDONTWANT on|off (default: the profile's)")
	idwMin := fs.Int("idontwant-min-size", 0, "smallest message data (bytes) IDONTWANT is sent for (default: the profile's)")
	fs.Var(&fpub, "flood-publish", "flood publish on|off (default: the profile's)")
	fs.IntVar(&c.Shards, "shards", 1, "number of shards; node i relays shard i mod S")
	fs.BoolVar(&c.AllShards, "all-shards", false, "every node relays every shard")
	fs.IntVar(&c.Messages, "messages", 50, "messages to publish")
	fs.IntVar(&c.Size, "size", 1000, "payload bytes per message")
	fs.Float64Var(&c.Rate, "rate", 10, "messages per second, network-wide")
	fs.DurationVar(&c.Latency, "latency", 20*time.Millisecond, "one-way latency per mocknet link")
	fs.StringVar(&c.Transport, "transport", sim.TransportMock, "mock (mocknet) or tcp (loopback hosts)")
	fs.Float64Var(&c.Churn, "churn", 0, "share of nodes restarting once during the run")
	fs.DurationVar(&c.ChurnDowntime, "churn-downtime", time.Second, "how long a restarting node stays down")
	fs.Float64Var(&c.Loss, "loss", 0, "probability that a data message copy on a link is lost")
	fs.DurationVar(&c.Warmup, "warmup", 3*time.Second, "mesh formation time before publishing")
	fs.DurationVar(&c.Drain, "drain", 5*time.Second, "max wait for deliveries after the last publish")
	fs.DurationVar(&c.Timeout, "timeout", 0, "bound on the whole run (default: derived)")
	fs.Int64Var(&c.Seed, "seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "print one JSON object")
	sweep := fs.Bool("sweep", false, "run the sweep and write results.md and SVG plots")
	sweepName := fs.String("sweep-set", "figures", "sweep: figures, tune or ci")
	out := fs.String("out", "wakusim-out", "sweep output directory")
	verbose := fs.Bool("v", false, "log relay warnings to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, v := range []struct {
		name string
		bad  bool
	}{
		{"--nodes", c.Nodes < 2}, {"--degree", c.Degree < 1}, {"--shards", c.Shards < 1},
		{"--messages", c.Messages < 1}, {"--size", c.Size < 1}, {"--rate", c.Rate <= 0},
		{"--churn", c.Churn < 0 || c.Churn > 1}, {"--loss", c.Loss < 0 || c.Loss >= 1},
	} {
		if v.bad {
			return fmt.Errorf("%s: value out of range", v.name)
		}
	}
	if *verbose {
		c.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if *sweep {
		return sim.Sweep(ctx, sim.SweepConfig{Set: *sweepName, Dir: *out, Log: stderr, Base: c})
	}

	switch *profile {
	case "node":
		c.Params, c.ParamsName = relay.DefaultParams(), "node"
	case "nwaku":
		c.Params, c.ParamsName = relay.NwakuParams(), "nwaku"
	case "library":
		c.Params, c.ParamsName = sim.LibraryParams(), "library"
	default:
		return fmt.Errorf("unknown --params %q (node, nwaku or library)", *profile)
	}
	if *history > 0 || *gossip > 0 {
		p := &c.Params
		p.HistoryLength, p.HistoryGossip = pick(*history, p.HistoryLength), pick(*gossip, p.HistoryGossip)
		if p.HistoryGossip > p.HistoryLength {
			return fmt.Errorf("IHAVE over %d heartbeats (--gossip) with a history of %d (--history): an advertised message must still be kept", p.HistoryGossip, p.HistoryLength)
		}
		c.ParamsName += fmt.Sprintf("+history%d/%d", p.HistoryLength, p.HistoryGossip)
	}
	if *heartbeat < 0 {
		return fmt.Errorf("--heartbeat %v: must be positive", *heartbeat)
	}
	if *heartbeat > 0 {
		c.Params.HeartbeatInterval = *heartbeat
		c.ParamsName += "+heartbeat" + heartbeat.String()
	}
	if *d > 0 || *dlo > 0 || *dhi > 0 || *dlazy >= 0 {
		p := c.Params
		c.Params = sim.WithDegrees(p, pick(*d, p.D), pick(*dlo, p.Dlo), pick(*dhi, p.Dhi), pickLazy(*dlazy, p.Dlazy))
		c.ParamsName += "+custom"
	}
	if idw.set {
		c.Params.IDontWant = idw.v
	}
	if *idwMin > 0 {
		c.Params.IDontWantMinSize = *idwMin
		c.ParamsName += fmt.Sprintf("+idontwant%dB", *idwMin)
	}
	if fpub.set {
		c.Params.FloodPublish = fpub.v
	}
	res, err := sim.Run(ctx, c)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	fmt.Fprintln(stdout, sim.MarkdownHeader())
	fmt.Fprintln(stdout, sim.MarkdownRow(res))
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "Bytes each node sends per published message, by kind:")
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, sim.WireKindsHeader())
	fmt.Fprintln(stdout, sim.WireKindsRow(res))
	if res.TimedOut {
		return errors.New("run timed out; results are partial")
	}
	return nil
}

func pick(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func pickLazy(v, def int) int {
	if v >= 0 {
		return v
	}
	return def
}
