package cli

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/node"
)

// Options holds every flag nwaku 0.3x declares, typed as nwaku declares it. The flags of
// capabilities we do not build live in NwakuOnly: parsed and validated, refused by Parse when
// their value asks for the capability (compat.go).
type Options struct {
	ConfigFile string
	LogLevel   slog.Level
	LogFormat  LogFormat
	MaxMsgSize string // as given; MaxMsgBytes is its value
	// MaxMsgBytes is --max-msg-size in bytes.
	MaxMsgBytes int

	ClusterID         uint16
	NodeKey           string // hex; empty = load or generate under DataDir
	DataDir           string // ours (nwaku has none): where a generated node key is kept
	ListenAddress     string
	TCPPort           uint16
	ExtMultiaddrs     []string
	MaxConnections    int
	MaxRelayPeers     *int
	RelayServiceRatio string
	IPColocationLimit int
	PeerStoreCapacity *int
	PeerPersistence   bool
	DNS4DomainName    string

	Relay              bool
	RelayPeerExchange  bool
	StaticNodes        []string
	NumShardsInNetwork uint16
	Shards             []uint16
	ContentTopics      []string

	Store                     bool
	StoreNode                 string
	StoreRetentionPolicy      string
	StoreDBURL                string
	StoreDBVacuum             bool
	StoreDBMigration          bool
	StoreMaxDBConns           int
	StoreQueueBytes           int64 // ours (nwaku has none): bound of the archive's insert queue
	StoreSpillBytes           int64 // ours: bound of the archive's on-disk overflow of that queue
	StoreFsyncCommits         bool  // ours: SQLite synchronous=FULL instead of NORMAL
	StoreWriterNice           int   // ours: how much lower the archive writer's CPU priority is
	StoreResume               bool
	StoreSync                 bool
	StoreSyncInterval         uint32
	StoreSyncRange            uint32
	StoreSyncRelayJitter      uint32
	Filter                    bool
	FilterNode                string
	FilterSubscriptionTimeout uint16
	FilterMaxPeersToServe     uint32
	FilterMaxCriteria         uint32
	Lightpush                 bool
	LightpushNode             string
	PeerExchange              bool
	PeerExchangeNode          string
	DNSDiscovery              bool
	DNSDiscoveryURL           string
	Discv5Discovery           *bool
	Discv5UDPPort             uint16
	Discv5BootstrapNodes      []string
	Discv5TableIPLimit        uint
	Discv5BucketIPLimit       uint
	Discv5ENRAutoUpdate       bool
	DNSAddrsNameServers       []string
	NAT                       string
	RateLimits                []string
	REST                      bool
	RESTAddress               string
	RESTPort                  uint16
	RESTRelayCacheCapacity    uint32
	RESTAdmin                 bool
	RESTAllowOrigins          []string
	MetricsServer             bool
	MetricsServerAddress      string
	MetricsServerPort         uint16
	WebSocketSupport          bool
	WebSocketPort             uint16
	WebSocketSecureSupport    bool
	WebSocketSecureKeyPath    string
	WebSocketSecureCertPath   string
	Version                   bool // --version: print the version and exit

	// PortsShift is added to every port (--ports-shift), as nwaku does; Parse applies it.
	PortsShift uint16
	// KeepAlive is --keep-alive: nil = not given (wakunode's default interval).
	KeepAlive *bool
	// MetricsLogging logs key metrics periodically (--metrics-logging, on by default).
	MetricsLogging bool
	// MetricsPprof mounts net/http/pprof under /debug/pprof/ on the metrics server
	// (--metrics-pprof; ours, not an nwaku flag; off by default).
	MetricsPprof bool
	// PubsubTopics is nwaku's deprecated --pubsub-topic: static shard topics to relay on.
	PubsubTopics []string
	// RequestRateLimit per RequestRatePeriod seconds is the older nwaku's one limit for every
	// service, before --rate-limit; 0 in either is unlimited.
	RequestRateLimit  int
	RequestRatePeriod int

	// Swap are the accounting flags (--swap*; go-waku's, not nwaku's).
	Swap swapOptions

	NwakuOnly nwakuOnly
	// Notes are remarks on accepted nwaku-only values, for the caller to log.
	Notes []string
}

// nwaku's DefaultColocationLimit (peer_manager): peers allowed per IP.
const defaultColocationLimit = 5

