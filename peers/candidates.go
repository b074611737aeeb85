package peers

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"

	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/internal/backoff"
)

// permanentTTL keeps static and candidate addresses in the peerstore until we forget the peer
// ourselves (capacity, failures); libp2p's shorter TTLs would drop them behind our back.
const permanentTTL = peerstore.PermanentAddrTTL

// record is what the manager knows about one peer beyond the libp2p peerstore.
type record struct {
	origin  string
	static  bool
	caps    enr.Capabilities
	hasCaps bool
	shards  *enr.RelayShards // from the ENR or metadata; nil = unknown
	added   time.Time
	fails   int
	retry   backoff.Strategy // while dials fail; nil after a success
	next    time.Time        // no dial before this
	dialing bool
	// dialedAt is when our last dial succeeded: until the peer shows up on a topic (identify,
	// gossipsub subscriptions) it still counts as pending, so we do not overshoot.
	dialedAt time.Time
	bad      bool // rejected by the verifier: never dialed again
}

// recordLocked returns p's record, creating it within PeerStoreCapacity (evicting the least
// useful disconnected peer if needed); nil when the map is full of peers it cannot evict.
// force (static peers, the operator's) creates it regardless. Called with mu held.
func (m *Manager) recordLocked(p peer.ID, force bool) *record {
	r := m.known[p]
	if r == nil {
		if !force && len(m.known) >= m.pol.PeerStoreCapacity && !m.evictLocked() {
			return nil
		}
		r = &record{origin: OriginUnknown, added: time.Now()}
		m.known[p] = r
	}
	return r
}

// AddCandidate adds a discovered peer. info, when the source had an ENR, carries its
// capabilities and shards; nil means unknown. A candidate of another cluster, ourselves, or a
// peer we rejected is ignored. It never blocks; it reports whether the peer was kept.
func (m *Manager) AddCandidate(ai peer.AddrInfo, origin string, info *enr.Info) bool {
	if ai.ID == "" || ai.ID == m.h.ID() {
		return false
	}
	m.mu.Lock()
	if info != nil && info.Shards != nil && info.Shards.Cluster != m.pol.Cluster {
		m.mu.Unlock()
		return false
	}
	r, existed := m.known[ai.ID]
	if existed && r.bad {
		m.mu.Unlock()
		return false
	}
	if !existed {
		if len(ai.Addrs) == 0 && len(m.h.Peerstore().Addrs(ai.ID)) == 0 {
			m.mu.Unlock()
			return false
		}
		if r = m.recordLocked(ai.ID, false); r == nil {
			m.mu.Unlock()
			return false
		}
	}
	if r.origin == OriginUnknown && origin != "" {
		r.origin = origin
	}
	if info != nil {
		if info.Caps != 0 { // waku2 = 0 is no valid Waku record: capabilities stay unknown
			r.caps, r.hasCaps = info.Caps, true
		}
		if info.Shards != nil {
			s := info.Shards.Normalized()
			r.shards = &s
		}
	}
	m.mu.Unlock()
	if len(ai.Addrs) > 0 {
		m.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, permanentTTL)
	}
	if !existed {
		m.poke()
	}
	return true
}

// evictLocked forgets the least useful disconnected, non-static peer to make room: a rejected
// one first, then the one with the most failures, then the oldest. Called with mu held.
func (m *Manager) evictLocked() bool {
	var victim peer.ID
	var vr *record
	worse := func(a, b *record) bool {
		if a.bad != b.bad {
			return a.bad
		}
		if a.fails != b.fails {
			return a.fails > b.fails
		}
		return a.added.Before(b.added)
	}
	for id, r := range m.known {
		if r.static || r.dialing || m.h.Network().Connectedness(id) == network.Connected {
			continue
		}
		if vr == nil || worse(r, vr) {
			victim, vr = id, r
		}
	}
	if vr == nil {
		return false
	}
	m.forgetLocked(victim)
	return true
}

func (m *Manager) forgetLocked(p peer.ID) {
	delete(m.known, p)
	m.h.Peerstore().ClearAddrs(p)
}

// reject marks p as never to be dialed again (it failed verification), as long as its record
// is kept: rejected peers are the first evicted when the known-peer map is full.
func (m *Manager) reject(p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.recordLocked(p, false)
	if r == nil {
		return
	}
	if !r.static {
		r.bad = true
	} else {
		// A static peer is the operator's choice: keep trying, slowly.
		r.next = time.Now().Add(m.cfg.MaxBackoff)
	}
}

