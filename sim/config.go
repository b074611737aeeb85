// Package sim runs many Waku relay nodes in one process (go-libp2p mocknet or loopback TCP),
// publishes a load and measures what each node pays for it: copies received per message,
// bytes in/out per message, control share, delivery and latency. It drives the project's own
// relay package; cmd/wakusim is its command line.
package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/wakunode/wakunode/relay"
)

// Routers.
const (
	RouterFlood  = "flood"     // floodsub: every peer forwards to every topic peer (Waku v1)
	RouterGossip = "gossipsub" // gossipsub with Config.Params
)

// Transports.
const (
	TransportMock = "mock" // go-libp2p mocknet, per-link latency
	TransportTCP  = "tcp"  // real hosts on 127.0.0.1; no added latency
)

// Config describes one simulation run. Zero values take the documented defaults, sized for CI.
type Config struct {
	Nodes  int    // default 30
	Degree int    // target connections per node in the random graph; default 8
	Router string // RouterFlood or RouterGossip (default)
	// Params are the gossipsub parameters (RouterGossip); zero means relay.DefaultParams().
	Params relay.Params
	// ParamsName labels Params in results ("node", "library", "custom").
	ParamsName string
	// Shards is the number of shards (pubsub topics /waku/2/rs/<Cluster>/<s>); default 1.
	// Node i relays shard i mod Shards, and the graph is built within each shard's nodes (a
	// peer manager connects peers that share a shard). With AllShards every node relays every
	// shard and the graph spans all nodes.
	Shards    int
	AllShards bool
	Cluster   int // default 1

	Messages int           // messages published in total; default 50
	Size     int           // payload bytes; default 1000
	Rate     float64       // messages per second across the network; default 10
	Latency  time.Duration // one-way latency of every mocknet link; default 20 ms
	// Transport is TransportMock (default) or TransportTCP.
	Transport string

	// Churn is the share of nodes (0..1) that restart once during the publishing phase:
	// relay closed, connections dropped, down for ChurnDowntime, then a fresh relay reconnects
	// to its graph neighbours.
	Churn         float64
	ChurnDowntime time.Duration // default 1 s
	// Loss is the probability (0..1) that each data message copy written to a link is lost.
	// Streams are reliable, so loss is injected above them: see lossyStream.
	Loss float64

	Warmup time.Duration // mesh formation before the first publish; default 3 s
	// Drain bounds the wait for outstanding deliveries after the last publish; default 5 s.
	Drain time.Duration
	// Settle is how long a receiver must stay up after a publish (and RejoinGrace how long it
	// must have been back before it) to count as an expected receiver under churn.
	Settle      time.Duration // default 3 s
	RejoinGrace time.Duration // default 500 ms
	// Timeout bounds the whole run; default Warmup + Messages/Rate + Drain + 30 s.
	Timeout time.Duration
	Seed    int64 // graph, publishers, churn and loss; default 1
	Logger  *slog.Logger
}

