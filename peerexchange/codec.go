// Package peerexchange is 34/WAKU2-PEER-EXCHANGE (/vac/waku/peer-exchange/2.0.0-alpha1,
// shared/spec/peer-exchange.md): a service node answers with ENRs it found through discv5,
// never its mesh peers; resource-restricted clients ask it instead of running discv5.
package peerexchange

import (
	"fmt"

	"github.com/ethereum/go-ethereum/p2p/enode"
	gethenr "github.com/ethereum/go-ethereum/p2p/enr"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/internal/rpc"
	"github.com/wakunode/wakunode/peerexchange/pb"
)

// ProtocolID is the peer exchange protocol.
const ProtocolID protocol.ID = "/vac/waku/peer-exchange/2.0.0-alpha1"

// Status codes (peer-exchange.md).
const (
	StatusSuccess            uint32 = 200
	StatusBadRequest         uint32 = 400
	StatusBadResponse        uint32 = 401
	StatusTooManyRequests    uint32 = 429
	StatusServiceUnavailable uint32 = 503
	StatusDialFailure        uint32 = 599
)

// Size limits: a request is one varint; a response holds at most MaxPeers ENRs of at most
// 300 bytes (nwaku reads up to 10×150 KiB + 64 KiB).
const (
	MaxRequestSize  = 64
	MaxResponseSize = 10*150*1024 + 64*1024
	// MaxPeers caps one response (nwaku's MaxPeersCacheSize).
	MaxPeers = 60
	// DefaultNumPeers is what a client asks for by default (nwaku's DefaultPXNumPeersReq).
	DefaultNumPeers = 5
)

// StatusError is a non-200 answer.
type StatusError = rpc.StatusError

// ErrTooManyRequests is the 429 answer (errors.Is works on any *StatusError with that code).
var ErrTooManyRequests = &StatusError{Protocol: "peer exchange", Code: StatusTooManyRequests}

// Peer is one peer from a response.
type Peer struct {
	Record *enode.Node
	Info   enr.Info
}

// DecodeENR reads one RLP-encoded record and verifies its signature.
func DecodeENR(b []byte) (*enode.Node, error) {
	var r gethenr.Record
	if err := rlp.DecodeBytes(b, &r); err != nil {
		return nil, fmt.Errorf("peer exchange: enr rlp: %w", err)
	}
	n, err := enode.New(enode.ValidSchemes, &r)
	if err != nil {
		return nil, fmt.Errorf("peer exchange: enr: %w", err)
	}
	return n, nil
}

// EncodeENR returns the record's RLP bytes, what PeerInfo.enr carries.
func EncodeENR(n *enode.Node) ([]byte, error) { return rlp.EncodeToBytes(n.Record()) }

// DecodeResponse checks an RPC from a responder and returns the Waku peers it carries.
// A missing status code counts as success when peers are present (go-waku sends none).
// Records that do not decode or are not Waku nodes are skipped; skipped counts them.
func DecodeResponse(rpc *pb.PeerExchangeRPC) (peers []Peer, skipped int, err error) {
	resp := rpc.GetResponse()
	if resp == nil {
		return nil, 0, &StatusError{Protocol: "peer exchange", Code: StatusBadResponse, Desc: "no response"}
	}
	if resp.StatusCode != nil && resp.GetStatusCode() != StatusSuccess {
		return nil, 0, &StatusError{Protocol: "peer exchange", Code: resp.GetStatusCode(), Desc: resp.GetStatusDesc()}
	}
	for _, pi := range resp.GetPeerInfos() {
		n, err := DecodeENR(pi.GetEnr())
		if err != nil {
			skipped++
			continue
		}
		info, err := enr.Decode(n)
		if err != nil || info.Caps == 0 || len(info.Addrs) == 0 {
			skipped++
			continue
		}
		peers = append(peers, Peer{Record: n, Info: info})
	}
	return peers, skipped, nil
}

func statusResponse(code uint32, desc string) *pb.PeerExchangeRPC {
	r := &pb.PeerExchangeResponse{StatusCode: &code}
	if desc != "" {
		r.StatusDesc = &desc
	}
	return &pb.PeerExchangeRPC{Response: r}
}
