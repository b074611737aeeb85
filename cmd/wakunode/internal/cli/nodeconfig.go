package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/archive"
	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/ratelimit"
	"github.com/wakunode/wakunode/rest"
)

// NodeConfig translates the options into the node's Config; Registerer is left to the caller.
func (o *Options) NodeConfig(log *slog.Logger, version string) (node.Config, error) {
	cfg := node.DefaultConfig()
	cfg.Logger, cfg.Version = log, version
	cfg.DataDir = o.DataDir
	if o.NodeKey != "" {
		k, err := node.ParseNodeKey(o.NodeKey)
		if err != nil {
			return cfg, fmt.Errorf("--nodekey: %w", err)
		}
		cfg.NodeKey = k
	}
	cfg.ListenAddress = o.ListenAddress
	cfg.TCPPort = int(o.TCPPort)
	var err error
	if cfg.ExtMultiaddrs, err = multiaddrs(o.ExtMultiaddrs); err != nil {
		return cfg, fmt.Errorf("--ext-multiaddr: %w", err)
	}
	cfg.DNS4DomainName = o.DNS4DomainName
	cfg.MaxConnections = o.MaxConnections
	if cfg.StaticNodes, err = multiaddrs(o.StaticNodes); err != nil {
		return cfg, fmt.Errorf("--staticnode: %w", err)
	}

	cfg.WebSocket = o.WebSocketSupport
	cfg.WebSocketPort = int(o.WebSocketPort)
	cfg.WebSocketSecure = o.WebSocketSecureSupport
	cfg.WebSocketCert, cfg.WebSocketKey = o.WebSocketSecureCertPath, o.WebSocketSecureKeyPath
	if cfg.WebSocketSecure && (cfg.WebSocketCert == "" || cfg.WebSocketKey == "") {
		return cfg, errors.New("--websocket-secure-support needs --websocket-secure-cert-path and --websocket-secure-key-path")
	}

	cfg.ClusterID = o.ClusterID
	cfg.NumShardsInNetwork = o.NumShardsInNetwork
	if cfg.Shards, err = o.shards(); err != nil {
		return cfg, err
	}
	cfg.ContentTopics = o.ContentTopics
	if o.KeepAlive != nil {
		cfg.KeepAlive = 0 // nwaku's --keep-alive=false: no pings
		if *o.KeepAlive {
			cfg.KeepAlive = nwakuKeepAlive
		}
	}

	cfg.Relay = o.Relay
	cfg.RelayParams.PeerExchange = o.RelayPeerExchange
	cfg.Rules.MaxSize = o.MaxMsgBytes

	cfg.Store = node.StoreConfig{Enabled: o.Store, DBURL: o.StoreDBURL, Retention: o.StoreRetentionPolicy,
		MaxConns: o.StoreMaxDBConns, Migrate: o.StoreDBMigration, Vacuum: o.StoreDBVacuum, Resume: o.StoreResume,
		QueueBytes: o.StoreQueueBytes, SpillBytes: o.StoreSpillBytes, FsyncCommits: o.StoreFsyncCommits,
		WriterNice: o.StoreWriterNice}
	if o.StoreWriterNice < 0 {
		return cfg, fmt.Errorf("--store-writer-nice=%d is negative: the writer's priority can only be lowered", o.StoreWriterNice)
	}
	if o.StoreSpillBytes < 0 {
		return cfg, fmt.Errorf("--store-spill-bytes=%d is negative (0 disables the spill)", o.StoreSpillBytes)
	}
	if o.StoreQueueBytes < int64(o.MaxMsgBytes) { // else a largest message could never be stored
		return cfg, fmt.Errorf("--store-queue-bytes=%d is below --max-msg-size (%d bytes)", o.StoreQueueBytes, o.MaxMsgBytes)
	}
	if _, err := archive.ParseRetention(o.StoreRetentionPolicy); err != nil {
		return cfg, fmt.Errorf("--store-message-retention-policy: %w", err)
	}
	cfg.StoreSync = o.storeSyncConfig(log)
	cfg.Filter = node.FilterConfig{Enabled: o.Filter, MaxPeers: int(o.FilterMaxPeersToServe),
		MaxCriteria: int(o.FilterMaxCriteria), SubscriptionTimeout: time.Duration(o.FilterSubscriptionTimeout) * time.Second}
	cfg.Lightpush = o.Lightpush
	rateLimits := o.RateLimits
	if o.RequestRateLimit > 0 && o.RequestRatePeriod > 0 {
		// older nwaku's one limit for all services: a default that --rate-limit entries refine
		rateLimits = append([]string{fmt.Sprintf("%d/%ds", o.RequestRateLimit, o.RequestRatePeriod)}, rateLimits...)
	}
	if cfg.RateLimits, err = ratelimit.Parse(rateLimits); err != nil {
		return cfg, fmt.Errorf("--rate-limit: %w", err)
	}
	for _, sp := range []struct {
		flag, value string
		dst         *multiaddr.Multiaddr
	}{{"--storenode", o.StoreNode, &cfg.StoreNode}, {"--filternode", o.FilterNode, &cfg.FilterNode}, {"--lightpushnode", o.LightpushNode, &cfg.LightpushNode}} {
		if sp.value == "" {
			continue
		}
		a, err := multiaddr.NewMultiaddr(sp.value)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", sp.flag, err)
		}
		*sp.dst = a
	}
	if cfg.Accounting, err = o.Swap.accountingConfig(); err != nil {
		return cfg, err
	}
	if err := o.discoveryConfig(&cfg); err != nil {
		return cfg, err
	}
	if cfg.Store.Resume && cfg.StoreNode == nil {
		return cfg, errors.New("--store-resume needs --storenode")
	}
	return cfg, nil
}

