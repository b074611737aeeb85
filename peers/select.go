package peers

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/message"
)

// ErrNoPeer means no known peer serves the protocol (on the shard, when one was asked for).
var ErrNoPeer = errors.New("no suitable peer")

const relayCap = enr.Relay

// capProtocols maps waku2 capability bits to the protocol IDs they imply (enr.md), so a peer
// we know only from its ENR can be chosen before identify has told us its protocols.
var capProtocols = map[enr.Capabilities][]protocol.ID{
	enr.Relay:     {RelayProtocol},
	enr.Store:     {"/vac/waku/store-query/3.0.0", "/vac/waku/store/2.0.0-beta4"},
	enr.Filter:    {"/vac/waku/filter-subscribe/2.0.0-beta1"},
	enr.Lightpush: {"/vac/waku/lightpush/3.0.0", "/vac/waku/lightpush/2.0.0-beta1"},
	enr.Sync:      {"/vac/waku/reconciliation/1.0.0", "/vac/waku/transfer/1.0.0"},
}

func capsServe(c enr.Capabilities, proto protocol.ID) bool {
	for bit, ps := range capProtocols {
		if c.Has(bit) {
			for _, p := range ps {
				if p == proto {
					return true
				}
			}
		}
	}
	return false
}

// Ranker orders candidate service peers, best first (reputation.Tracker: most trusted first,
// peers that failed more than they served last). It must return a permutation of candidates
// and may not keep the slice.
type Ranker interface {
	Rank(candidates []peer.ID) []peer.ID
}

// SetRanker makes SelectPeer prefer the peers r ranks first; nil restores random choice.
func (m *Manager) SetRanker(r Ranker) {
	m.mu.Lock()
	m.ranker = r
	m.mu.Unlock()
}

// SelectPeer chooses a peer for a service client (filter, lightpush, store): one that serves
// proto (identify, else its ENR capabilities) and, when pubsubTopic is a static shard, relays
// that shard (metadata, else ENR). Connected peers go before disconnected ones, peers with
// known matching shards before peers whose shards are unknown. Within the best tier the
// Ranker (SetRanker), when set, picks the most trusted peer; otherwise, and between equally
// ranked peers, the choice is random. Peers backed off after failures or rejected are skipped.
func (m *Manager) SelectPeer(proto protocol.ID, pubsubTopic string) (peer.ID, error) {
	var shard *message.Shard
	if pubsubTopic != "" {
		s, err := message.ParseShard(pubsubTopic)
		if err != nil {
			return "", fmt.Errorf("select peer: %w", err)
		}
		shard = &s
	}
	ps := m.h.Peerstore()
	seen := map[peer.ID]bool{}
	ids := ps.Peers()
	m.mu.Lock()
	for id := range m.known {
		ids = append(ids, id)
	}
	now := time.Now()
	var tiers [4][]peer.ID
	for _, id := range ids {
		if seen[id] || id == m.h.ID() {
			continue
		}
		seen[id] = true
		r := m.known[id]
		if r != nil && (r.bad || now.Before(r.next)) {
			continue
		}
		serves := false
		if ok, _ := ps.SupportsProtocols(id, proto); len(ok) > 0 {
			serves = true
		} else if r != nil && r.hasCaps && capsServe(r.caps, proto) {
			serves = true
		}
		if !serves {
			continue
		}
		tier := 0
		if shard != nil {
			switch {
			case r == nil || r.shards == nil:
				tier = 1
			case r.shards.Cluster != shard.Cluster || !r.shards.Contains(shard.Index):
				continue
			}
		}
		if m.h.Network().Connectedness(id) != network.Connected {
			if len(ps.Addrs(id)) == 0 {
				continue
			}
			tier += 2
		}
		tiers[tier] = append(tiers[tier], id)
	}
	rk := m.ranker
	m.mu.Unlock()
	for _, t := range tiers {
		if len(t) == 0 {
			continue
		}
		if rk == nil || len(t) == 1 {
			return t[rand.IntN(len(t))], nil
		}
		// Shuffle first so a stable ranking still spreads load over equally trusted peers.
		rand.Shuffle(len(t), func(i, j int) { t[i], t[j] = t[j], t[i] })
		if r := rk.Rank(t); len(r) > 0 {
			return r[0], nil
		}
		return t[0], nil
	}
	if shard != nil {
		return "", fmt.Errorf("select peer for %s on %s: %w", proto, pubsubTopic, ErrNoPeer)
	}
	return "", fmt.Errorf("select peer for %s: %w", proto, ErrNoPeer)
}
