package node

import (
	"crypto/ecdsa"
	"log/slog"
	"time"

	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/ratelimit"
	"github.com/wakunode/wakunode/relay"
)

// Config is everything a node is built from. The zero value is not usable; start from
// DefaultConfig, which carries nwaku's defaults.
type Config struct {
	// DataDir keeps the generated node key (and, with store, the SQLite archive).
	DataDir string
	// NodeKey is the secp256k1 identity; nil loads DataDir/nodekey or generates and saves one.
	NodeKey *ecdsa.PrivateKey

	ListenAddress string // IP to listen on; "0.0.0.0" by default
	TCPPort       int    // 60000; 0 picks a free port

	WebSocket       bool // --websocket-support
	WebSocketPort   int  // 8000; 0 picks a free port
	WebSocketSecure bool // --websocket-secure-support: the websocket listener speaks wss
	WebSocketCert   string
	WebSocketKey    string

	// ExtMultiaddrs are announced in addition to the listen addresses.
	ExtMultiaddrs []multiaddr.Multiaddr
	// DNS4DomainName, when set, is announced as /dns4/<name>/tcp/<port>.
	DNS4DomainName string
	// NAT is --nat: "none", "any", "upnp" or "pmp" (port mapping through the gateway, via
	// libp2p), or "extip:<IPv4>" to announce that address. The library default is "none" so an
	// embedded or test node sends nothing beyond its listen addresses; wakunode's is "any".
	NAT string

	ClusterID uint16
	// Shards are the static shards to relay on (--shard).
	Shards []uint16
	// NumShardsInNetwork enables autosharding of ContentTopics (and of REST/lightpush
	// messages without a pubsub topic).
	NumShardsInNetwork uint16
	// ContentTopics subscribe to the shards autosharding assigns them (--content-topic).
	ContentTopics []string

	Relay       bool
	RelayParams relay.Params
	// Rules is the one validation path every door applies.
	Rules message.Rules

	MaxConnections int // 50
	// StaticNodes are multiaddrs (with /p2p/<id>) kept connected.
	StaticNodes []multiaddr.Multiaddr

	Store StoreConfig
	// StoreSync, when set, runs store sync over the archive (--store-sync); needs Store.Enabled.
	StoreSync *StoreSyncConfig
	Filter    FilterConfig
	Lightpush bool // --lightpush: serve lightpush v3 and v2
	// RateLimits are the per-protocol --rate-limit settings for the services.
	RateLimits ratelimit.Settings
	// Service peers for the node's own clients (--storenode, --filternode, --lightpushnode).
	StoreNode, FilterNode, LightpushNode multiaddr.Multiaddr

	// Accounting is pairwise accounting, SWAP settlement and reputation (--swap*).
	Accounting AccountingConfig

	// PeerPersistence keeps known peers in DataDir/peers.json across restarts (--peer-persistence).
	PeerPersistence bool

	// Discovery configures peer limits, discv5, DNS discovery and peer exchange (discovery.go).
	Discovery DiscoveryConfig

	// KeepAlive pings connected peers at this interval so idle connections survive NATs.
	KeepAlive time.Duration

	// Registerer receives the node's and libp2p's Prometheus metrics; nil disables them.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// StoreWriterBusy hears when the archive writer starts and stops committing most of the
	// time (archive.Config.Busy); cmd/wakunode gives it a scheduler P more meanwhile. Nil: nobody.
	StoreWriterBusy func(busy bool)

	// muxers restricts the offered stream muxers (tests); empty offers yamux and mplex.
	muxers []string
	// Version is reported by identify's agent string and the REST API.
	Version string
}

// StoreConfig configures the message archive and the store service.
type StoreConfig struct {
	Enabled bool   // --store
	DBURL   string // sqlite://<path> (relative to DataDir) or postgres://...
	// Retention is --store-message-retention-policy, e.g. "time:172800" or "capacity:1000;size:1GB".
	Retention string
	MaxConns  int  // --store-max-num-db-connections (PostgreSQL pool)
	Migrate   bool // --store-message-db-migration
	Vacuum    bool // --store-message-db-vacuum
	// Resume fetches what the node missed while down from StoreNode (--store-resume).
	Resume bool
	// QueueBytes bounds the messages waiting to be written (--store-queue-bytes); 0 means
	// archive.DefaultQueueBytes.
	QueueBytes int64
	// SpillBytes bounds the on-disk overflow of that queue in DataDir/store-spill
	// (--store-spill-bytes); 0 disables it (a full queue drops).
	SpillBytes int64
	// FsyncCommits fsyncs every SQLite commit (--store-fsync-commits; archive.Config.FsyncCommits).
	FsyncCommits bool
	// WriterNice lowers the archive writer thread's CPU priority (--store-writer-nice;
	// archive.Config.WriterNice). Default DefaultWriterNice.
	WriterNice int
}

// DefaultWriterNice is StoreConfig.WriterNice's default: with a scheduler P to spare while the
// writer is busy (Config.StoreWriterBusy), relaying kept a lower tail near saturation than with
// either alone or neither, at no cost at user rates (docs/benchmarks-history.md, session 16).
const DefaultWriterNice = 10

// FilterConfig configures the filter service.
type FilterConfig struct {
	Enabled             bool // --filter
	MaxPeers            int  // --filter-max-peers-to-serve
	MaxCriteria         int  // --filter-max-criteria
	SubscriptionTimeout time.Duration
}

// DefaultConfig returns nwaku's defaults (spec/cli.md).
func DefaultConfig() Config {
	return Config{
		DataDir:       ".",
		ListenAddress: "0.0.0.0",
		TCPPort:       60000,
		WebSocketPort: 8000,
		Relay:         true,
		// nwaku's default: autosharding over one shard, so content topics map to shard 0.
		NumShardsInNetwork: 1,
		RelayParams:        relay.DefaultParams(),
		Rules:              message.Rules{MaxSize: message.DefaultMaxMessageSize},
		MaxConnections:     50,
		KeepAlive:          5 * time.Minute,
		Store:              StoreConfig{DBURL: "sqlite://store.sqlite3", Retention: "time:172800", MaxConns: 50, Migrate: true, QueueBytes: archive.DefaultQueueBytes, SpillBytes: archive.DefaultSpillBytes, WriterNice: DefaultWriterNice},
		Filter:             FilterConfig{MaxPeers: 1000, MaxCriteria: 1000, SubscriptionTimeout: 300 * time.Second},
		RateLimits:         ratelimit.DefaultSettings(),
		Discovery:          DefaultDiscoveryConfig(),
		Accounting:         DefaultAccountingConfig(),
		Version:            "dev",
	}
}
