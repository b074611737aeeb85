package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wakunode/wakunode/cmd/wakunode/internal/cli"
	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/node"
)

// sqlitePath is the file of a sqlite:// store URL, relative paths inside the data directory
// (as the node resolves them); "" for another database or an in-memory one.
func sqlitePath(o *cli.Options) string {
	p, ok := strings.CutPrefix(o.StoreDBURL, "sqlite://")
	if !ok || p == "" || p == ":memory:" {
		return ""
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(o.DataDir, p)
	}
	return p
}

// prepareDirs creates the data directory (node key, peers.json, the default SQLite archive)
// and the SQLite file's directory, whether or not a key is to be generated there.
func prepareDirs(o *cli.Options) error {
	dirs := []string{o.DataDir}
	if p := sqlitePath(o); o.Store && p != "" {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
	}
	return nil
}

// dbLocation names the archive for the log: the SQLite file, or the database URL without its
// password.
func dbLocation(o *cli.Options) string {
	if p := sqlitePath(o); p != "" {
		return p
	}
	if u, err := url.Parse(o.StoreDBURL); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// logSummary logs, once the node runs, what an operator checks first: identity, cluster and
// shards, the services on, where messages are stored and where the APIs listen.
func logSummary(log *slog.Logger, o *cli.Options, n *node.Node, ver string, servers []any) {
	var shards []string
	for _, t := range n.Relay().Topics() {
		if s, err := message.ParseShard(t); err == nil {
			shards = append(shards, strconv.Itoa(int(s.Index)))
		} else {
			shards = append(shards, t)
		}
	}
	sharding := "static"
	if o.NumShardsInNetwork > 0 {
		sharding = fmt.Sprintf("autosharding over %d shards", o.NumShardsInNetwork)
	}
	var services []string
	for _, s := range []struct {
		name string
		on   bool
	}{{"relay", o.Relay}, {"store", o.Store}, {"store-sync", o.Store && o.StoreSync}, {"filter", o.Filter}, {"lightpush", o.Lightpush},
		{"peer-exchange", o.PeerExchange}, {"discv5", o.Discv5Discovery != nil && *o.Discv5Discovery},
		{"dns-discovery", o.DNSDiscoveryURL != ""}} {
		if s.on {
			services = append(services, s.name)
		}
	}
	store := "off"
	if o.Store {
		store = dbLocation(o)
	}
	attrs := []any{"version", ver, "peerId", n.ID().String(), "cluster", o.ClusterID, "sharding", sharding,
		"shards", strings.Join(shards, ","), "services", strings.Join(services, ","), "store", store,
		"dataDir", o.DataDir, "listen", fmt.Sprint(n.ListenAddrs())}
	log.Info("wakunode running", append(attrs, servers...)...)
}
