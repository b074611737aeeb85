package relay

import (
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// ProtocolID is the Waku relay protocol: gossipsub under a Waku-specific ID (11/WAKU2-RELAY).
const ProtocolID = "/vac/waku/relay/2.0.0"

// Protocols are the stream protocols we speak, most preferred first. /vac/waku/relay/2.0.0 is
// the interop ID (nwaku, go-waku); the /meshsub IDs let plain gossipsub peers join.
var Protocols = []protocol.ID{ProtocolID, pubsub.GossipSubID_v12, pubsub.GossipSubID_v11, pubsub.GossipSubID_v10}

// Params are the gossipsub mesh parameters. DefaultParams returns the node's; NwakuParams nwaku's.
type Params struct {
	D, Dlo, Dhi, Dscore, Dout, Dlazy int
	HeartbeatInterval                time.Duration
	HistoryLength, HistoryGossip     int
	FanoutTTL                        time.Duration
	PruneBackoff                     time.Duration
	UnsubscribeBackoff               time.Duration
	GossipFactor                     float64
	// SeenMessagesTTL is the duplicate window: a message seen within it is neither delivered
	// nor relayed again, and publishing it again answers message.ErrDuplicate.
	SeenMessagesTTL time.Duration
	// GossipSeenTTL is how long gossipsub's own seen cache keeps a message ID (0: the whole
	// SeenMessagesTTL). Below SeenMessagesTTL, relay's bounded hash set recognises the older
	// duplicates (up to 65,536 of them), and the library's cache, which grows with the rate,
	// stays small (third_party's go-libp2p-pubsub sweeps it every TTL; upstream, once a minute).
	GossipSeenTTL time.Duration
	// FloodPublish sends our own messages to every topic peer above the publish threshold,
	// not only the mesh.
	FloodPublish bool
	// IDontWant enables gossipsub v1.2 IDONTWANT on /vac/waku/relay/2.0.0 (it is always on
	// for /meshsub/1.2.0, whose peers expect it).
	IDontWant bool
	// IDontWantMinSize is the smallest message (its data, the encoded WakuMessage) that
	// IDONTWANT is sent for; 0 means go-libp2p-pubsub's 1,024 bytes, which every profile
	// keeps: at 1 kB, wakusim measured IDONTWANT saving 0-3 % of the bytes under loss and
	// churn (docs/scaling.md, IDONTWANT at 1 kB).
	IDontWantMinSize int
	// PeerExchange answers PRUNE with peer records (gossipsub v1.1 PX).
	PeerExchange bool
}

// DefaultParams are the node's gossipsub parameters: nwaku's (NwakuParams) with a leaner mesh,
// D 4, Dlo 3, Dhi 5, Dscore 5, Dout 1, a 700 ms heartbeat with 3 heartbeats of message history
// and IHAVE over the last 2 instead of 1 s, 6 and 3, and gossipsub's seen cache kept 10 s
// instead of 2 min.
func DefaultParams() Params {
	p := NwakuParams()
	// The mesh degrees wakusim chose (docs/scaling.md): 2.7 copies per message instead of nwaku's
	// ~4.5 and the library's ~6, with 100 % delivery under 10-20 % churn and 5-10 % loss and a
	// lower p99. D 4 keeps Dout 1: outbound mesh links that resist eclipse attacks (D ≤ 3
	// would force Dout 0). The mesh degree is local; it does not affect interop.
	p.D, p.Dlo, p.Dhi, p.Dscore, p.Dout = 4, 3, 5, 5, 1
	// The history answers IWANT and is most of the node's live heap: it holds 2 to 3 heartbeats
	// of messages, 10.9 MB a second at 10 KB × 1,000 msg/s. IHAVE advertises each message in 2
	// heartbeats and the history keeps it one more, so an IWANT is still answered a heartbeat
	// after the last IHAVE (no broken gossip promise). A 700 ms heartbeat keeps the 2 rounds of
	// IHAVE and shortens the history from 3 s to 2.1 s. In wakusim under churn and loss it
	// delivered as 1 s did, and sooner; 2 heartbeats of history with 1 round of IHAVE held as
	// little but lost deliveries at 30 % loss (docs/scaling.md). The heartbeat is local: peers
	// see IHAVE every 700 ms, and an IWANT must come within 700 ms of the last one.
	p.HistoryLength, p.HistoryGossip = 3, 2
	p.HeartbeatInterval = 700 * time.Millisecond
	// Peers advertise a message in IHAVE for at most 3 heartbeats after they got it (nwaku,
	// go-waku), so an ID kept 10 s is never fetched again by IWANT, and a later duplicate is
	// rare; relay's own hash set still answers it for the full 2 minutes (for the last 65,536
	// messages: at 1,000 msg/s that is 65 s). The library sweeps its cache once a minute, so
	// an ID stays 10 to 70 s: at 1,000 msg/s, up to 70,000 IDs instead of 90,000 with 30 s.
	p.GossipSeenTTL = 10 * time.Second
	return p
}

// NwakuParams are nwaku's GossipsubParameters (relay.md): D 6, Dlo 4, Dhi 8, Dscore 6, Dlazy 6,
// heartbeat 1 s, history 6/3, fanout TTL 1 min, prune backoff 1 min, unsubscribe backoff 5 s,
// gossip factor 0.25, seen TTL 2 min, flood publish on, plus IDONTWANT and PX. Dout is 2, not
// nwaku's 3: go-libp2p-pubsub v0.15 requires Dout < D/2. It is a local outbound quota.
func NwakuParams() Params {
	return Params{
		D: 6, Dlo: 4, Dhi: 8, Dscore: 6, Dout: 2, Dlazy: 6,
		HeartbeatInterval:  time.Second,
		HistoryLength:      6,
		HistoryGossip:      3,
		FanoutTTL:          time.Minute,
		PruneBackoff:       time.Minute,
		UnsubscribeBackoff: 5 * time.Second,
		GossipFactor:       0.25,
		SeenMessagesTTL:    2 * time.Minute,
		GossipSeenTTL:      2 * time.Minute,
		FloodPublish:       true,
		IDontWant:          true,
		PeerExchange:       true,
	}
}

// gossipSeenTTL is GossipSeenTTL, or SeenMessagesTTL where that is unset or shorter.
func (p Params) gossipSeenTTL() time.Duration {
	if p.GossipSeenTTL <= 0 || p.GossipSeenTTL > p.SeenMessagesTTL {
		return p.SeenMessagesTTL
	}
	return p.GossipSeenTTL
}

func (p Params) gossipSub() pubsub.GossipSubParams {
	g := pubsub.DefaultGossipSubParams()
	g.D, g.Dlo, g.Dhi, g.Dscore, g.Dout, g.Dlazy = p.D, p.Dlo, p.Dhi, p.Dscore, p.Dout, p.Dlazy
	g.HeartbeatInterval = p.HeartbeatInterval
	g.HistoryLength, g.HistoryGossip = p.HistoryLength, p.HistoryGossip
	g.FanoutTTL = p.FanoutTTL
	g.PruneBackoff = p.PruneBackoff
	g.UnsubscribeBackoff = p.UnsubscribeBackoff
	g.GossipFactor = p.GossipFactor
	if p.IDontWantMinSize > 0 {
		g.IDontWantMessageThreshold = p.IDontWantMinSize
	}
	return g
}

// features maps gossipsub features onto our protocol list: mesh everywhere, PX from 1.1 on,
// IDONTWANT on meshsub 1.2 and (optionally) on the Waku ID.
func (p Params) features(feat pubsub.GossipSubFeature, proto protocol.ID) bool {
	switch feat {
	case pubsub.GossipSubFeatureMesh:
		return proto == ProtocolID || proto == pubsub.GossipSubID_v12 || proto == pubsub.GossipSubID_v11 || proto == pubsub.GossipSubID_v10
	case pubsub.GossipSubFeaturePX:
		return proto == ProtocolID || proto == pubsub.GossipSubID_v12 || proto == pubsub.GossipSubID_v11
	case pubsub.GossipSubFeatureIdontwant:
		return (proto == ProtocolID && p.IDontWant) || proto == pubsub.GossipSubID_v12
	default:
		return false
	}
}

// GraylistThreshold is relay.md's: gossipsub ignores the RPCs of a peer scored below it, and
// (as nwaku does) the peer manager disconnects it (Relay.Graylisted).
const GraylistThreshold = -10000

// Peer score thresholds from relay.md.
func scoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:             -100,
		PublishThreshold:            -1000,
		GraylistThreshold:           GraylistThreshold,
		OpportunisticGraftThreshold: 0,
	}
}

