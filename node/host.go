package node

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	libp2pmetrics "github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/transport/websocket"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/internal/lograte"
	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/metadata"
	"github.com/wakunode/wakunode/peerexchange"
	"github.com/wakunode/wakunode/peers"
	"github.com/wakunode/wakunode/relay"
	"github.com/wakunode/wakunode/store"
)

// listenAddrs turns the config's ports into multiaddrs.
func listenAddrs(cfg Config) ([]multiaddr.Multiaddr, error) {
	ip := net.ParseIP(cfg.ListenAddress)
	if ip == nil {
		return nil, fmt.Errorf("listen address %q is not an IP", cfg.ListenAddress)
	}
	family := "ip4"
	if ip.To4() == nil {
		family = "ip6"
	}
	base := "/" + family + "/" + ip.String() + "/tcp/"
	strs := []string{base + strconv.Itoa(cfg.TCPPort)}
	if cfg.WebSocket || cfg.WebSocketSecure {
		ws := "/ws"
		if cfg.WebSocketSecure {
			ws = "/wss"
		}
		strs = append(strs, base+strconv.Itoa(cfg.WebSocketPort)+ws)
	}
	out := make([]multiaddr.Multiaddr, 0, len(strs))
	for _, s := range strs {
		a, err := multiaddr.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("listen address %s: %w", s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// newHost builds the transport layer: TCP and WebSocket (plain or TLS), Noise, and both yamux
// and mplex (unmodified js-waku offers only mplex; go-waku only yamux). The returned gater
// (IP colocation before the handshake, bans) belongs to the peer manager.
// bandwidth, if not nil, counts the bytes of every stream (metrics.Registry.ServiceBytes).
func newHost(cfg Config, key crypto.PrivKey, bandwidth libp2pmetrics.Reporter) (host.Host, *peers.Gater, error) {
	addrs, err := listenAddrs(cfg)
	if err != nil {
		return nil, nil, err
	}
	var wsOpts []websocket.Option
	if cfg.WebSocketSecure {
		cert, err := tls.LoadX509KeyPair(cfg.WebSocketCert, cfg.WebSocketKey)
		if err != nil {
			return nil, nil, fmt.Errorf("websocket-secure certificate: %w", err)
		}
		wsOpts = append(wsOpts, websocket.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	}
	natPortMap, err := natPortMapping(cfg.NAT)
	if err != nil {
		return nil, nil, err
	}
	gater := peers.NewGater(cfg.Discovery.IPColocationLimit)
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	rm, err := resourceManager(cfg, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("resource manager: %w", err)
	}
	// Low/high water marks around MaxConnections: trimming starts above it.
	cm, err := connmgr.NewConnManager(max(1, cfg.MaxConnections*9/10), max(1, cfg.MaxConnections))
	if err != nil {
		_ = rm.Close()
		return nil, nil, fmt.Errorf("connection manager: %w", err)
	}
	h, err := assembleHost(hostParts{
		key: key, userAgent: "wakunode/" + cfg.Version, muxers: cfg.muxers, wsOpts: wsOpts,
		rm: rm, cm: cm, gater: gater, addrsFactory: announceAddrs(cfg), natPortMap: natPortMap,
		registerer: cfg.Registerer, bandwidth: bandwidth,
	})
	if err != nil { // the host closes both once it exists; until then they are ours
		_ = cm.Close()
		_ = rm.Close()
		return nil, nil, fmt.Errorf("libp2p host: %w", err)
	}
	// Listening happens one address at a time: a node missing its TCP or WebSocket port
	// must not start.
	for _, a := range addrs {
		if err := h.Network().Listen(a); err != nil {
			_ = h.Close()
			return nil, nil, fmt.Errorf("listen on %s: %w", a, err)
		}
	}
	return h, gater, nil
}

// natPortMapping says whether --nat asks for port mapping (UPnP or NAT-PMP, whichever the
// gateway speaks: any/upnp/pmp); extip is handled by announceAddrs.
func natPortMapping(nat string) (bool, error) {
	switch {
	case nat == "" || nat == "none" || strings.HasPrefix(nat, "extip:"):
		return false, nil
	case nat == "any" || nat == "upnp" || nat == "pmp":
		return true, nil
	}
	return false, fmt.Errorf("nat %q: want any, none, upnp, pmp or extip:<IP>", nat)
}

// extIP is the address of --nat=extip:<IP>, or nil.
func extIP(nat string) net.IP {
	if s, ok := strings.CutPrefix(nat, "extip:"); ok {
		return net.ParseIP(s)
	}
	return nil
}

// announceAddrs adds the operator's external addresses (--ext-multiaddr, --dns4-domain-name,
// --nat=extip:<IP>).
func announceAddrs(cfg Config) func([]multiaddr.Multiaddr) []multiaddr.Multiaddr {
	var extra []multiaddr.Multiaddr
	extra = append(extra, cfg.ExtMultiaddrs...)
	if ip := extIP(cfg.NAT); ip != nil && ip.To4() != nil {
		if a, err := multiaddr.NewMultiaddr("/ip4/" + ip.String() + "/tcp/" + strconv.Itoa(cfg.TCPPort)); err == nil {
			extra = append(extra, a)
		}
	}
	if cfg.DNS4DomainName != "" {
		if a, err := multiaddr.NewMultiaddr("/dns4/" + cfg.DNS4DomainName + "/tcp/" + strconv.Itoa(cfg.TCPPort)); err == nil {
			extra = append(extra, a)
		}
	}
	return func(addrs []multiaddr.Multiaddr) []multiaddr.Multiaddr {
		if len(extra) == 0 {
			return addrs
		}
		return append(append([]multiaddr.Multiaddr{}, extra...), addrs...)
	}
}

// Resource-manager sizing. A service stream is one request and its response: a few per peer
// at a time is plenty; relay keeps one stream each way per peer.
const (
	streamsPerServicePeer = 8
	// rcmgrLogInterval: each kind of refusal is logged at most once per interval (counted).
	rcmgrLogInterval = time.Minute
)

// resourceManager configures libp2p's resource manager from the node's own limits instead of
// its machine-scaled defaults, which silently cap inbound connections at a few hundred (252
// on a test machine) whatever --max-connections says. Connections get twice MaxConnections of
// headroom so that newcomers reach the peer manager, which prunes down to MaxConnections
// (idle peers first); per-IP limits follow --ip-colocation-limit (the gater enforces the
// exact figure); the Waku protocols get per-protocol and per-peer stream limits.
func resourceManager(cfg Config, log *slog.Logger) (network.ResourceManager, error) {
	n := max(cfg.MaxConnections, 1)
	scaling := rcmgr.DefaultLimits
	addBuiltinServiceLimits(&scaling)
	base := scaling.AutoScale() // memory and file descriptors follow the machine
	conns := rcmgr.LimitVal(2*n + 64)
	streams := conns * 32
	partial := rcmgr.PartialLimitConfig{
		System: rcmgr.ResourceLimits{
			Conns: conns, ConnsInbound: rcmgr.LimitVal(2 * n), ConnsOutbound: rcmgr.LimitVal(n + 64),
			Streams: streams, StreamsInbound: streams, StreamsOutbound: streams,
			FD: max(conns, rcmgr.LimitVal(base.ToPartialLimitConfig().System.FD)),
		},
		// Connections in their handshake and streams before protocol negotiation.
		Transient: rcmgr.ResourceLimits{
			Conns: conns / 2, ConnsInbound: conns / 2, ConnsOutbound: conns / 2,
			Streams: conns * 4, StreamsInbound: conns * 4, StreamsOutbound: conns * 4,
		},
		Protocol:     map[protocol.ID]rcmgr.ResourceLimits{},
		ProtocolPeer: map[protocol.ID]rcmgr.ResourceLimits{},
	}
	perProto := func(ids []protocol.ID, perPeer rcmgr.LimitVal) {
		for _, id := range ids {
			total := conns * perPeer
			partial.Protocol[id] = rcmgr.ResourceLimits{Streams: total, StreamsInbound: total, StreamsOutbound: total}
			partial.ProtocolPeer[id] = rcmgr.ResourceLimits{Streams: perPeer, StreamsInbound: perPeer, StreamsOutbound: perPeer}
		}
	}
	perProto(relay.Protocols, 4) // one stream each way, room for a replaced one
	perProto([]protocol.ID{store.QueryProtocol, store.LegacyProtocol, filter.SubscribeProtocol, filter.PushProtocol,
		lightpush.ProtocolV3, lightpush.ProtocolLegacy, peerexchange.ProtocolID, metadata.ProtocolID}, streamsPerServicePeer)
	limits := partial.Build(base)

	// rcmgr's own per-IP connection limit (8, loopback exempt) would override
	// --ip-colocation-limit above 8 or 0; it must never be the tighter one.
	perIP := math.MaxInt
	if l := cfg.Discovery.IPColocationLimit; l > 0 {
		perIP = max(l, 8) * 2 // the gater holds the exact limit; this only stops a runaway
	}
	return rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits),
		rcmgr.WithLimitPerSubnet([]rcmgr.ConnLimitPerSubnet{{PrefixLength: 32, ConnCount: perIP}},
			[]rcmgr.ConnLimitPerSubnet{{PrefixLength: 56, ConnCount: perIP}}),
		rcmgr.WithMetrics(newRefusalLog(log)))
}

// refusalLog logs what the resource manager refuses, once per kind per rcmgrLogInterval.
type refusalLog struct {
	log *slog.Logger
}

func newRefusalLog(log *slog.Logger) refusalLog {
	return refusalLog{log: slog.New(lograte.New(log.Handler(), rcmgrLogInterval, nil)).With("component", "rcmgr")}
}

func (r refusalLog) refused(what string, args ...any) {
	r.log.Warn("resource limit refused "+what, args...)
}

func (refusalLog) AllowConn(network.Direction, bool) {}
func (r refusalLog) BlockConn(dir network.Direction, _ bool) {
	r.refused("a connection", "direction", dir)
}
func (refusalLog) AllowStream(peer.ID, network.Direction) {}
func (r refusalLog) BlockStream(p peer.ID, dir network.Direction) {
	r.refused("a stream", "peer", p, "direction", dir)
}
func (refusalLog) AllowPeer(peer.ID)         {}
func (r refusalLog) BlockPeer(p peer.ID)     { r.refused("a peer's connection", "peer", p) }
func (refusalLog) AllowProtocol(protocol.ID) {}
func (r refusalLog) BlockProtocol(proto protocol.ID) {
	r.refused("a protocol stream", "protocol", proto)
}
func (r refusalLog) BlockProtocolPeer(proto protocol.ID, p peer.ID) {
	r.refused("a peer's protocol stream", "protocol", proto, "peer", p)
}
func (refusalLog) AllowService(string)       {}
func (r refusalLog) BlockService(svc string) { r.refused("a service stream", "service", svc) }
func (r refusalLog) BlockServicePeer(svc string, p peer.ID) {
	r.refused("a peer's service stream", "service", svc, "peer", p)
}
func (refusalLog) AllowMemory(int)        {}
func (r refusalLog) BlockMemory(size int) { r.refused("memory", "bytes", size) }
