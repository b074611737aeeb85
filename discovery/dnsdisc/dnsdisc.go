// Package dnsdisc is EIP-1459 DNS discovery as Waku uses it (dns-discovery.md): the client
// syncs enrtree:// lists with go-ethereum's p2p/dnsdisc (signature, hashes and ENR signatures
// are checked there) and keeps the Waku nodes of our cluster; the publisher builds and signs a
// tree and renders it as a DNS zone file.
package dnsdisc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/ethereum/go-ethereum/p2p/dnsdisc"
	"github.com/ethereum/go-ethereum/p2p/enode"

	"github.com/wakunode/wakunode/enr"
)

// Config configures a Client.
type Config struct {
	// NameServer is the DNS server to ask, "host" or "host:port" (--dns-addrs-name-server);
	// empty uses the system resolver.
	NameServer string
	// Cluster is ours: records naming another cluster are dropped.
	Cluster uint16
	// Timeout bounds each DNS lookup (default 5 s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Node is one Waku node found in a tree.
type Node struct {
	Record *enode.Node
	Info   enr.Info
	// HasUDP tells whether the record can seed discv5.
	HasUDP bool
}

// Client syncs enrtree lists.
type Client struct {
	cfg Config
	c   *dnsdisc.Client
	log *slog.Logger
}

// NewClient creates a client.
func NewClient(cfg Config) *Client {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dc := dnsdisc.Config{Timeout: cfg.Timeout}
	if cfg.NameServer != "" {
		dc.Resolver = NewResolver(cfg.NameServer)
	}
	return &Client{cfg: cfg, c: dnsdisc.NewClient(dc), log: cfg.Logger}
}

// NewResolver returns a resolver that sends every query to server ("host" means port 53).
// Go's resolver joins the character-strings of one TXT record, as EIP-1459 needs.
func NewResolver(server string) *net.Resolver {
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

// Sync downloads the whole tree at url (enrtree://<key>@<domain>) and returns its Waku nodes
// of our cluster. A bad root signature, a record whose hash does not match its name, or a bad
// ENR signature fails the sync.
func (c *Client) Sync(ctx context.Context, url string) ([]Node, error) {
	type result struct {
		t   *dnsdisc.Tree
		err error
	}
	ch := make(chan result, 1)
	go func() { // SyncTree takes no context; its lookups are bounded by Timeout.
		t, err := c.c.SyncTree(url)
		ch <- result{t, err}
	}()
	var r result
	select {
	case r = <-ch:
	case <-ctx.Done():
		return nil, fmt.Errorf("dns discovery %s: %w", url, ctx.Err())
	}
	if r.err != nil {
		return nil, fmt.Errorf("dns discovery %s: %w", url, r.err)
	}
	var out []Node
	for _, n := range r.t.Nodes() {
		info, err := enr.Decode(n)
		if err != nil {
			c.log.Debug("dns discovery: skipping record", "err", err)
			continue
		}
		if info.Shards != nil && info.Shards.Cluster != c.cfg.Cluster {
			continue
		}
		if len(info.Addrs) == 0 && n.UDP() == 0 {
			continue
		}
		out = append(out, Node{Record: n, Info: info, HasUDP: n.UDP() != 0})
	}
	if len(out) == 0 && len(r.t.Nodes()) > 0 {
		return nil, fmt.Errorf("dns discovery %s: %w", url, ErrNoWakuNodes)
	}
	return out, nil
}

// ErrNoWakuNodes means the tree holds records, but none is a Waku node of our cluster.
var ErrNoWakuNodes = errors.New("no Waku node of our cluster in the tree")