// scoreRecordTTL is how long the peer score keeps a message's delivery record (which peers
// sent it). A record is read for duplicates that arrive while the message is validated
// (credited or penalised with it) and for duplicates of a message found invalid, which come
// within a peer's message history (6 heartbeats in nwaku); delivery times feed only mesh
// delivery scoring, which relay.md leaves off. Later duplicates are still dropped by the seen
// cache, unscored. At 1,000 msg/s a record costs ~170 heap bytes; upstream go-libp2p-pubsub
// sweeps them once a minute, where 30 s records held 14 MB after 3 minutes (docs/benchmarks-history.md, session 7),
// and third_party's patched copy every TTL, so 6 s holds about 1 MB.
const scoreRecordTTL = 6 * time.Second

// scoreParams are the global peer score params from relay.md. Topic params are set per topic
// on join (topicScoreParams) because topics come and go.
func scoreParams() *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		Topics:                      map[string]*pubsub.TopicScoreParams{},
		AppSpecificScore:            func(peer.ID) float64 { return 0 },
		AppSpecificWeight:           0,
		IPColocationFactorWeight:    -50,
		IPColocationFactorThreshold: 5,
		BehaviourPenaltyWeight:      -10,
		BehaviourPenaltyDecay:       0.986,
		DecayInterval:               12 * time.Second,
		DecayToZero:                 0.01,
		RetainScore:                 10 * time.Minute,
		SeenMsgTTL:                  scoreRecordTTL,
	}
}

// topicScoreParams applies to every subscribed pubsub topic (relay.md); mesh delivery and
// mesh failure penalties are disabled.
func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight:                    1,
		TimeInMeshWeight:               0.01,
		TimeInMeshQuantum:              time.Second,
		TimeInMeshCap:                  10,
		FirstMessageDeliveriesWeight:   1,
		FirstMessageDeliveriesDecay:    0.5,
		FirstMessageDeliveriesCap:      10,
		InvalidMessageDeliveriesWeight: -100,
		InvalidMessageDeliveriesDecay:  0.5,
	}
}
