package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/node"
)

type fakeAccounting map[peer.ID]node.PeerAccount

func (f fakeAccounting) Peers(context.Context) []node.PeerAccount {
	var out []node.PeerAccount
	for _, a := range f {
		out = append(out, a)
	}
	return out
}

func (f fakeAccounting) Peer(_ context.Context, p peer.ID) (node.PeerAccount, bool) {
	a, ok := f[p]
	return a, ok
}

func TestAccountingRoutes(t *testing.T) {
	f := newFakeNode(t)
	off := New(Config{}, backendOf(f))
	defer off.Close()
	do(t, off.Handler(), http.MethodGet, "/accounting/v1/peers", "", "").want(t, http.StatusNotFound, "text/plain")

	known, other := newFakeNode(t).id, newFakeNode(t).id
	cb := common.HexToAddress("0x00000000000000000000000000000000000000c1")
	acct := fakeAccounting{known: {Peer: known, Balance: -7, Served: map[string]int64{"store": 3}, Consumed: map[string]int64{"filter": 10},
		RelayBytesOut: 2048, RelayBytesIn: 1024, Trust: 0.25,
		LastChequeSent: &node.ChequeInfo{Cumulative: 130, Date: 5, Beneficiary: common.Address{2}, Chequebook: cb}}}
	b := backendOf(f)
	b.Accounting = acct
	s := New(Config{}, b)
	defer s.Close()
	h := s.Handler()

	r := do(t, h, http.MethodGet, "/accounting/v1/peers", "", "")
	r.want(t, http.StatusOK, jsonCT)
	var list []PeerAccount
	if err := json.Unmarshal([]byte(r.body), &list); err != nil || len(list) != 1 {
		t.Fatalf("list %s: %v", r.body, err)
	}
	r = do(t, h, http.MethodGet, "/accounting/v1/peers/"+known.String(), "", "")
	r.want(t, http.StatusOK, jsonCT)
	for _, want := range []string{`"peerId":"` + known.String() + `"`, `"balance":-7`, `"served":{"store":3}`, `"consumed":{"filter":10}`,
		`"relayBytesOut":2048`, `"relayBytesIn":1024`, `"trust":0.25`,
		`"lastChequeSent":{"cumulative":130,"date":5,"beneficiary":"0x0200000000000000000000000000000000000000","chequebook":"` + cb.Hex() + `"}`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("peer record %s lacks %s", r.body, want)
		}
	}
	if strings.Contains(r.body, "lastChequeReceived") {
		t.Errorf("absent cheque serialised: %s", r.body)
	}
	do(t, h, http.MethodGet, "/accounting/v1/peers/"+other.String(), "", "").want(t, http.StatusNotFound, "text/plain")
	do(t, h, http.MethodGet, "/accounting/v1/peers/not-a-peer", "", "").want(t, http.StatusBadRequest, "text/plain")
}
