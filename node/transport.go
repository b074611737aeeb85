package node

import (
	"errors"
	"fmt"
	"slices"

	mplex "github.com/libp2p/go-libp2p-mplex"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	libp2pmetrics "github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/sec"
	"github.com/libp2p/go-libp2p/core/transport"
	basichost "github.com/libp2p/go-libp2p/p2p/host/basic"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/host/observedaddrs"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/net/upgrader"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/libp2p/go-libp2p/p2p/transport/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// hostParts is what the node's libp2p host is assembled from.
type hostParts struct {
	key          crypto.PrivKey
	userAgent    string
	muxers       []string // empty: yamux and mplex
	wsOpts       []websocket.Option
	rm           network.ResourceManager
	cm           connmgr.ConnManager
	gater        connmgr.ConnectionGater
	addrsFactory basichost.AddrsFactory
	natPortMap   bool
	registerer   prometheus.Registerer  // nil: no libp2p metrics
	bandwidth    libp2pmetrics.Reporter // nil: no per-stream byte counts
}

// assembleHost builds the host from its parts: peerstore, swarm, a Noise upgrader with the
// chosen muxers, TCP and WebSocket transports, and a basic host with identify and ping. This
// is what libp2p.New does for our options, without its dependency-injection constructor,
// which links and initialises QUIC, WebTransport and WebRTC (about 5 MB of a binary that
// is mostly resident) although the node uses none of them. No AutoNAT: nothing in the node
// reads reachability, and its probes are traffic the operator did not ask for.
func assembleHost(p hostParts) (host.Host, error) {
	id, err := peer.IDFromPrivateKey(p.key)
	if err != nil {
		return nil, fmt.Errorf("peer id: %w", err)
	}
	ps, err := pstoremem.NewPeerstore()
	if err != nil {
		return nil, fmt.Errorf("peerstore: %w", err)
	}
	if err := errors.Join(ps.AddPrivKey(id, p.key), ps.AddPubKey(id, p.key.GetPublic())); err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("peerstore keys: %w", err)
	}
	var busOpts []eventbus.Option
	swarmOpts := []swarm.Option{swarm.WithConnectionGater(p.gater), swarm.WithResourceManager(p.rm)}
	if p.registerer != nil {
		rcmgr.MustRegisterWith(p.registerer)
		busOpts = append(busOpts, eventbus.WithMetricsTracer(eventbus.NewMetricsTracer(eventbus.WithRegisterer(p.registerer))))
		swarmOpts = append(swarmOpts, swarm.WithMetricsTracer(swarm.NewMetricsTracer(swarm.WithRegisterer(p.registerer))))
	}
	if p.bandwidth != nil {
		swarmOpts = append(swarmOpts, swarm.WithMetrics(p.bandwidth))
	}
	bus := eventbus.NewBus(busOpts...)
	sw, err := swarm.NewSwarm(id, ps, bus, swarmOpts...)
	if err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("swarm: %w", err)
	}
	fail := func(what string, err error) (host.Host, error) {
		_ = sw.Close()
		_ = ps.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	muxers := streamMuxers(p.muxers)
	secure, err := noise.New(noise.ID, p.key, muxers)
	if err != nil {
		return fail("noise", err)
	}
	up, err := upgrader.New([]sec.SecureTransport{secure}, muxers, nil, p.rm, p.gater)
	if err != nil {
		return fail("upgrader", err)
	}
	// No SO_REUSEPORT: a second node on the same port must fail with "address already in
	// use" (as nwaku does), not silently share the port and take half of its dials.
	tcpT, err := tcp.NewTCPTransport(up, p.rm, nil, tcp.DisableReuseport())
	if err != nil {
		return fail("tcp transport", err)
	}
	wsT, err := websocket.New(up, p.rm, nil, p.wsOpts...)
	if err != nil {
		return fail("websocket transport", err)
	}
	for _, t := range []transport.Transport{tcpT, wsT} {
		if err := sw.AddTransport(t); err != nil {
			return fail("add transport", err)
		}
	}
	observed, err := observedaddrs.NewManager(bus, sw)
	if err != nil {
		return fail("observed addresses", err)
	}
	opts := &basichost.HostOpts{
		EventBus:             bus,
		ConnManager:          p.cm,
		AddrsFactory:         p.addrsFactory,
		EnablePing:           true,
		UserAgent:            p.userAgent,
		EnableMetrics:        p.registerer != nil,
		PrometheusRegisterer: p.registerer,
		ObservedAddrsManager: observed,
	}
	if p.natPortMap {
		opts.NATManager = basichost.NewNATManager
	}
	h, err := basichost.NewHost(sw, opts)
	if err != nil {
		_ = observed.Close()
		return fail("host", err)
	}
	observed.Start(sw)
	h.Start()
	return &assembledHost{BasicHost: h, observed: observed}, nil
}

