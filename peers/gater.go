package peers

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// DefaultHandshakeTimeout is how long an accepted connection holds its IP's colocation slot
// before it is secured and muxed: go-libp2p's own accept timeout.
const DefaultHandshakeTimeout = 15 * time.Second

// maxBans bounds the ban list; when full, expired bans go first, then the one ending soonest.
const maxBans = 10_000

// Gater is the libp2p connection gater: it refuses, before any handshake, inbound
// connections from an IP that already holds IPColocationLimit connections (counting those
// still in their handshake, so a burst from one IP cannot race past the limit), and it refuses
// inbound and outbound connections to banned peers (graylisted by gossipsub) until their ban
// ends. Create it before the host (libp2p.ConnectionGater) and give it to the Manager.
type Gater struct {
	handshake time.Duration

	mu      sync.Mutex
	limit   int
	banned  map[peer.ID]time.Time
	perIP   map[string]int           // accepted-but-not-yet-up + established connections
	pending map[string]pendingAccept // by "ip:port": accepted, not yet up
	swept   time.Time
	refused func(reason string)
}

type pendingAccept struct {
	ip       string
	deadline time.Time
}

// NewGater returns a gater with the given colocation limit (0 = none).
func NewGater(colocationLimit int) *Gater {
	return &Gater{handshake: DefaultHandshakeTimeout, limit: colocationLimit,
		banned: map[peer.ID]time.Time{}, perIP: map[string]int{}, pending: map[string]pendingAccept{}}
}

// setLimit changes the colocation limit (Manager.SetPolicy).
func (g *Gater) setLimit(n int) {
	g.mu.Lock()
	g.limit = n
	g.mu.Unlock()
}

// onRefuse sets the callback that counts refusals (the manager's metrics).
func (g *Gater) onRefuse(f func(reason string)) {
	g.mu.Lock()
	g.refused = f
	g.mu.Unlock()
}

// Ban refuses every connection with p until the given time. Static peers are banned too: a
// static peer that misbehaves is redialled when its ban ends.
func (g *Gater) Ban(p peer.ID, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.banned[p]; !ok && len(g.banned) >= maxBans {
		g.evictBanLocked()
	}
	g.banned[p] = until
}

// BannedUntil reports when p's ban ends, if p is banned.
func (g *Gater) BannedUntil(p peer.ID) (time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.bannedLocked(p)
}

func (g *Gater) bannedLocked(p peer.ID) (time.Time, bool) {
	until, ok := g.banned[p]
	if !ok {
		return time.Time{}, false
	}
	if !time.Now().Before(until) {
		delete(g.banned, p)
		return time.Time{}, false
	}
	return until, true
}

func (g *Gater) evictBanLocked() {
	now := time.Now()
	var soonest peer.ID
	var at time.Time
	for p, until := range g.banned {
		if !now.Before(until) {
			delete(g.banned, p)
		} else if soonest == "" || until.Before(at) {
			soonest, at = p, until
		}
	}
	if len(g.banned) >= maxBans {
		delete(g.banned, soonest)
	}
}

func (g *Gater) refuse(reason string) bool {
	if g.refused != nil {
		g.refused(reason)
	}
	return false
}

// InterceptPeerDial refuses to dial a banned peer.
func (g *Gater) InterceptPeerDial(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, banned := g.bannedLocked(p); banned {
		return g.refuse("banned")
	}
	return true
}

// InterceptAddrDial allows every address (candidates are chosen by the manager).
func (g *Gater) InterceptAddrDial(peer.ID, multiaddr.Multiaddr) bool { return true }

// InterceptAccept takes a colocation slot for the remote IP, or refuses the connection when
// the IP has none left. The slot is held until the connection closes, or for the handshake
// timeout if it never comes up.
func (g *Gater) InterceptAccept(addrs network.ConnMultiaddrs) bool {
	ip, key := ipKey(addrs.RemoteMultiaddr())
	if ip == "" {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if now.Sub(g.swept) > time.Second {
		g.sweepLocked(now)
	}
	if g.limit > 0 && g.perIP[ip] >= g.limit {
		return g.refuse("ip colocation limit")
	}
	g.perIP[ip]++
	g.pending[key] = pendingAccept{ip: ip, deadline: now.Add(g.handshake)}
	return true
}

// sweepLocked frees the slots of accepted connections that never came up.
func (g *Gater) sweepLocked(now time.Time) {
	g.swept = now
	for key, pa := range g.pending {
		if now.After(pa.deadline) {
			delete(g.pending, key)
			g.releaseLocked(pa.ip)
		}
	}
}

func (g *Gater) releaseLocked(ip string) {
	if g.perIP[ip]--; g.perIP[ip] <= 0 {
		delete(g.perIP, ip)
	}
}

// InterceptSecured refuses a banned peer once the handshake has told us who it is.
func (g *Gater) InterceptSecured(_ network.Direction, p peer.ID, addrs network.ConnMultiaddrs) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, banned := g.bannedLocked(p); banned {
		return g.refuse("banned")
	}
	return true
}

// InterceptUpgraded allows every muxed connection.
func (g *Gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

func (g *Gater) connected(_ network.Network, c network.Conn) {
	ip, key := ipKey(c.RemoteMultiaddr())
	if ip == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.pending[key]; ok && c.Stat().Direction == network.DirInbound {
		delete(g.pending, key) // its slot now belongs to the live connection
		return
	}
	g.perIP[ip]++ // outbound, or inbound whose pending slot already expired
}

func (g *Gater) disconnected(_ network.Network, c network.Conn) {
	ip, _ := ipKey(c.RemoteMultiaddr())
	if ip == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseLocked(ip)
}

// watch registers the per-IP bookkeeping on net and counts the connections already up.
func (g *Gater) watch(net network.Network) network.Notifiee {
	nf := &network.NotifyBundle{ConnectedF: g.connected, DisconnectedF: g.disconnected}
	net.Notify(nf)
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range net.Conns() {
		ip, key := ipKey(c.RemoteMultiaddr())
		if ip == "" {
			continue
		}
		if _, ok := g.pending[key]; ok {
			delete(g.pending, key)
			continue
		}
		g.perIP[ip]++
	}
	return nf
}

// ipKey returns the remote IP and "ip:port" of a TCP or WebSocket multiaddr.
func ipKey(a multiaddr.Multiaddr) (ip, key string) {
	if a == nil {
		return "", ""
	}
	nip, err := manet.ToIP(a)
	if err != nil {
		return "", ""
	}
	port, _ := a.ValueForProtocol(multiaddr.P_TCP)
	if port == "" {
		port, _ = a.ValueForProtocol(multiaddr.P_UDP)
	}
	return nip.String(), nip.String() + ":" + port
}