// storeSyncConfig is --store-sync* with nwaku's meanings: nil without --store-sync, and
// ignored (as nwaku does, the store conf being absent) without --store; an interval of 0
// never initiates a round (the node still answers); a range or jitter of 0 is an empty window
// or none (node.StoreSyncConfig reads 0 as the default, so 0 s becomes 1 ns).
func (o *Options) storeSyncConfig(log *slog.Logger) *node.StoreSyncConfig {
	if !o.StoreSync {
		return nil
	}
	if !o.Store {
		if log != nil {
			log.Warn("--store-sync ignored: store sync needs the store (--store)")
		}
		return nil
	}
	secs := func(s uint32) time.Duration {
		if s == 0 {
			return time.Nanosecond
		}
		return time.Duration(s) * time.Second
	}
	sc := &node.StoreSyncConfig{Interval: secs(o.StoreSyncInterval), Range: secs(o.StoreSyncRange),
		RelayJitter: secs(o.StoreSyncRelayJitter)}
	if o.StoreSyncInterval == 0 {
		sc.Interval = -1
	}
	return sc
}

// nwakuKeepAlive is nwaku's ping interval with --keep-alive=true (20% of its stream timeout).
const nwakuKeepAlive = 2 * time.Minute

// shards is --shard plus the shards of --pubsub-topic, checked as nwaku checks them: with
// autosharding (--num-shards-in-network > 0) every shard must be below that number.
func (o *Options) shards() ([]uint16, error) {
	out := slices.Clone(o.Shards)
	for _, t := range o.PubsubTopics {
		s, err := message.ParseShard(t)
		if err != nil {
			return nil, fmt.Errorf("--pubsub-topic %q: only static shard topics /waku/2/rs/<cluster>/<shard> are supported: %w", t, err)
		}
		if s.Cluster != o.ClusterID {
			return nil, fmt.Errorf("--pubsub-topic %q: cluster %d is not --cluster-id %d", t, s.Cluster, o.ClusterID)
		}
		if !slices.Contains(out, s.Index) {
			out = append(out, s.Index)
		}
	}
	if n := o.NumShardsInNetwork; n > 0 {
		for _, s := range out {
			if s >= n {
				return nil, fmt.Errorf("--shard: invalid shard: %d when numShardsInNetwork: %d (shards are 0..%d with autosharding; --num-shards-in-network=0 selects static sharding)", s, n, n-1)
			}
		}
	}
	return out, nil
}

