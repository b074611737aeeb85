package enr

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"
	gethenr "github.com/ethereum/go-ethereum/p2p/enr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// Info is what a Waku node advertises in its ENR.
type Info struct {
	PeerID peer.ID
	// Addrs are dialable addresses, each ending in /p2p/<PeerID>: ip/tcp (and ip6/tcp6) first,
	// then the multiaddrs field.
	Addrs []multiaddr.Multiaddr
	Caps  Capabilities
	// Shards is nil when the record has neither rs nor rsv.
	Shards *RelayShards
}

// Parse reads "enr:" text (base64url RLP) and verifies the v4 signature.
func Parse(text string) (*enode.Node, error) {
	n, err := enode.Parse(enode.ValidSchemes, text)
	if err != nil {
		return nil, fmt.Errorf("parse enr: %w", err)
	}
	return n, nil
}

// PeerID derives the libp2p peer ID from a secp256k1 public key (the record's secp256k1 entry).
func PeerID(pub *ecdsa.PublicKey) (peer.ID, error) {
	if pub == nil {
		return "", errors.New("peer id: no secp256k1 key")
	}
	k, err := crypto.UnmarshalSecp256k1PublicKey(ethcrypto.CompressPubkey(pub))
	if err != nil {
		return "", fmt.Errorf("peer id: %w", err)
	}
	id, err := peer.IDFromPublicKey(k)
	if err != nil {
		return "", fmt.Errorf("peer id: %w", err)
	}
	return id, nil
}

// ReadShards returns the rs or rsv entry of r, nil if neither is present. When both are
// present rs wins and rsv is ignored, as the spec allows.
func ReadShards(r *gethenr.Record) (*RelayShards, error) {
	var rs RS
	err := r.Load(&rs)
	if err == nil {
		v := RelayShards(rs)
		return &v, nil
	}
	if !gethenr.IsNotFound(err) {
		return nil, err
	}
	var rsv RSV
	err = r.Load(&rsv)
	if err == nil {
		v := RelayShards(rsv)
		return &v, nil
	}
	if !gethenr.IsNotFound(err) {
		return nil, err
	}
	return nil, nil
}

// Decode extracts the Waku information from a verified node record. A malformed Waku field is
// an error; absent fields are zero (Caps 0, Shards nil, no multiaddrs).
func Decode(n *enode.Node) (Info, error) {
	var info Info
	id, err := PeerID(n.Pubkey())
	if err != nil {
		return info, fmt.Errorf("decode enr %s: %w", n.ID().TerminalString(), err)
	}
	info.PeerID = id
	r := n.Record()

	if err := r.Load(&info.Caps); err != nil && !gethenr.IsNotFound(err) {
		return info, fmt.Errorf("decode enr %s: %w", id, err)
	}
	if info.Shards, err = ReadShards(r); err != nil {
		return info, fmt.Errorf("decode enr %s: %w", id, err)
	}
	p2p, err := multiaddr.NewComponent("p2p", id.String())
	if err != nil {
		return info, fmt.Errorf("decode enr %s: %w", id, err)
	}

	// ip/tcp and ip6/tcp6; tcp6 defaults to tcp (EIP-778).
	var tcp gethenr.TCP
	var tcp6 gethenr.TCP6
	hasTCP := r.Load(&tcp) == nil
	if r.Load(&tcp6) != nil && hasTCP {
		tcp6 = gethenr.TCP6(tcp)
	}
	var ip4 gethenr.IPv4
	if r.Load(&ip4) == nil && hasTCP && tcp != 0 {
		if a, err := ipTCP(net.IP(ip4), uint16(tcp)); err == nil {
			info.Addrs = append(info.Addrs, a.AppendComponent(p2p))
		}
	}
	var ip6 gethenr.IPv6
	if r.Load(&ip6) == nil && tcp6 != 0 {
		if a, err := ipTCP(net.IP(ip6), uint16(tcp6)); err == nil {
			info.Addrs = append(info.Addrs, a.AppendComponent(p2p))
		}
	}

	var mas Multiaddrs
	if err := r.Load(&mas); err != nil && !gethenr.IsNotFound(err) {
		return info, fmt.Errorf("decode enr %s: %w", id, err)
	}
	circuit, _ := multiaddr.NewComponent("p2p-circuit", "")
	for _, a := range mas {
		a = append(multiaddr.Multiaddr(nil), a...)
		if _, err := a.ValueForProtocol(multiaddr.P_P2P); err == nil {
			// A relay's /p2p/<id>: this is a circuit address (enr.md).
			a = a.AppendComponent(circuit)
		}
		info.Addrs = append(info.Addrs, a.AppendComponent(p2p))
	}
	return info, nil
}

func ipTCP(ip net.IP, port uint16) (multiaddr.Multiaddr, error) {
	proto := "ip6"
	if v4 := ip.To4(); v4 != nil {
		ip, proto = v4, "ip4"
	}
	return multiaddr.NewMultiaddr(fmt.Sprintf("/%s/%s/tcp/%d", proto, ip, port))
}
