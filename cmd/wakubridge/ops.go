package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wakunode/wakunode/wakuv1"
)

// opsServer serves Prometheus text at /metrics and the connected v1 peers as JSON at /v1/peers
// (--metrics-server): the v2 node's REST API has no place for v1 peers.
type opsServer struct {
	srv    *http.Server
	served chan struct{}
	addr   string
}

type v1Peers interface{ Peers() []wakuv1.PeerInfo }

func newOpsServer(reg *prometheus.Registry, v1 v1Peers) *opsServer {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /v1/peers", func(w http.ResponseWriter, _ *http.Request) {
		peers := v1.Peers()
		if peers == nil {
			peers = []wakuv1.PeerInfo{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(peers)
	})
	return &opsServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
}

// start listens on addr and serves in the background; it returns the bound address.
func (s *opsServer) start(addr string, log *slog.Logger) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("metrics server: %w", err)
	}
	s.served = make(chan struct{})
	s.addr = ln.Addr().String()
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return ln.Addr().String(), nil
}

func (s *opsServer) close() {
	if s.served == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	<-s.served
}