// RESTConfig is the REST server's config from --rest-*; log and version as for NodeConfig.
func (o *Options) RESTConfig(log *slog.Logger, version string) rest.Config {
	return rest.Config{
		Address:            o.RESTAddress,
		Port:               int(o.RESTPort),
		AllowOrigins:       o.RESTAllowOrigins,
		Admin:              o.RESTAdmin,
		RelayCacheCapacity: int(o.RESTRelayCacheCapacity),
		Version:            version,
		Logger:             log,
	}
}

// MetricsAddr is --metrics-server-address:--metrics-server-port.
func (o *Options) MetricsAddr() string {
	return net.JoinHostPort(o.MetricsServerAddress, strconv.Itoa(int(o.MetricsServerPort)))
}

func multiaddrs(ss []string) ([]multiaddr.Multiaddr, error) {
	var out []multiaddr.Multiaddr
	for _, s := range ss {
		a, err := multiaddr.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// discoveryConfig maps the peer-management and discovery flags (spec/cli.md; issue 5).
func (o *Options) discoveryConfig(cfg *node.Config) error {
	d := &cfg.Discovery
	cfg.NAT = o.NAT
	relay, service, ok := strings.Cut(o.RelayServiceRatio, ":")
	r, err1 := strconv.Atoi(relay)
	sv, err2 := strconv.Atoi(service)
	if !ok || err1 != nil || err2 != nil || r < 0 || sv < 0 || r+sv != 100 {
		return fmt.Errorf("--relay-service-ratio %q: want <relay>:<service> adding up to 100, e.g. 60:40", o.RelayServiceRatio)
	}
	d.RelayRatio, d.ServiceRatio = r, sv
	if o.MaxRelayPeers != nil {
		d.MaxRelayPeers = *o.MaxRelayPeers
	}
	if o.PeerStoreCapacity != nil {
		d.PeerStoreCapacity = *o.PeerStoreCapacity
	}
	d.IPColocationLimit = o.IPColocationLimit
	cfg.PeerPersistence = o.PeerPersistence

	d.Discv5 = o.Discv5Discovery != nil && *o.Discv5Discovery
	d.Discv5UDPPort = int(o.Discv5UDPPort)
	d.Discv5Bootnodes = o.Discv5BootstrapNodes
	for _, b := range o.Discv5BootstrapNodes {
		if _, err := enr.Parse(b); err != nil {
			return fmt.Errorf("--discv5-bootstrap-node: %w", err)
		}
	}
	// go-ethereum's discv5 table applies exactly nwaku's defaults (10 per /24 per table, 2 per
	// bucket) as constants; another value could not take effect, so it is refused.
	if o.Discv5TableIPLimit != 10 || o.Discv5BucketIPLimit != 2 {
		return errors.New("--discv5-table-ip-limit and --discv5-bucket-ip-limit: only 10 and 2 are supported (fixed in go-ethereum's discv5 table)")
	}
	d.Discv5TableIPLimit, d.Discv5BucketIPLimit = int(o.Discv5TableIPLimit), int(o.Discv5BucketIPLimit)
	d.Discv5ENRAutoUpdate = o.Discv5ENRAutoUpdate

	// nwaku deprecated --dns-discovery: a URL alone turns DNS discovery on.
	if o.DNSDiscoveryURL != "" {
		d.DNSDiscovery, d.DNSDiscoveryURLs = true, []string{o.DNSDiscoveryURL}
	} else if o.DNSDiscovery {
		return errors.New("--dns-discovery needs --dns-discovery-url")
	}
	if len(o.DNSAddrsNameServers) > 0 {
		d.DNSNameServer = o.DNSAddrsNameServers[0]
	}

	d.PeerExchange = o.PeerExchange
	if o.PeerExchangeNode != "" {
		a, err := multiaddr.NewMultiaddr(o.PeerExchangeNode)
		if err != nil {
			return fmt.Errorf("--peer-exchange-node: %w", err)
		}
		d.PeerExchangeNodes = []multiaddr.Multiaddr{a}
	}
	return nil
}
