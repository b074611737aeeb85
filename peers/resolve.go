package peers

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/multiformats/go-multiaddr"
)

// Service-peer errors: no peer given or known for the protocol, or the peer could not be
// dialled (REST maps the latter to PEER_DIAL_FAILURE).
var (
	ErrNoServicePeer = errors.New("no suitable service peer")
	ErrDialFailure   = errors.New("service peer dial failure")
)

// ServicePeer resolves and dials the peer a client call goes to: the first non-nil address
// (an explicit one, then a configured one such as --storenode), else the peer SelectPeer
// chooses for proto and pubsubTopic.
func (m *Manager) ServicePeer(ctx context.Context, proto protocol.ID, pubsubTopic string, addrs ...multiaddr.Multiaddr) (peer.ID, error) {
	var info peer.AddrInfo
	for _, a := range addrs {
		if a == nil {
			continue
		}
		ai, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			return "", fmt.Errorf("service peer %s: %w", a, err)
		}
		info = *ai
		break
	}
	if info.ID == "" {
		p, err := m.SelectPeer(proto, pubsubTopic)
		if err != nil {
			return "", fmt.Errorf("%w for %s: %w", ErrNoServicePeer, proto, err)
		}
		info.ID = p // addresses come from the peer store
	}
	if err := m.h.Connect(ctx, info); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrDialFailure, info.ID, err)
	}
	return info.ID, nil
}