// assembledHost closes the observed-address manager, which the basic host does not own.
type assembledHost struct {
	*basichost.BasicHost
	observed *observedaddrs.Manager
}

func (h *assembledHost) Close() error {
	_ = h.observed.Close()
	return h.BasicHost.Close()
}

// streamMuxers lists yamux and mplex (unmodified js-waku offers only mplex; go-waku only
// yamux), or those of them named in only.
func streamMuxers(only []string) []upgrader.StreamMuxer {
	all := []upgrader.StreamMuxer{
		{ID: yamux.ID, Muxer: yamux.DefaultTransport},
		{ID: mplex.ID, Muxer: mplex.DefaultTransport},
	}
	var out []upgrader.StreamMuxer
	for _, m := range all {
		if len(only) == 0 || slices.Contains(only, string(m.ID)) {
			out = append(out, m)
		}
	}
	return out
}

// addBuiltinServiceLimits gives identify and ping, the libp2p services the host runs, the
// resource limits libp2p.New would have given them. libp2p.SetDefaultServiceLimits sets these
// (and those of services we do not run), but it lives in the root package, whose import links
// the constructor this file avoids.
func addBuiltinServiceLimits(cfg *rcmgr.ScalingLimitConfig) {
	const streamMemory = 32 * (256<<20 + 16<<10) // libp2p's figure: in effect no memory limit
	idAll := rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20}
	idInc := rcmgr.BaseLimitIncrease{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20}
	cfg.AddServiceLimit(identify.ServiceName, idAll, idInc)
	cfg.AddServicePeerLimit(identify.ServiceName,
		rcmgr.BaseLimit{StreamsInbound: 16, StreamsOutbound: 16, Streams: 32, Memory: 1 << 20}, rcmgr.BaseLimitIncrease{})
	for _, id := range []protocol.ID{identify.ID, identify.IDPush} {
		cfg.AddProtocolLimit(id, idAll, idInc)
		cfg.AddProtocolPeerLimit(id,
			rcmgr.BaseLimit{StreamsInbound: 16, StreamsOutbound: 16, Streams: 32, Memory: streamMemory}, rcmgr.BaseLimitIncrease{})
	}
	pingAll := rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 64, Memory: 4 << 20}
	pingInc := rcmgr.BaseLimitIncrease{StreamsInbound: 64, StreamsOutbound: 64, Streams: 64, Memory: 4 << 20}
	pingPeer := rcmgr.BaseLimit{StreamsInbound: 2, StreamsOutbound: 3, Streams: 4, Memory: streamMemory}
	cfg.AddServiceLimit(ping.ServiceName, pingAll, pingInc)
	cfg.AddProtocolLimit(ping.ID, pingAll, pingInc)
	cfg.AddServicePeerLimit(ping.ServiceName, pingPeer, rcmgr.BaseLimitIncrease{})
	cfg.AddProtocolPeerLimit(ping.ID, pingPeer, rcmgr.BaseLimitIncrease{})
}
