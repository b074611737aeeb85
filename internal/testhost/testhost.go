// Package testhost gives tests real libp2p hosts that listen on 127.0.0.1 only.
package testhost

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// New starts a host closed at the end of the test. Without options it listens on
// 127.0.0.1 TCP (a free port) with circuit relay off; options replace those defaults.
func New(tb testing.TB, opts ...libp2p.Option) host.Host {
	tb.Helper()
	if len(opts) == 0 {
		opts = []libp2p.Option{libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay()}
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		tb.Fatalf("new host: %v", err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	return h
}

// Connect dials b from a (10 s bound) and fails the test if it cannot.
func Connect(tb testing.TB, a, b host.Host) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		tb.Fatalf("connect: %v", err)
	}
}
