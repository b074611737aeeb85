package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wakunode/wakunode/cmd/wakunode/internal/cli"
	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/metrics"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/peerexchange"
	"github.com/wakunode/wakunode/store"
)

// metricsServer serves Prometheus text at /metrics (--metrics-server). The node registers
// its own collectors (package metrics) on reg; newRegistry adds the Go runtime and process ones.
type metricsServer struct {
	reg    prometheus.Gatherer
	pprof  bool // --metrics-pprof: also serve /debug/pprof/
	srv    *http.Server
	served chan struct{}
}

// newRegistry is the registry the node's metrics go to, for --metrics-server and
// --metrics-logging alike.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	registerRuntime(reg)
	return reg
}

// registerRuntime adds the Go runtime (go_*) and process (process_*) collectors.
func registerRuntime(reg prometheus.Registerer) {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// start listens on addr and serves in the background; it returns the bound address.
func (m *metricsServer) start(addr string, log *slog.Logger) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("metrics server: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	if m.pprof {
		// pprof.Index serves the named profiles (heap, goroutine, ...) under the prefix; the
		// other four are handlers of their own, as net/http/pprof registers them.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	m.served = make(chan struct{})
	go func() {
		defer close(m.served)
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return ln.Addr().String(), nil
}

// close stops the server and waits for its goroutine.
func (m *metricsServer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := m.srv.Shutdown(ctx)
	<-m.served
	return err
}

// servicePeers are the configured service peers, for waku_service_peers.
func servicePeers(o *cli.Options) ([]metrics.ServicePeer, error) {
	var out []metrics.ServicePeer
	for _, sp := range []struct {
		flag, addr string
		proto      protocol.ID
	}{{"--storenode", o.StoreNode, store.QueryProtocol}, {"--filternode", o.FilterNode, filter.SubscribeProtocol},
		{"--lightpushnode", o.LightpushNode, lightpush.ProtocolV3}, {"--peer-exchange-node", o.PeerExchangeNode, peerexchange.ProtocolID}} {
		if sp.addr == "" {
			continue
		}
		info, err := peer.AddrInfoFromString(sp.addr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sp.flag, err)
		}
		out = append(out, metrics.ServicePeer{Protocol: sp.proto, Peer: info.ID})
	}
	return out, nil
}

// nodeView is what metrics.WatchNode reads of a node: its host and the shards it relays.
type nodeView struct{ n *node.Node }

func (v nodeView) Host() host.Host       { return v.n.Host() }
func (v nodeView) RelayTopics() []string { return v.n.Relay().Topics() }
