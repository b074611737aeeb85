package rest

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/node"
)

// AccountingNode answers /accounting/v1/... (*node.Accounting; nil in Backend when --swap is off).
type AccountingNode interface {
	Peers(ctx context.Context) []node.PeerAccount
	Peer(ctx context.Context, p peer.ID) (node.PeerAccount, bool)
}

// PeerAccount is one peer's record: balance (> 0: the peer owes us, < 0: we owe it), units
// per service served to it and consumed from it, relay bytes, the latest cheques, and trust.
type PeerAccount struct {
	PeerID             string           `json:"peerId"`
	Balance            int64            `json:"balance"`
	Served             map[string]int64 `json:"served"`
	Consumed           map[string]int64 `json:"consumed"`
	RelayBytesOut      int64            `json:"relayBytesOut"`
	RelayBytesIn       int64            `json:"relayBytesIn"`
	LastChequeSent     *Cheque          `json:"lastChequeSent,omitempty"`
	LastChequeReceived *Cheque          `json:"lastChequeReceived,omitempty"`
	Trust              float64          `json:"trust"`
}

// Cheque is the latest cumulative cheque exchanged with a peer.
type Cheque struct {
	Cumulative  uint64 `json:"cumulative"`
	Date        uint32 `json:"date"`
	Beneficiary string `json:"beneficiary"`
	Chequebook  string `json:"chequebook"`
}

const msgAccountingOff = "Accounting is not enabled (start the node with --swap)"

func (s *Server) accountingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /accounting/v1/peers", s.handleAccountingPeers)
	mux.HandleFunc("GET /accounting/v1/peers/{peerId}", s.handleAccountingPeer)
}

func (s *Server) handleAccountingPeers(w http.ResponseWriter, r *http.Request) {
	if s.acct == nil {
		writeText(w, http.StatusNotFound, msgAccountingOff)
		return
	}
	accts := s.acct.Peers(r.Context())
	out := make([]PeerAccount, 0, len(accts))
	for _, a := range accts {
		out = append(out, toPeerAccount(a))
	}
	slices.SortFunc(out, func(a, b PeerAccount) int { return cmp.Compare(a.PeerID, b.PeerID) })
	writeJSON(w, out)
}

func (s *Server) handleAccountingPeer(w http.ResponseWriter, r *http.Request) {
	if s.acct == nil {
		writeText(w, http.StatusNotFound, msgAccountingOff)
		return
	}
	raw := r.PathValue("peerId")
	id, err := peer.Decode(raw)
	if err != nil {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("Invalid peer id %q: %v", raw, err))
		return
	}
	a, ok := s.acct.Peer(r.Context(), id)
	if !ok {
		writeText(w, http.StatusNotFound, fmt.Sprintf("No accounting record for peer %s", id))
		return
	}
	writeJSON(w, toPeerAccount(a))
}

func toPeerAccount(a node.PeerAccount) PeerAccount {
	return PeerAccount{PeerID: a.Peer.String(), Balance: a.Balance, Served: a.Served, Consumed: a.Consumed,
		RelayBytesOut: a.RelayBytesOut, RelayBytesIn: a.RelayBytesIn, Trust: a.Trust,
		LastChequeSent: toCheque(a.LastChequeSent), LastChequeReceived: toCheque(a.LastChequeReceived)}
}

func toCheque(c *node.ChequeInfo) *Cheque {
	if c == nil {
		return nil
	}
	return &Cheque{Cumulative: c.Cumulative, Date: c.Date, Beneficiary: c.Beneficiary.Hex(), Chequebook: c.Chequebook.Hex()}
}
