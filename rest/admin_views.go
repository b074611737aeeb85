package rest

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/relay"
	"github.com/wakunode/wakunode/store"
)

// RelayPeersNode answers the per-shard admin views (/admin/v1/peers/relay, /mesh, /stats).
type RelayPeersNode interface {
	// TopicPeers lists the connected gossipsub peers on topic (node.ErrRelayDisabled
	// without relay).
	TopicPeers(topic string) ([]peer.ID, error)
	// MeshPeers lists the peers in our mesh for topic (node.ErrRelayDisabled without relay).
	MeshPeers(topic string) ([]peer.ID, error)
}

// PeersOfShard is one shard's peers (rest-api.md §5).
type PeersOfShard struct {
	Shard uint16     `json:"shard"`
	Peers []WakuPeer `json:"peers"`
}

// FilterTopic is one criterion of a filter subscriber.
type FilterTopic struct {
	PubsubTopic  string `json:"pubsubTopic"`
	ContentTopic string `json:"contentTopic"`
}

// FilterSubscription is one subscriber of the node's filter service.
type FilterSubscription struct {
	PeerID         string        `json:"peerId"`
	FilterCriteria []FilterTopic `json:"filterCriteria"`
}

// Protocol IDs not exported by a package of ours.
const (
	peerExchangeProtocol   = "/vac/waku/peer-exchange/2.0.0-alpha1"
	reconciliationProtocol = "/vac/waku/reconciliation/1.0.0"
	transferProtocol       = "/vac/waku/transfer/1.0.0"
)

// serviceProtocols are what makes a peer a service peer for /admin/v1/peers/service.
var serviceProtocols = []string{
	relay.ProtocolID, string(filter.SubscribeProtocol), string(store.QueryProtocol),
	string(store.LegacyProtocol), string(lightpush.ProtocolLegacy), string(lightpush.ProtocolV3),
	peerExchangeProtocol, reconciliationProtocol, transferProtocol,
}

// statsProtocols are counted under "By Protocols" in /admin/v1/peers/stats, in this order.
var statsProtocols = []string{
	relay.ProtocolID, string(filter.SubscribeProtocol), string(filter.PushProtocol),
	string(store.QueryProtocol), string(store.LegacyProtocol), string(lightpush.ProtocolV3),
	string(lightpush.ProtocolLegacy), peerExchangeProtocol, reconciliationProtocol,
}

const msgRelayNotMounted = "Error: Relay Protocol is not mounted to the node"

func (s *Server) adminViewRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/v1/peers/service", s.handleServicePeers)
	mux.HandleFunc("GET /admin/v1/peers/connected", s.handleConnectedPeers)
	mux.HandleFunc("GET /admin/v1/peers/connected/on/{shardId}", s.handleConnectedPeers)
	mux.HandleFunc("GET /admin/v1/peers/relay", s.relayView(RelayPeersNode.TopicPeers))
	mux.HandleFunc("GET /admin/v1/peers/relay/on/{shardId}", s.relayView(RelayPeersNode.TopicPeers))
	mux.HandleFunc("GET /admin/v1/peers/mesh", s.relayView(RelayPeersNode.MeshPeers))
	mux.HandleFunc("GET /admin/v1/peers/mesh/on/{shardId}", s.relayView(RelayPeersNode.MeshPeers))
	mux.HandleFunc("GET /admin/v1/peers/stats", s.handlePeerStats)
	mux.HandleFunc("GET /admin/v1/filter/subscriptions", s.handleFilterSubscriptions)
}

// handleServicePeers lists the peers that serve any service protocol, with only those
// protocols.
func (s *Server) handleServicePeers(w http.ResponseWriter, _ *http.Request) {
	out := []WakuPeer{}
	for _, p := range s.n.Peers() {
		var protos []string
		for _, pr := range p.Protocols {
			if slices.Contains(serviceProtocols, pr) {
				protos = append(protos, pr)
			}
		}
		if len(protos) == 0 {
			continue
		}
		p.Protocols = protos
		out = append(out, toWakuPeer(p))
	}
	writeJSON(w, out)
}

// parseShardID reads {shardId}; ok is false (400 sent) when it is not a shard index.
func parseShardID(w http.ResponseWriter, r *http.Request) (shard uint16, has, ok bool) {
	raw := r.PathValue("shardId")
	if raw == "" {
		return 0, false, true
	}
	n, err := strconv.ParseUint(raw, 10, 16)
	if err != nil || n > message.MaxShardIndex {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("Invalid shardId: %q", raw))
		return 0, true, false
	}
	return uint16(n), true, true
}

func (s *Server) handleConnectedPeers(w http.ResponseWriter, r *http.Request) {
	shard, onShard, ok := parseShardID(w, r)
	if !ok {
		return
	}
	out := []WakuPeer{}
	for _, p := range s.n.Peers() {
		if p.Connected != node.Connected || (onShard && !slices.Contains(p.Shards, shard)) {
			continue
		}
		out = append(out, toWakuPeer(p))
	}
	writeJSON(w, out)
}

// relayView serves /relay and /mesh: all subscribed shards as PeersOfShard[], or with
// /on/{shardId} one PeersOfShard (empty when we do not relay on it).
func (s *Server) relayView(list func(RelayPeersNode, string) ([]peer.ID, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rn := RelayPeersNode(s.relay)
		shard, onShard, ok := parseShardID(w, r)
		if !ok {
			return
		}
		byID := s.peersByID()
		if onShard {
			ps, err := s.peersOfShard(rn, list, byID, shard)
			if err != nil {
				writeText(w, statusOf(err, http.StatusInternalServerError), msgRelayNotMounted)
				return
			}
			writeJSON(w, ps)
			return
		}
		all, err := s.peersOfShards(rn, list, byID)
		if err != nil {
			writeText(w, statusOf(err, http.StatusInternalServerError), msgRelayNotMounted)
			return
		}
		writeJSON(w, all)
	}
}

