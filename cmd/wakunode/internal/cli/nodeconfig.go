package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/archive"
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
	cfg.Shards = o.Shards
	cfg.ContentTopics = o.ContentTopics

	cfg.Relay = o.Relay
	cfg.RelayParams.PeerExchange = o.RelayPeerExchange
	cfg.Rules.MaxSize = o.MaxMsgBytes

	cfg.Store = node.StoreConfig{Enabled: o.Store, DBURL: o.StoreDBURL, Retention: o.StoreRetentionPolicy,
		MaxConns: o.StoreMaxDBConns, Migrate: o.StoreDBMigration, Vacuum: o.StoreDBVacuum, Resume: o.StoreResume}
	if _, err := archive.ParseRetention(o.StoreRetentionPolicy); err != nil {
		return cfg, fmt.Errorf("--store-message-retention-policy: %w", err)
	}
	cfg.Filter = node.FilterConfig{Enabled: o.Filter, MaxPeers: int(o.FilterMaxPeersToServe),
		MaxCriteria: int(o.FilterMaxCriteria), SubscriptionTimeout: time.Duration(o.FilterSubscriptionTimeout) * time.Second}
	cfg.Lightpush = o.Lightpush
	if cfg.RateLimits, err = ratelimit.Parse(o.RateLimits); err != nil {
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
	if cfg.Store.Resume && cfg.StoreNode == nil {
		return cfg, errors.New("--store-resume needs --storenode")
	}
	return cfg, nil
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