// defaults returns nwaku's defaults (spec/cli.md).
func defaults() *Options {
	return &Options{
		LogLevel:                  LevelInfo,
		LogFormat:                 FormatText,
		MaxMsgSize:                "150KiB",
		MaxMsgBytes:               message.DefaultMaxMessageSize,
		DataDir:                   ".",
		ListenAddress:             "0.0.0.0",
		TCPPort:                   60000,
		MaxConnections:            50,
		RelayServiceRatio:         "60:40",
		IPColocationLimit:         defaultColocationLimit,
		Relay:                     true,
		NumShardsInNetwork:        1,
		StoreRetentionPolicy:      "time:172800",
		StoreDBURL:                "sqlite://store.sqlite3",
		StoreMaxDBConns:           50,
		StoreSyncInterval:         300,
		StoreSyncRange:            3600,
		StoreSyncRelayJitter:      20,
		StoreQueueBytes:           archive.DefaultQueueBytes,
		StoreSpillBytes:           archive.DefaultSpillBytes,
		StoreWriterNice:           node.DefaultWriterNice,
		StoreDBMigration:          true,
		FilterSubscriptionTimeout: 300,
		FilterMaxPeersToServe:     1000,
		FilterMaxCriteria:         1000,
		PeerExchange:              true,
		Discv5UDPPort:             9000,
		Discv5TableIPLimit:        10,
		Discv5BucketIPLimit:       2,
		NAT:                       "any",
		REST:                      true,
		RESTAddress:               "127.0.0.1",
		RESTPort:                  8645,
		RESTRelayCacheCapacity:    50,
		MetricsServerAddress:      "127.0.0.1",
		MetricsServerPort:         8008,
		WebSocketPort:             8000,
		MetricsLogging:            true,
		Swap:                      swapDefaults(),
		NwakuOnly:                 nwakuOnlyDefaults(),
	}
}

