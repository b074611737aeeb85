package sim

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/relay"
)

// simNode is one relay node. Its host outlives restarts; the relay does not.
type simNode struct {
	idx     int
	raw     host.Host // the libp2p host
	h       host.Host // what the relay gets: raw metered by wireHost, maybe wrapped in lossyHost
	shards  []string
	traffic *Traffic
	wire    *Wire
	recv    *Receiver

	mu    sync.Mutex
	r     *relay.Relay
	downs []interval // closed and open down periods
}

type interval struct{ from, to time.Time } // to zero: still down

// simNet is the whole simulated network.
type simNet struct {
	cfg   Config
	nodes []*simNode
	graph Graph
	mn    mocknet.Mocknet // nil for TCP
	clock *Clock
	wires map[peer.ID]*Wire // written before any relay starts, read-only after
	gate  *wireGate         // stops the meters before measuring

	upMu sync.Mutex
	up   []bool
}

func shardTopic(cluster, s int) string {
	return message.Shard{Cluster: uint16(cluster), Index: uint16(s)}.PubsubTopic()
}

// buildNet creates the hosts and the graph; relays start in start.
func buildNet(cfg Config, rng *rand.Rand) (*simNet, error) {
	n := &simNet{cfg: cfg, clock: NewClock(cfg.Messages), up: make([]bool, cfg.Nodes), wires: map[peer.ID]*Wire{}, gate: &wireGate{}}
	if cfg.Transport == TransportMock {
		n.mn = mocknet.New()
	}
	all := make([]string, cfg.Shards)
	for s := range all {
		all[s] = shardTopic(cfg.Cluster, s)
	}
	for i := 0; i < cfg.Nodes; i++ {
		raw, err := n.newHost(i)
		if err != nil {
			n.close()
			return nil, fmt.Errorf("sim: host %d: %w", i, err)
		}
		sn := &simNode{idx: i, raw: raw, traffic: &Traffic{}, wire: &Wire{}, recv: NewReceiver(n.clock, nil)}
		n.wires[raw.ID()] = sn.wire
		// Metered under the loss model: a lost copy is never written, so never counted.
		sn.h = &wireHost{Host: raw, w: sn.wire, gate: n.gate, peerWire: func(p peer.ID) *Wire { return n.wires[p] }}
		if cfg.Loss > 0 {
			sn.h = &lossyHost{Host: sn.h, loss: cfg.Loss, rng: rand.New(rand.NewPCG(rng.Uint64(), uint64(i))), lost: new(int64)}
		}
		if cfg.AllShards {
			sn.shards = all
		} else {
			sn.shards = []string{all[i%cfg.Shards]}
		}
		n.nodes = append(n.nodes, sn)
	}
	if cfg.AllShards || cfg.Shards == 1 {
		members := make([]int, cfg.Nodes)
		for i := range members {
			members[i] = i
		}
		n.graph = RandomGraph(rng, cfg.Nodes, members, cfg.Degree)
	} else {
		n.graph = make(Graph, cfg.Nodes)
		for s := 0; s < cfg.Shards; s++ {
			var members []int
			for i := s; i < cfg.Nodes; i += cfg.Shards {
				members = append(members, i)
			}
			for v, ns := range RandomGraph(rng, cfg.Nodes, members, cfg.Degree) {
				n.graph[v] = append(n.graph[v], ns...)
			}
		}
	}
	return n, nil
}

// newHost gives node i its own IP address. Gossipsub's score penalises peers sharing an IP
// (or an IPv6 /64) beyond 5 (relay.md: IPColocationFactor), and mocknet's own addresses all sit
// in 100::/64, which graylists everyone in a network of more than a handful of nodes. So mocknet
// hosts get 10.x.y.z and TCP hosts listen on 127.x.y.z (all loopback on Linux).
func (n *simNet) newHost(i int) (host.Host, error) {
	a, b, c := byte((i+1)>>16), byte((i+1)>>8), byte(i+1)
	if n.mn != nil {
		sk, _, err := crypto.GenerateEd25519Key(crand.Reader)
		if err != nil {
			return nil, err
		}
		addr, err := ma.NewMultiaddr(fmt.Sprintf("/ip4/10.%d.%d.%d/tcp/4242", a, b, c))
		if err != nil {
			return nil, err
		}
		return n.mn.AddPeer(sk, addr)
	}
	return libp2p.New(libp2p.ListenAddrStrings(fmt.Sprintf("/ip4/127.%d.%d.%d/tcp/0", a, b, c)), libp2p.DisableRelay())
}

