package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/store"
	storepb "github.com/wakunode/wakunode/store/pb"
)

// MultiStoreNode merges the history of several store nodes for GET /store/v3/messages with
// more than one peerAddr (node.Store implements it).
type MultiStoreNode interface {
	QueryMulti(ctx context.Context, addrs []multiaddr.Multiaddr, req *storepb.StoreQueryRequest, limit int) (*store.MultiResult, error)
}

// StoreNodeReport is one store node's contribution to a merged answer ("storeNodes").
type StoreNodeReport struct {
	PeerID   string `json:"peerId"`
	Pages    int    `json:"pages"`
	Returned int    `json:"returned"`
	Unique   int    `json:"unique"`
	Error    string `json:"error,omitempty"`
}

// parsePeerAddrs reads every peerAddr parameter, each a comma-separated list.
func parsePeerAddrs(q url.Values) ([]multiaddr.Multiaddr, error) {
	var out []multiaddr.Multiaddr
	for _, v := range q["peerAddr"] {
		for _, s := range splitList(v) {
			a, err := parsePeerAddr(s)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	if len(out) > store.MaxMultiNodes {
		return nil, fmt.Errorf("Invalid peerAddr: %d store nodes, at most %d", len(out), store.MaxMultiNodes)
	}
	return out, nil
}

// handleStoreMulti answers a query over several store nodes: pageSize bounds the merged
// answer, which has no cursor, and storeNodes says what each node gave.
func (s *Server) handleStoreMulti(w http.ResponseWriter, r *http.Request, addrs []multiaddr.Multiaddr, req *storepb.StoreQueryRequest) {
	ms, ok := s.store.(MultiStoreNode)
	if !ok {
		writeText(w, http.StatusNotImplemented, "Store query failed: this node cannot query several store nodes")
		return
	}
	includeData := req.GetIncludeData()
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	res, err := ms.QueryMulti(ctx, addrs, req, int(req.GetPaginationLimit()))
	if err != nil {
		writeStoreError(w, err)
		return
	}
	out := toStoreResponse(&storepb.StoreQueryResponse{RequestId: req.GetRequestId(), StatusCode: proto.Uint32(store.StatusOK),
		StatusDesc: proto.String("OK"), Messages: res.Messages})
	if !includeData { // the merge needs the messages; the caller asked for hashes only
		for i := range out.Messages {
			out.Messages[i].Message, out.Messages[i].PubsubTopic = nil, ""
		}
	}
	out.StoreNodes = make([]StoreNodeReport, 0, len(res.Nodes))
	for _, nr := range res.Nodes {
		rep := StoreNodeReport{PeerID: nr.Peer.String(), Pages: nr.Pages, Returned: nr.Returned, Unique: nr.Unique}
		if nr.Err != nil {
			rep.Error = nr.Err.Error()
		}
		out.StoreNodes = append(out.StoreNodes, rep)
	}
	writeJSON(w, out)
}
