// Command wakunode runs a Waku v2 node. It takes nwaku's flags and TOML config files
// (spec/cli.md); parsing lives in internal/cli, the node in package node.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wakunode/wakunode/cmd/wakunode/internal/cli"
	"github.com/wakunode/wakunode/internal/gcpace"
	"github.com/wakunode/wakunode/internal/procs"
	"github.com/wakunode/wakunode/metrics"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/rest"
)

// version is set at link time: go build -ldflags "-X main.version=v1.2.3".
var version string

// shutdownTimeout bounds a clean stop; after it the process exits anyway.
const shutdownTimeout = 5 * time.Second

// defaultGCPercent is the GC target the node runs with unless GOGC is set. Most of a busy
// node's heap is message payloads held for gossip (relay's message history) and for the
// archive: large pointer-free buffers that a collection marks almost for free, so collecting
// at 1.5× the live heap instead of Go's 2× takes 15-30 MB off the peak at 10 KB × 1,000 msg/s
// for about one per cent more GC CPU (docs/benchmarks-history.md, "Where the memory goes").
const defaultGCPercent = 50

// gcHeadroom caps GOGC's headroom in bytes once the live heap passes 32 MiB: at 10 KB ×
// 1,000 msg/s (~60 MiB live, most of it gossip history) this took 17 MB off the peak for
// 0.013 cores of GC (docs/benchmarks-history.md, session 12). The headroom is never under the
// scannable heap (a heap of pointers, as at 1 KB × 10,000 msg/s, stays with GOGC) nor under
// gcMinPercent of the live heap: half of GOGC's, so the GC never runs more than twice as often
// as GOGC alone would make it. A tenth doubled the GC's CPU at 10 KB × 7,500 msg/s (0.28
// against 0.15 cores, 300-500 MiB live; docs/benchmarks-history.md, session 13). No fixed memory limit: one below
// the live heap at a burst makes the GC spin; gcpace moves its limit with the live heap. An
// operator's GOMEMLIMIT stays the ceiling.
const (
	gcHeadroom   = 16 << 20
	gcMinPercent = defaultGCPercent / 2
)

// tuneGC applies defaultGCPercent and starts the headroom governor unless the operator chose
// GOGC (which the runtime has then applied itself); it returns the governor, nil with GOGC set.
func tuneGC(getenv func(string) string) *gcpace.Governor {
	if getenv("GOGC") != "" {
		return nil
	}
	debug.SetGCPercent(defaultGCPercent)
	return gcpace.Start(gcpace.Config{Headroom: gcHeadroom, MinPercent: gcMinPercent, GCPercent: defaultGCPercent})
}

func main() {
	pace := tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, stop, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	pace.Stop()
	os.Exit(code)
}

// run is the whole command. It returns when ctx ends (a signal); stopSignals is called
// then so that a second signal kills the process at once. Exit codes: 0 clean stop,
// 1 failure at runtime, 2 bad command line or config file.
func run(ctx context.Context, stopSignals func(), args []string, stdout, stderr io.Writer) int {
	opts, err := cli.Parse(args)
	if errors.Is(err, cli.ErrHelp) {
		cli.Usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "wakunode: %v\nRun 'wakunode --help' for the flags.\n", err)
		return 2
	}
	ver := cli.ResolveVersion(version)
	if opts.Version {
		fmt.Fprintln(stdout, ver)
		return 0
	}
	log, logLevel := cli.NewLeveledLogger(stdout, opts.LogLevel, opts.LogFormat) // nwaku logs to stdout too
	slog.SetDefault(log)
	for _, note := range opts.Notes {
		log.Warn(note)
	}
	cfg, err := opts.NodeConfig(log, ver)
	if err != nil {
		fmt.Fprintf(stderr, "wakunode: %v\n", err)
		return 2
	}

	var reg registry
	if opts.MetricsServer || opts.MetricsLogging {
		reg = newRegistry()
	}
	var stops []func() error // run in reverse order on the way out
	err = start(ctx, opts, cfg, reg, log, cli.LevelSetter(logLevel), ver, &stops)
	if err == nil {
		<-ctx.Done()
		stopSignals()
		log.Info("shutting down")
	}
	if serr := shutdown(stops); serr != nil {
		err = errors.Join(err, serr)
	}
	if err != nil {
		log.Error("wakunode failed", "err", err)
		return 1
	}
	return 0
}

// registry receives the node's metrics and serves them (--metrics-server, --metrics-logging).
type registry interface {
	prometheus.Registerer
	prometheus.Gatherer
}

// start brings up the node, then REST and metrics (reg nil: no metrics); each success adds its
// stop function.
// setLevel changes the running log level (REST /admin/v1/log-level).
func start(ctx context.Context, o *cli.Options, cfg node.Config, reg registry, log *slog.Logger, setLevel func(string) error, ver string, stops *[]func() error) error {
	if err := prepareDirs(o); err != nil {
		return err
	}
	var servers []any // for the summary line
	if reg != nil {
		cfg.Registerer = reg
	}
	// GOMAXPROCS follows the load (package procs) unless the operator set it.
	gov := procs.New(procs.Config{Logger: log}, os.Getenv)
	gov.Start()
	*stops = append(*stops, func() error { gov.Stop(); return nil })
	if cfg.Store.Enabled {
		cfg.StoreWriterBusy = gov.WriterBusy
	}
	n, err := node.New(cfg)
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	*stops = append(*stops, n.Stop)
	if reg != nil {
		sp, err := servicePeers(o)
		if err != nil {
			return err
		}
		metrics.WatchNode(reg, nodeView{n}, sp)
	}

	if o.REST {
		rcfg := o.RESTConfig(log, ver)
		rcfg.LogLevel = setLevel
		srv := rest.New(rcfg, rest.NodeBackend(n))
		if err := srv.Start(); err != nil {
			srv.Close()
			return err
		}
		*stops = append(*stops, srv.Close)
		log.Info("REST API listening on "+srv.Addr().String(), "addr", srv.Addr().String())
		servers = append(servers, "rest", srv.Addr().String())
	}
	if o.MetricsServer {
		srv := &metricsServer{reg: reg, pprof: o.MetricsPprof}
		addr, err := srv.start(o.MetricsAddr(), log)
		if err != nil {
			return err
		}
		*stops = append(*stops, srv.close)
		log.Info("metrics server listening on "+addr, "addr", addr)
		servers = append(servers, "metrics", addr)
	}
	if o.MetricsLogging {
		stop := metrics.StartLogging(reg, log, metrics.LogInterval)
		*stops = append(*stops, func() error { stop(); return nil })
	}
	logSummary(log, o, n, ver, servers)
	return nil
}

// shutdown runs stops last-first, giving up after shutdownTimeout.
func shutdown(stops []func() error) error {
	done := make(chan error, 1)
	go func() {
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i]())
		}
		done <- errors.Join(errs...)
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(shutdownTimeout):
		return fmt.Errorf("shutdown took longer than %s; exiting anyway", shutdownTimeout)
	}
}