// SetOrigin records how we learned of p (Static, Discv5, Dns, PeerExchange) if it is unknown.
func (m *Manager) SetOrigin(p peer.ID, origin string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.recordLocked(p, false); r != nil && r.origin == OriginUnknown {
		r.origin = origin
	}
}

// Origin reports how we learned of p, or "UnknownOrigin".
func (m *Manager) Origin(p peer.ID) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.known[p]; ok {
		return r.origin
	}
	return OriginUnknown
}

// SetShards records the shards p reported through metadata (more current than its ENR).
func (m *Manager) SetShards(p peer.ID, rs enr.RelayShards) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := rs.Normalized()
	if r := m.recordLocked(p, false); r != nil {
		r.shards = &s
	}
}

// Shards returns the shards p is known to relay, if known.
func (m *Manager) Shards(p peer.ID) (enr.RelayShards, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.known[p]; r != nil && r.shards != nil {
		return *r.shards, true
	}
	return enr.RelayShards{}, false
}

// dial connects to p once and updates its backoff. Run as a goroutine tracked by wg.
func (m *Manager) dial(p peer.ID) {
	defer m.wg.Done()
	select {
	case m.dials <- struct{}{}:
	case <-m.ctx.Done():
		m.dialDone(p, context.Canceled)
		return
	}
	ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
	err := m.h.Connect(ctx, peer.AddrInfo{ID: p, Addrs: m.h.Peerstore().Addrs(p)})
	cancel()
	<-m.dials
	if m.cfg.Metrics != nil && m.ctx.Err() == nil {
		m.cfg.Metrics.DialResult(err == nil)
	}
	m.dialDone(p, err)
}

func (m *Manager) dialDone(p peer.ID, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.known[p]
	if r == nil {
		return
	}
	r.dialing = false
	if err == nil {
		if r.static && r.fails > 0 {
			m.log.Info("static peer reachable again", "peer", p, "failedDials", r.fails)
		}
		r.fails, r.retry, r.next = 0, nil, time.Time{}
		r.dialedAt = time.Now()
		return
	}
	if m.ctx.Err() != nil {
		return
	}
	r.fails++
	if r.retry == nil {
		r.retry = m.retry()
	}
	wait := r.retry.Delay() // MinBackoff, then doubling with full jitter up to MaxBackoff
	r.next = time.Now().Add(wait)
	m.poke() // the loop times its next pass to a static peer's redial, or tries another candidate
	if r.static && r.fails == 1 {
		// Once per failure streak: the operator asked for this peer and must hear why it is
		// missing; the retries that follow (with backoff) log at debug.
		m.log.Warn("static peer unreachable, retrying with backoff", "peer", p, "retryIn", wait, "err", err)
	} else {
		m.log.Debug("dial failed", "peer", p, "fails", r.fails, "retryIn", wait, "err", err)
	}
	if !r.static && r.fails >= m.cfg.MaxFailures {
		m.forgetLocked(p)
	}
}

// backOff keeps p from being redialed for a while (after we pruned it).
func (m *Manager) backOff(p peer.ID, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.known[p]; r != nil && !r.static {
		r.next = time.Now().Add(d)
	}
}

// PeerState is one known peer as the admin API shows it.
type PeerState struct {
	ID        peer.ID
	Origin    string
	Static    bool
	Connected bool
	// CanDial is false while the peer is backed off after failures.
	CanDial bool
	Caps    enr.Capabilities
	Shards  *enr.RelayShards
	Fails   int
}

// Known lists every peer the manager remembers.
func (m *Manager) Known() []PeerState {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	out := make([]PeerState, 0, len(m.known))
	for id, r := range m.known {
		st := PeerState{ID: id, Origin: r.origin, Static: r.static, Caps: r.caps, Fails: r.fails,
			Connected: m.h.Network().Connectedness(id) == network.Connected, CanDial: !r.bad && !now.Before(r.next)}
		if r.shards != nil {
			s := *r.shards
			st.Shards = &s
		}
		out = append(out, st)
	}
	return out
}

// Len is the number of remembered peers.
func (m *Manager) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.known)
}
