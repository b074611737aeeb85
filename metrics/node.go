package metrics

import (
	"slices"
	"strings"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/peerexchange"
	"github.com/wakunode/wakunode/relay"
	"github.com/wakunode/wakunode/store"
)

// NodeView is what the scrape-time node collector reads from a running node (node.Node).
type NodeView interface {
	Host() host.Host
	RelayTopics() []string
}

// ServicePeer is a service peer the node was configured with (--storenode, --filternode,
// --lightpushnode, --peer-exchange-node), exported as waku_service_peers{protocol,peerId}.
type ServicePeer struct {
	Protocol protocol.ID
	Peer     peer.ID
}

// WatchNode exports, under nim-libp2p's and nwaku's names, the gauges an nwaku dashboard reads
// from the node's connections and peer store: libp2p_peers, libp2p_pubsub_peers,
// libp2p_pubsub_topics, waku_streams_peers, waku_connected_peers_per_agent, waku_store_peers,
// waku_lightpush_peers, waku_filter_peers, waku_px_peers and waku_service_peers. They are read
// at scrape time, so they cost nothing between scrapes.
func WatchNode(reg prometheus.Registerer, v NodeView, servicePeers []ServicePeer) {
	reg.MustRegister(&nodeCollector{v: v, servicePeers: servicePeers,
		peers:       prometheus.NewDesc("libp2p_peers", "Connected peers.", nil, nil),
		pubsubPeers: prometheus.NewDesc("libp2p_pubsub_peers", "Connected peers speaking relay (gossipsub).", nil, nil),
		topics:      prometheus.NewDesc("libp2p_pubsub_topics", "Subscribed pubsub topics.", nil, nil),
		streams:     prometheus.NewDesc("waku_streams_peers", "Open streams by direction and protocol.", []string{"direction", "protocol"}, nil),
		agents:      prometheus.NewDesc("waku_connected_peers_per_agent", "Connected peers by identify agent.", []string{"agent"}, nil),
		service:     prometheus.NewDesc("waku_service_peers", "Configured service peers (value 1).", []string{"protocol", "peerId"}, nil),
		known: []knownPeers{
			{prometheus.NewDesc("waku_store_peers", "Known peers serving store.", nil, nil), []protocol.ID{store.QueryProtocol, store.LegacyProtocol}},
			{prometheus.NewDesc("waku_lightpush_peers", "Known peers serving lightpush.", nil, nil), []protocol.ID{lightpush.ProtocolV3, lightpush.ProtocolLegacy}},
			{prometheus.NewDesc("waku_filter_peers", "Known peers serving filter.", nil, nil), []protocol.ID{filter.SubscribeProtocol}},
			{prometheus.NewDesc("waku_px_peers", "Known peers serving peer exchange.", nil, nil), []protocol.ID{peerexchange.ProtocolID}},
		},
	})
}

// Agent strings are chosen by peers: the label is cut to maxAgentLen bytes and at most
// maxAgents distinct values are exported, the rest as "other".
const (
	maxAgentLen = 64
	maxAgents   = 32
)

func agentLabel(ps peerstore.Peerstore, p peer.ID, seen map[string]int) string {
	agent := "unknown"
	if av, err := ps.Get(p, "AgentVersion"); err == nil {
		if s, ok := av.(string); ok && s != "" {
			agent = strings.ToValidUTF8(s[:min(len(s), maxAgentLen)], "")
		}
	}
	if _, ok := seen[agent]; !ok && len(seen) >= maxAgents {
		return "other"
	}
	return agent
}

type knownPeers struct {
	desc   *prometheus.Desc
	protos []protocol.ID
}

type nodeCollector struct {
	v                                                    NodeView
	servicePeers                                         []ServicePeer
	peers, pubsubPeers, topics, streams, agents, service *prometheus.Desc
	known                                                []knownPeers
}

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.peers, c.pubsubPeers, c.topics, c.streams, c.agents, c.service} {
		ch <- d
	}
	for _, k := range c.known {
		ch <- k.desc
	}
}

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	for _, sp := range c.servicePeers {
		gauge(c.service, 1, string(sp.Protocol), sp.Peer.String())
	}
	gauge(c.topics, len(c.v.RelayTopics()))
	h := c.v.Host()
	if h == nil { // not started, or stopped
		return
	}
	ps := h.Peerstore()
	connected := h.Network().Peers()
	gauge(c.peers, len(connected))

	type streamKey struct{ dir, proto string }
	streams := map[streamKey]int{}
	agents := map[string]int{}
	pubsub := 0
	for _, p := range connected {
		for _, conn := range h.Network().ConnsToPeer(p) {
			for _, s := range conn.GetStreams() {
				dir := "in"
				if s.Stat().Direction == network.DirOutbound {
					dir = "out"
				}
				streams[streamKey{dir, string(s.Protocol())}]++
			}
		}
		if ok, _ := ps.SupportsProtocols(p, relay.ProtocolID); len(ok) > 0 {
			pubsub++
		}
		agents[agentLabel(ps, p, agents)]++
	}
	gauge(c.pubsubPeers, pubsub)
	for k, n := range streams {
		gauge(c.streams, n, k.dir, k.proto)
	}
	for a, n := range agents {
		gauge(c.agents, n, a)
	}

	counts := make([]int, len(c.known))
	for _, p := range ps.Peers() {
		if p == h.ID() {
			continue
		}
		protos, err := ps.GetProtocols(p)
		if err != nil {
			continue
		}
		for i, k := range c.known {
			if slices.ContainsFunc(k.protos, func(id protocol.ID) bool { return slices.Contains(protos, id) }) {
				counts[i]++
			}
		}
	}
	for i, k := range c.known {
		gauge(k.desc, counts[i])
	}
}
