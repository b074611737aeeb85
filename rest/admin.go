package rest

import (
	"context"
	"fmt"
	"net/http"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/node"
)

// WakuPeer is nwaku's admin peer JSON (rest-api.md §5).
type WakuPeer struct {
	Multiaddr string   `json:"multiaddr"`
	Protocols []string `json:"protocols"`
	Shards    []uint16 `json:"shards"`
	Connected string   `json:"connected"`
	Agent     string   `json:"agent"`
	Origin    string   `json:"origin"`
	Score     *float64 `json:"score"` // null when unknown
}

func toWakuPeer(p node.PeerInfo) WakuPeer {
	out := WakuPeer{
		Multiaddr: p.Multiaddr,
		Protocols: p.Protocols,
		Shards:    p.Shards,
		Connected: p.Connected,
		Agent:     p.Agent,
		Origin:    p.Origin,
		Score:     p.Score,
	}
	if out.Protocols == nil {
		out.Protocols = []string{}
	}
	if out.Shards == nil {
		out.Shards = []uint16{}
	}
	if out.Connected == "" {
		out.Connected = node.NotConnected
	}
	if out.Origin == "" {
		out.Origin = node.OriginUnknown
	}
	return out
}

// adminRoutes are mounted only with --rest-admin; otherwise the paths answer 404, as in nwaku.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/v1/peers", s.handleGetPeers)
	mux.HandleFunc("POST /admin/v1/peers", s.handlePostPeers)
	mux.HandleFunc("GET /admin/v1/peer/{peerId}", s.handleGetPeer)
	mux.HandleFunc("POST /admin/v1/log-level/{logLevel}", s.handleLogLevel)
}

func (s *Server) handleGetPeers(w http.ResponseWriter, _ *http.Request) {
	peers := s.n.Peers()
	out := make([]WakuPeer, 0, len(peers))
	for _, p := range peers {
		out = append(out, toWakuPeer(p))
	}
	writeJSON(w, out)
}

func (s *Server) handleGetPeer(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("peerId")
	id, err := peer.Decode(raw)
	if err != nil {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("Invalid peer id %q: %v", raw, err))
		return
	}
	for _, p := range s.n.Peers() {
		if p.ID == id.String() {
			writeJSON(w, toWakuPeer(p))
			return
		}
	}
	writeText(w, http.StatusNotFound, fmt.Sprintf("Peer with ID %s not found", id))
}

// handlePostPeers connects to each multiaddr in turn and stops at the first failure.
func (s *Server) handlePostPeers(w http.ResponseWriter, r *http.Request) {
	addrs, ok := s.readStrings(w, r)
	if !ok {
		return
	}
	for i, a := range addrs {
		fail := func(err error) {
			writeText(w, http.StatusBadRequest, fmt.Sprintf("Failed to connect to peer at index: %d - %s: %v", i, a, err))
		}
		ma, err := multiaddr.NewMultiaddr(a)
		if err != nil {
			fail(fmt.Errorf("%s: %w", textInvalidMultiaddr, err))
			return
		}
		if _, err := peer.AddrInfoFromP2pAddr(ma); err != nil {
			fail(fmt.Errorf("address must end in /p2p/<peerId>: %w", err))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		err = s.n.Connect(ctx, ma)
		cancel()
		if err != nil {
			fail(err)
			return
		}
	}
	writeOK(w)
}