func (c *Config) setDefaults() error {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Nodes, 30)
	def(&c.Degree, 8)
	def(&c.Shards, 1)
	def(&c.Cluster, 1)
	def(&c.Messages, 50)
	def(&c.Size, 1000)
	if c.Rate <= 0 {
		c.Rate = 10
	}
	if c.Router == "" {
		c.Router = RouterGossip
	}
	if c.Transport == "" {
		c.Transport = TransportMock
	}
	if c.Params == (relay.Params{}) {
		c.Params = relay.DefaultParams()
		if c.ParamsName == "" {
			c.ParamsName = "node"
		}
	}
	if c.ParamsName == "" {
		c.ParamsName = "custom"
	}
	if c.Latency == 0 {
		c.Latency = 20 * time.Millisecond
	}
	defD(&c.ChurnDowntime, time.Second)
	defD(&c.Warmup, 3*time.Second)
	defD(&c.Drain, 5*time.Second)
	defD(&c.Settle, 3*time.Second)
	defD(&c.RejoinGrace, 500*time.Millisecond)
	if c.Timeout <= 0 {
		pub := time.Duration(float64(c.Messages) / c.Rate * float64(time.Second))
		c.Timeout = c.Warmup + pub + c.Drain + 30*time.Second
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.Router != RouterFlood && c.Router != RouterGossip:
		return fmt.Errorf("sim: unknown router %q", c.Router)
	case c.Transport != TransportMock && c.Transport != TransportTCP:
		return fmt.Errorf("sim: unknown transport %q", c.Transport)
	case c.Nodes < 2:
		return errors.New("sim: need at least 2 nodes")
	case c.Size < 8:
		return errors.New("sim: size must be at least 8 bytes (the payload carries the message index)")
	case c.Churn < 0 || c.Churn > 1 || c.Loss < 0 || c.Loss >= 1:
		return errors.New("sim: churn must be in [0,1] and loss in [0,1)")
	case !c.AllShards && c.Nodes/c.Shards < 2:
		return fmt.Errorf("sim: %d nodes cannot cover %d shards with 2 nodes each", c.Nodes, c.Shards)
	}
	if c.Router == RouterGossip {
		if err := CheckParams(c.Params); err != nil {
			return err
		}
	}
	return nil
}

// LibraryParams are go-libp2p-pubsub v0.15's own defaults (D 6, Dlo 5, Dhi 12, Dscore 4, Dout 2,
// Dlazy 6, history 5/3, unsubscribe backoff 10 s, flood publish on, IDONTWANT on, no PX), in
// relay.Params form. Scoring stays Waku's in every profile.
func LibraryParams() relay.Params {
	g := pubsub.DefaultGossipSubParams()
	return relay.Params{
		D: g.D, Dlo: g.Dlo, Dhi: g.Dhi, Dscore: g.Dscore, Dout: g.Dout, Dlazy: g.Dlazy,
		HeartbeatInterval:  g.HeartbeatInterval,
		HistoryLength:      g.HistoryLength,
		HistoryGossip:      g.HistoryGossip,
		FanoutTTL:          g.FanoutTTL,
		PruneBackoff:       g.PruneBackoff,
		UnsubscribeBackoff: g.UnsubscribeBackoff,
		GossipFactor:       g.GossipFactor,
		SeenMessagesTTL:    pubsub.TimeCacheDuration,
		FloodPublish:       true,
		IDontWant:          true,
		IDontWantMinSize:   g.IDontWantMessageThreshold,
		PeerExchange:       false,
	}
}

// WithDegrees returns p with the mesh degrees set, adjusting Dscore and Dout so that
// go-libp2p-pubsub accepts them (Dscore <= Dhi, Dout < Dlo, Dout < D/2).
func WithDegrees(p relay.Params, d, dlo, dhi, dlazy int) relay.Params {
	p.D, p.Dlo, p.Dhi, p.Dlazy = d, dlo, dhi, dlazy
	p.Dscore = min(p.Dscore, dhi)
	p.Dout = max(0, min(p.Dout, dlo-1, d/2-1))
	return p
}

// CheckParams reports the constraints go-libp2p-pubsub enforces on the mesh degrees.
func CheckParams(p relay.Params) error {
	switch {
	case p.D < 2:
		return fmt.Errorf("sim: D=%d: go-libp2p-pubsub needs D >= 2 (Dout < D/2)", p.D)
	case !(p.Dlo <= p.D && p.D <= p.Dhi):
		return fmt.Errorf("sim: need Dlo <= D <= Dhi, have %d/%d/%d", p.Dlo, p.D, p.Dhi)
	case p.Dscore > p.Dhi:
		return fmt.Errorf("sim: Dscore=%d > Dhi=%d", p.Dscore, p.Dhi)
	case !(p.Dout < p.Dlo && p.Dout < p.D/2):
		return fmt.Errorf("sim: Dout=%d must be < Dlo=%d and < D/2", p.Dout, p.Dlo)
	case p.HistoryGossip > p.HistoryLength:
		return fmt.Errorf("sim: HistoryGossip=%d > HistoryLength=%d", p.HistoryGossip, p.HistoryLength)
	}
	return nil
}