// startRelay gives the node a fresh relay subscribed to its shards.
func (n *simNet) startRelay(sn *simNode) error {
	rcfg := relay.Config{
		Params:  n.cfg.Params,
		Flood:   n.cfg.Router == RouterFlood,
		Metrics: sn.traffic,
		Logger:  n.cfg.Logger,
		// One validation worker per node: hundreds of nodes share two cores.
		ValidateWorkers: 1,
	}
	r, err := relay.New(sn.h, rcfg, sn.recv)
	if err != nil {
		return fmt.Errorf("sim: node %d: %w", sn.idx, err)
	}
	for _, t := range sn.shards {
		if err := r.Subscribe(t); err != nil {
			_ = r.Close()
			return fmt.Errorf("sim: node %d: %w", sn.idx, err)
		}
	}
	sn.mu.Lock()
	sn.r = r
	sn.mu.Unlock()
	return nil
}

func (sn *simNode) relay() *relay.Relay {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	return sn.r
}

// link connects a and b (mocknet: a link with the configured latency first).
func (n *simNet) link(ctx context.Context, a, b int) error {
	ha, hb := n.nodes[a].raw, n.nodes[b].raw
	if ha.Network().Connectedness(hb.ID()) == network.Connected {
		return nil
	}
	if n.mn != nil {
		if len(n.mn.LinksBetweenPeers(ha.ID(), hb.ID())) == 0 {
			l, err := n.mn.LinkPeers(ha.ID(), hb.ID())
			if err != nil {
				return fmt.Errorf("sim: link %d-%d: %w", a, b, err)
			}
			l.SetOptions(mocknet.LinkOptions{Latency: n.cfg.Latency})
		}
		if _, err := n.mn.ConnectPeers(ha.ID(), hb.ID()); err != nil {
			return fmt.Errorf("sim: connect %d-%d: %w", a, b, err)
		}
		return nil
	}
	if err := ha.Connect(ctx, peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()}); err != nil {
		return fmt.Errorf("sim: connect %d-%d: %w", a, b, err)
	}
	return nil
}

// start starts every relay, then connects the graph.
func (n *simNet) start(ctx context.Context) error {
	for _, sn := range n.nodes {
		if err := n.startRelay(sn); err != nil {
			return err
		}
		n.up[sn.idx] = true
	}
	for _, e := range n.graph.Edges() {
		if err := n.link(ctx, e[0], e[1]); err != nil {
			return err
		}
	}
	return nil
}

// setUp flips the node's state and returns a snapshot of who is up; ordering the flips under
// one lock means of two restarting neighbours the later one always sees the earlier.
func (n *simNet) setUp(sn *simNode, up bool, at time.Time) []bool {
	n.upMu.Lock()
	defer n.upMu.Unlock()
	n.up[sn.idx] = up
	sn.mu.Lock()
	if up {
		sn.downs[len(sn.downs)-1].to = at
	} else {
		sn.downs = append(sn.downs, interval{from: at})
	}
	sn.mu.Unlock()
	return append([]bool(nil), n.up...)
}

func (n *simNet) isUp(i int) bool {
	n.upMu.Lock()
	defer n.upMu.Unlock()
	return n.up[i]
}

// restart takes the node down (relay closed, connections dropped) for the downtime, then
// starts a fresh relay and reconnects it to its neighbours that are up.
func (n *simNet) restart(ctx context.Context, sn *simNode) error {
	n.setUp(sn, false, time.Now())
	if r := sn.relay(); r != nil {
		_ = r.Close()
	}
	for _, p := range sn.raw.Network().Peers() {
		_ = sn.raw.Network().ClosePeer(p)
	}
	select {
	case <-time.After(n.cfg.ChurnDowntime):
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := n.startRelay(sn); err != nil {
		return err
	}
	up := n.setUp(sn, true, time.Now())
	for _, v := range n.graph[sn.idx] {
		if up[v] {
			if err := n.link(ctx, sn.idx, v); err != nil {
				return err
			}
		}
	}
	// The node counts as up only once it is reconnected.
	sn.mu.Lock()
	sn.downs[len(sn.downs)-1].to = time.Now()
	sn.mu.Unlock()
	return nil
}

// downDuring reports whether the node was down at any point in [from, to].
func (sn *simNode) downDuring(from, to time.Time) bool {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	for _, d := range sn.downs {
		end := d.to
		if end.IsZero() {
			end = to.Add(time.Hour)
		}
		if d.from.Before(to) && end.After(from) {
			return true
		}
	}
	return false
}

func (n *simNet) close() {
	for _, sn := range n.nodes {
		if r := sn.relay(); r != nil {
			_ = r.Close()
		}
	}
	for _, sn := range n.nodes {
		_ = sn.raw.Close()
	}
	if n.mn != nil {
		_ = n.mn.Close()
	}
}