func (s *Server) peersByID() map[string]node.PeerInfo {
	out := map[string]node.PeerInfo{}
	for _, p := range s.n.Peers() {
		out[p.ID] = p
	}
	return out
}

func (s *Server) peersOfShard(rn RelayPeersNode, list func(RelayPeersNode, string) ([]peer.ID, error), byID map[string]node.PeerInfo, shard uint16) (PeersOfShard, error) {
	topic := message.Shard{Cluster: s.n.ClusterID(), Index: shard}.PubsubTopic()
	ids, err := list(rn, topic)
	if err != nil {
		return PeersOfShard{}, err
	}
	out := PeersOfShard{Shard: shard, Peers: make([]WakuPeer, 0, len(ids))}
	for _, id := range ids {
		info, ok := byID[id.String()]
		if !ok {
			info = node.PeerInfo{ID: id.String(), Connected: node.Connected}
		}
		out.Peers = append(out.Peers, toWakuPeer(info))
	}
	return out, nil
}

// peersOfShards covers every relayed shard of our cluster, in shard order.
func (s *Server) peersOfShards(rn RelayPeersNode, list func(RelayPeersNode, string) ([]peer.ID, error), byID map[string]node.PeerInfo) ([]PeersOfShard, error) {
	out := []PeersOfShard{}
	var shards []uint16
	for _, t := range s.relay.Topics() {
		sh, err := message.ParseShard(t)
		if err != nil || sh.Cluster != s.n.ClusterID() {
			continue
		}
		shards = append(shards, sh.Index)
	}
	if len(shards) == 0 {
		// RelayTopics cannot tell "no shards" from "no relay"; the lister can.
		if _, err := list(rn, ""); err != nil {
			return nil, err
		}
	}
	slices.Sort(shards)
	for _, sh := range shards {
		ps, err := s.peersOfShard(rn, list, byID, sh)
		if err != nil {
			return nil, err
		}
		out = append(out, ps)
	}
	return out, nil
}

// orderedInts is a JSON object of ints that keeps its key order.
type orderedInts []struct {
	k string
	v int
}

func (o *orderedInts) add(k string, v int) {
	*o = append(*o, struct {
		k string
		v int
	}{k, v})
}

func (o orderedInts) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := appendJSON(&buf, kv.k); err != nil {
			return nil, err
		}
		fmt.Fprintf(&buf, ":%d", kv.v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// handlePeerStats answers nwaku's statistics object. "Total relay peers" and "Total mesh
// peers" are the sums over shards.
func (s *Server) handlePeerStats(w http.ResponseWriter, _ *http.Request) {
	peers := s.n.Peers()
	var sum, conn, protos orderedInts
	sum.add("Total peers", len(peers))
	for _, c := range []string{node.Connected, node.NotConnected, node.CannotConnect, node.CanConnect} {
		n := 0
		for _, p := range peers {
			if p.Connected == c || (c == node.NotConnected && p.Connected == "") {
				n++
			}
		}
		conn.add(c, n)
	}
	shardStats := func(list func(RelayPeersNode, string) ([]peer.ID, error), total string) orderedInts {
		var o orderedInts
		n := 0
		if all, err := s.peersOfShards(s.relay, list, map[string]node.PeerInfo{}); err == nil {
			for _, ps := range all {
				o.add(strconv.Itoa(int(ps.Shard)), len(ps.Peers))
				n += len(ps.Peers)
			}
		}
		o.add(total, n)
		return o
	}
	for _, pr := range statsProtocols {
		n := 0
		for _, p := range peers {
			if slices.Contains(p.Protocols, pr) {
				n++
			}
		}
		protos.add(pr, n)
	}
	b, err := encodeStats(sum, conn, shardStats(RelayPeersNode.TopicPeers, "Total relay peers"),
		shardStats(RelayPeersNode.MeshPeers, "Total mesh peers"), protos)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "encode stats: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func encodeStats(sum, conn, relayPeers, meshPeers, protos orderedInts) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, sec := range []struct {
		name string
		v    orderedInts
	}{{"Sum", sum}, {"By Connectedness", conn}, {"Relay peers", relayPeers}, {"Mesh peers", meshPeers}, {"By Protocols", protos}} {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := appendJSON(&buf, sec.name); err != nil {
			return nil, err
		}
		buf.WriteByte(':')
		if err := appendJSON(&buf, sec.v); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// handleFilterSubscriptions lists the node's filter service subscribers; 400 when the
// service is not mounted, as nwaku answers.
func (s *Server) handleFilterSubscriptions(w http.ResponseWriter, _ *http.Request) {
	subs := s.filter.Served()
	if subs == nil {
		writeText(w, http.StatusBadRequest, "Error: Filter Protocol is not mounted to the node")
		return
	}
	out := make([]FilterSubscription, 0, len(subs))
	for _, ps := range subs {
		fs := FilterSubscription{PeerID: ps.Peer.String(), FilterCriteria: make([]FilterTopic, 0, len(ps.Criteria))}
		for _, c := range ps.Criteria {
			fs.FilterCriteria = append(fs.FilterCriteria, FilterTopic{PubsubTopic: c.PubsubTopic, ContentTopic: c.ContentTopic})
		}
		out = append(out, fs)
	}
	writeJSON(w, out)
}