// newFlagSet declares every flag of spec/cli.md on o, whose current values become the defaults.
func newFlagSet(o *Options) *flag.FlagSet {
	fs := flag.NewFlagSet("wakunode", flag.ContinueOnError)
	str := func(p *string, name, usage string) { fs.StringVar(p, name, *p, usage) }
	boolean := func(p *bool, name, usage string) { fs.BoolVar(p, name, *p, usage) }
	u16 := func(p *uint16, name, usage string) { fs.Var(uintValue[uint16]{p}, name, usage) }
	u32 := func(p *uint32, name, usage string) { fs.Var(uintValue[uint32]{p}, name, usage) }
	list := func(p *[]string, name, usage string, check func(string) error) {
		fs.Var(stringList{p, check}, name, usage)
	}

	str(&o.ConfigFile, "config-file", "Loads configuration from a TOML file (cmd-line parameters take precedence)")
	fs.Var(levelValue{&o.LogLevel}, "log-level", "Log level: TRACE, DEBUG, INFO, NOTICE, WARN, ERROR or FATAL")
	fs.Var(formatValue{&o.LogFormat}, "log-format", "Log format: TEXT or JSON")
	fs.Var(sizeValue{&o.MaxMsgSize, &o.MaxMsgBytes}, "max-msg-size", "Maximum message size, e.g. 150KiB, 1500 B (units: B, KB, KiB, MB, MiB)")
	fs.BoolVar(&o.Version, "version", false, "Print the version and exit")

	u16(&o.ClusterID, "cluster-id", "Cluster id the node runs in; peers of another cluster are disconnected")
	str(&o.NodeKey, "nodekey", "P2P node private key as 64 char hex string")
	str(&o.DataDir, "data-dir", "Directory keeping the generated node key when --nodekey is not given (not an nwaku flag)")
	fs.Var(ipValue{&o.ListenAddress}, "listen-address", "Listening address for libp2p traffic")
	u16(&o.TCPPort, "tcp-port", "TCP listening port")
	u16(&o.PortsShift, "ports-shift", "Add a shift to all port numbers (a port of 0 stays 0: any free port)")
	list(&o.ExtMultiaddrs, "ext-multiaddr", "External multiaddress to advertise. Argument may be repeated", checkMultiaddr)
	fs.IntVar(&o.MaxConnections, "max-connections", o.MaxConnections, "Maximum allowed number of libp2p connections")
	fs.Var(optInt{&o.MaxRelayPeers}, "max-relay-peers", "Deprecated in nwaku: maximum number of relay peers")
	str(&o.RelayServiceRatio, "relay-service-ratio", "Ratio of relay to service peers within max-connections")
	fs.IntVar(&o.IPColocationLimit, "ip-colocation-limit", o.IPColocationLimit, "Max peers from the same IP; 0 removes the limit")
	fs.Var(optInt{&o.PeerStoreCapacity}, "peer-store-capacity", "Maximum stored peers in the peerstore")
	boolean(&o.PeerPersistence, "peer-persistence", "Enable peer persistence")
	str(&o.DNS4DomainName, "dns4-domain-name", "The domain name resolving to the node's public IPv4 address")

	boolean(&o.Relay, "relay", "Enable relay protocol: true|false")
	boolean(&o.RelayPeerExchange, "relay-peer-exchange", "Enable gossipsub peer exchange in relay: true|false")
	list(&o.StaticNodes, "staticnode", "Peer multiaddr to directly connect with. Argument may be repeated", checkPeerMultiaddr)
	fs.Var(optBool{&o.KeepAlive}, "keep-alive", "Ping connected peers every 2 minutes (true) or never (false); unset: every 5 minutes")
	list(&o.PubsubTopics, "pubsub-topic", "Deprecated in nwaku: static shard pubsub topic /waku/2/rs/<cluster>/<shard> to subscribe to. Argument may be repeated", nil)
	u16(&o.NumShardsInNetwork, "num-shards-in-network", "Number of shards in the cluster for autosharding; 0 = static sharding")
	fs.Var(uint16List{&o.Shards}, "shard", "Shard index to subscribe to. Argument may be repeated")
	list(&o.ContentTopics, "content-topic", "Content topic to subscribe to (via autosharding). Argument may be repeated", checkContentTopic)

	boolean(&o.Store, "store", "Enable store protocol")
	str(&o.StoreNode, "storenode", "Peer multiaddr to query for storage")
	str(&o.StoreRetentionPolicy, "store-message-retention-policy", "Retention policy: time:<seconds>, capacity:<count> or size:<n>GB|MB|KB")
	str(&o.StoreDBURL, "store-message-db-url", "Message store database URL")
	boolean(&o.StoreDBVacuum, "store-message-db-vacuum", "Vacuum the SQLite database at start")
	boolean(&o.StoreDBMigration, "store-message-db-migration", "Migrate the database at start")
	fs.IntVar(&o.StoreMaxDBConns, "store-max-num-db-connections", o.StoreMaxDBConns, "Maximum PostgreSQL connections in the pool")
	fs.Int64Var(&o.StoreQueueBytes, "store-queue-bytes", o.StoreQueueBytes, "Bytes of messages waiting to be written to the store database before new ones are dropped (not an nwaku flag)")
	fs.Int64Var(&o.StoreSpillBytes, "store-spill-bytes", o.StoreSpillBytes, "Bytes of messages the store may spill to disk (data dir) when its insert queue is full, written later; 0 drops instead (not an nwaku flag)")
	boolean(&o.StoreFsyncCommits, "store-fsync-commits", "Fsync every SQLite store commit so it survives power loss, not only a crash (synchronous=FULL; default NORMAL, as go-waku) (not an nwaku flag)")
	fs.IntVar(&o.StoreWriterNice, "store-writer-nice", o.StoreWriterNice, "How many nice steps below the node's the store writer's thread runs, so relaying goes first on a busy machine (Linux; 0 keeps it equal; while the writer is busy the node also runs one scheduler thread more than the CPUs) (not an nwaku flag)")
	boolean(&o.StoreResume, "store-resume", "Enable store resume")
	boolean(&o.StoreSync, "store-sync", "Enable store sync")
	u32(&o.StoreSyncInterval, "store-sync-interval", "Seconds between store sync attempts")
	u32(&o.StoreSyncRange, "store-sync-range", "Seconds of history to sync")
	u32(&o.StoreSyncRelayJitter, "store-sync-relay-jitter", "Seconds allowed for relay propagation jitter")
	boolean(&o.Filter, "filter", "Enable filter protocol")
	str(&o.FilterNode, "filternode", "Peer multiaddr to request content filtering of messages")
	u16(&o.FilterSubscriptionTimeout, "filter-subscription-timeout", "Seconds a filter subscription lives without a ping")
	u32(&o.FilterMaxPeersToServe, "filter-max-peers-to-serve", "Maximum number of filter peers served at a time")
	u32(&o.FilterMaxCriteria, "filter-max-criteria", "Maximum pubsub/content topic pairs per filter peer")
	boolean(&o.Lightpush, "lightpush", "Enable lightpush protocol")
	str(&o.LightpushNode, "lightpushnode", "Peer multiaddr to request lightpush of published messages")

	boolean(&o.REST, "rest", "Enable the REST HTTP server: true|false")
	fs.Var(ipValue{&o.RESTAddress}, "rest-address", "Listening address of the REST HTTP server")
	u16(&o.RESTPort, "rest-port", "Listening port of the REST HTTP server")
	u32(&o.RESTRelayCacheCapacity, "rest-relay-cache-capacity", "Capacity of the relay REST API message cache")
	boolean(&o.RESTAdmin, "rest-admin", "Enable the REST admin API")
	list(&o.RESTAllowOrigins, "rest-allow-origin", "Allowed cross-origin request origin (wildcards * and ?). Argument may be repeated", nil)
	boolean(&o.MetricsServer, "metrics-server", "Enable the metrics server: true|false")
	fs.Var(ipValue{&o.MetricsServerAddress}, "metrics-server-address", "Listening address of the metrics server")
	u16(&o.MetricsServerPort, "metrics-server-port", "Listening HTTP port of the metrics server")
	boolean(&o.MetricsLogging, "metrics-logging", "Log key metrics every 30 seconds: true|false")
	boolean(&o.MetricsPprof, "metrics-pprof", "Serve Go pprof profiles under /debug/pprof/ on the metrics server (not an nwaku flag): true|false")

	boolean(&o.DNSDiscovery, "dns-discovery", "Deprecated in nwaku: enable DNS discovery")
	str(&o.DNSDiscoveryURL, "dns-discovery-url", "enrtree://<key>@<fqdn> URL of a DNS node list")
	fs.Var(optBool{&o.Discv5Discovery}, "discv5-discovery", "Enable Node Discovery v5")
	u16(&o.Discv5UDPPort, "discv5-udp-port", "Listening UDP port for Node Discovery v5")
	list(&o.Discv5BootstrapNodes, "discv5-bootstrap-node", "ENR of a discv5 bootstrap node. Argument may be repeated", nil)
	boolean(&o.Discv5ENRAutoUpdate, "discv5-enr-auto-update", "Let discv5 update the ENR's address from what peers observe")
	list(&o.DNSAddrsNameServers, "dns-addrs-name-server", "DNS name server (host or host:port) for DNS discovery. Argument may be repeated; the first is used", nil)
	list(&o.DNSAddrsNameServers, "dns-discovery-name-server", "Older nwaku name of --dns-addrs-name-server", nil)
	str(&o.NAT, "nat", "NAT traversal: any|none|upnp|pmp|extip:<IP>")
	fs.Var(uintValue[uint]{&o.Discv5TableIPLimit}, "discv5-table-ip-limit", "Maximum nodes with the same IP in the discv5 table")
	fs.Var(uintValue[uint]{&o.Discv5BucketIPLimit}, "discv5-bucket-ip-limit", "Maximum nodes with the same IP in a discv5 bucket")
	boolean(&o.PeerExchange, "peer-exchange", "Enable peer exchange (responder side)")
	str(&o.PeerExchangeNode, "peer-exchange-node", "Peer multiaddr to send peer exchange requests to")

	boolean(&o.WebSocketSupport, "websocket-support", "Enable websocket: true|false")
	u16(&o.WebSocketPort, "websocket-port", "WebSocket listening port")
	boolean(&o.WebSocketSecureSupport, "websocket-secure-support", "Enable secure websocket: true|false")
	str(&o.WebSocketSecureKeyPath, "websocket-secure-key-path", "Secure websocket key path")
	str(&o.WebSocketSecureCertPath, "websocket-secure-cert-path", "Secure websocket certificate path")

	list(&o.RateLimits, "rate-limit", "[protocol:]volume/period<unit> rate limit. Argument may be repeated", nil)
	fs.IntVar(&o.RequestRateLimit, "request-rate-limit", 0, "Older nwaku: requests each service serves per --request-rate-period; 0 = unlimited (a --rate-limit default)")
	fs.IntVar(&o.RequestRatePeriod, "request-rate-period", 0, "Older nwaku: period of --request-rate-limit in seconds; 0 = unlimited")
	declareSwap(fs, &o.Swap)
	declareNwakuOnly(fs, &o.NwakuOnly)
	return fs
}

func checkMultiaddr(s string) error {
	if _, err := multiaddr.NewMultiaddr(s); err != nil {
		return fmt.Errorf("not a multiaddr: %w", err)
	}
	return nil
}

func checkPeerMultiaddr(s string) error {
	if err := checkMultiaddr(s); err != nil {
		return err
	}
	if !strings.Contains(s, "/p2p/") {
		return errors.New("no /p2p/<peer id> in the multiaddr")
	}
	return nil
}

func checkContentTopic(s string) error {
	_, err := message.ParseContentTopic(s)
	return err
}
