// Command wakubridge bridges Waku v1 (devp2p, 6/WAKU1) and Waku v2 (libp2p) per
// 15/WAKU-BRIDGE. Like nwaku's historic wakubridge it is a separate binary from the node: the
// v2→v1 direction spends PoW on every message, which the spec recommends keeping away from
// regular nodes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wakunode/wakunode/bridge"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/rest"
	"github.com/wakunode/wakunode/wakuv1"
)

// version is set at link time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command. Exit codes: 0 clean stop, 1 runtime failure, 2 bad command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args)
	if errors.Is(err, errHelp) {
		usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "wakubridge: %v\nRun 'wakubridge --help' for the flags.\n", err)
		return 2
	}
	level, _ := parseLevel(o.LogLevel)
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: level}))
	a, err := start(ctx, o, log)
	if err != nil {
		log.Error("wakubridge failed to start", "err", err)
		return 1
	}
	log.Info("wakubridge running", "version", version)
	<-ctx.Done()
	log.Info("shutting down")
	a.stop()
	return 0
}

// app is a running bridge: both nodes, the bridge and the operator servers.
type app struct {
	v1      *wakuv1.Node
	v2      *node.Node
	br      *bridge.Bridge
	rest    *rest.Server
	http    *opsServer
	removes []func()
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// start brings everything up in dependency order; on error what started is stopped.
func start(ctx context.Context, o *options, log *slog.Logger) (a *app, err error) {
	a = &app{}
	defer func() {
		if err != nil {
			a.stop()
		}
	}()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	v1cfg := wakuv1.DefaultConfig()
	v1cfg.PrivateKey = o.NodeKeyV1
	v1cfg.ListenAddr = hostPort(o.ListenAddress, o.DevP2PPort+o.PortsShift)
	v1cfg.NAT = o.natInterface
	v1cfg.StaticNodes = o.StaticNodesV1
	v1cfg.MaxPeers = o.MaxPeersV1
	v1cfg.MinPoW = o.PoW
	v1cfg.Topics = o.TopicInterest
	v1cfg.Name = "wakunode/wakubridge/" + version
	v1cfg.Logger = log.With("stack", "v1")
	if a.v1, err = wakuv1.New(v1cfg); err != nil {
		return a, err
	}
	reg.MustRegister(a.v1.Metrics().Collectors()...)

	v2cfg := node.DefaultConfig()
	v2cfg.DataDir = o.DataDir
	v2cfg.NodeKey = o.NodeKeyV2
	v2cfg.ListenAddress = o.ListenAddress
	v2cfg.TCPPort = o.LibP2PPort + o.PortsShift
	v2cfg.NAT = o.NAT
	v2cfg.ClusterID = o.Shard.Cluster
	v2cfg.Shards = []uint16{o.Shard.Index}
	v2cfg.StaticNodes = o.StaticNodesV2
	v2cfg.Registerer = reg
	v2cfg.Logger = log.With("stack", "v2")
	v2cfg.Version = version
	if a.v2, err = node.New(v2cfg); err != nil {
		return a, fmt.Errorf("v2 node: %w", err)
	}

	bcfg := bridge.DefaultConfig()
	bcfg.PubsubTopic = o.PubsubTopic
	bcfg.PoW = o.PoW
	bcfg.TTL = uint32(o.TTL)
	bcfg.Logger = log.With("component", "bridge")
	if a.br, err = bridge.New(bcfg, a.v1, a.v2); err != nil {
		return a, err
	}
	reg.MustRegister(a.br.Metrics().Collectors()...)

	if err = a.v1.Start(); err != nil {
		return a, err
	}
	if err = a.v2.Start(ctx); err != nil {
		return a, fmt.Errorf("start v2 node: %w", err)
	}
	a.removes = append(a.removes, a.v2.AddConsumer(a.br))
	if err = a.br.Start(); err != nil {
		return a, err
	}
	log.Info("Waku v2 node listening", "addrs", fmt.Sprint(a.v2.ListenAddrs()), "pubsubTopic", o.PubsubTopic)

	if o.REST {
		a.rest = rest.New(rest.Config{Address: o.RESTAddress, Port: o.RESTPort + o.PortsShift, Version: version, Logger: log}, rest.NodeBackend(a.v2))
		if err = a.rest.Start(); err != nil {
			return a, fmt.Errorf("REST: %w", err)
		}
		log.Info("REST API listening on "+a.rest.Addr().String(), "addr", a.rest.Addr().String())
	}
	if o.Metrics {
		a.http = newOpsServer(reg, a.v1)
		addr, err := a.http.start(hostPort(o.MetricsAddr, o.MetricsPort+o.PortsShift), log)
		if err != nil {
			return a, err
		}
		log.Info("metrics server listening on "+addr+" (/metrics, /v1/peers)", "addr", addr)
	}
	return a, nil
}

// stop undoes start, last-started first. It is safe on a partly started app.
func (a *app) stop() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if a.http != nil {
			a.http.close()
		}
		if a.rest != nil {
			a.rest.Close()
		}
		for _, r := range a.removes {
			r()
		}
		if a.br != nil {
			a.br.Stop()
		}
		if a.v2 != nil {
			_ = a.v2.Stop()
		}
		if a.v1 != nil {
			a.v1.Stop()
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}
