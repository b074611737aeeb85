package enr

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"

	"github.com/ethereum/go-ethereum/p2p/enode"
	gethenr "github.com/ethereum/go-ethereum/p2p/enr"
	"github.com/multiformats/go-multiaddr"
)

// BuildConfig describes the local node's record.
type BuildConfig struct {
	// PrivateKey is the node's secp256k1 key (required); the same key is its libp2p identity.
	PrivateKey *ecdsa.PrivateKey
	// IP is announced as ip (IPv4) or ip6; nil or unspecified announces no address.
	IP net.IP
	// AutoUpdateIP (--discv5-enr-auto-update) makes IP a fallback: once discv5 peers agree on
	// the address they see us at, the record carries that one instead.
	AutoUpdateIP bool
	// TCPPort (libp2p) and UDPPort (discv5); 0 leaves the key out.
	TCPPort, UDPPort uint16
	// Multiaddrs go into the multiaddrs field, in order, for what ip/tcp cannot express
	// (dns4/dns6, ws/wss, circuit relay). A trailing /p2p/<id> is stripped. Addresses that do
	// not fit the 300-byte record are dropped (see LocalNode.Dropped).
	Multiaddrs []multiaddr.Multiaddr
	// Caps is the waku2 field; 0 leaves it out.
	Caps Capabilities
	// Shards is written as rs (< 64 shards) or rsv; nil leaves both out.
	Shards *RelayShards
	// Logger; nil discards.
	Logger *slog.Logger
}

// LocalNode is the local record: a go-ethereum enode.LocalNode (which owns seq and signing)
// plus the Waku fields, kept within the 300-byte limit.
type LocalNode struct {
	mu      sync.Mutex
	cfg     BuildConfig
	db      *enode.DB
	ln      *enode.LocalNode
	log     *slog.Logger
	dropped []multiaddr.Multiaddr
}

// Build creates the local record on an in-memory node database. The first seq is the current
// time in milliseconds (go-ethereum's rule), and each change increases it.
func Build(cfg BuildConfig) (*LocalNode, error) {
	if cfg.PrivateKey == nil {
		return nil, errors.New("build enr: no private key")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	db, err := enode.OpenDB("")
	if err != nil {
		return nil, fmt.Errorf("build enr: %w", err)
	}
	l := &LocalNode{db: db, ln: enode.NewLocalNode(db, cfg.PrivateKey), log: cfg.Logger}
	if ip := cfg.IP; ip != nil && !ip.IsUnspecified() {
		if cfg.AutoUpdateIP {
			l.ln.SetFallbackIP(ip)
		} else {
			l.ln.SetStaticIP(ip)
		}
	}
	if cfg.UDPPort != 0 {
		l.ln.SetFallbackUDP(int(cfg.UDPPort))
	}
	if cfg.TCPPort != 0 {
		l.ln.Set(gethenr.TCP(cfg.TCPPort))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.apply(cfg); err != nil {
		db.Close()
		return nil, fmt.Errorf("build enr: %w", err)
	}
	return l, nil
}

// apply checks cfg's Waku fields against the size limit and sets them. Called with mu held.
func (l *LocalNode) apply(cfg BuildConfig) error {
	var shards *RelayShards
	if cfg.Shards != nil {
		if err := cfg.Shards.Validate(); err != nil {
			return err
		}
		n := cfg.Shards.Normalized()
		shards = &n
	}
	cfg.Shards = shards
	addrs := make([]multiaddr.Multiaddr, 0, len(cfg.Multiaddrs))
	for _, a := range cfg.Multiaddrs {
		if a = forRecord(a); len(a) > 0 {
			addrs = append(addrs, a)
		}
	}

	fits := func(mas []multiaddr.Multiaddr) bool { return l.trial(cfg, mas) == nil }
	if err := l.trial(cfg, nil); err != nil {
		return fmt.Errorf("record without multiaddrs: %w", err)
	}
	// Greedy, in the configured order: keep each address that still fits.
	var kept, dropped []multiaddr.Multiaddr
	for _, a := range addrs {
		if fits(append(slices.Clone(kept), a)) {
			kept = append(kept, a)
		} else {
			dropped = append(dropped, a)
		}
	}
	if len(dropped) > 0 {
		l.log.Warn("enr: multiaddrs dropped, record would exceed 300 bytes", "dropped", dropped, "kept", kept)
	}

	if cfg.Caps != 0 {
		l.ln.Set(cfg.Caps)
	} else {
		l.ln.Delete(Capabilities(0))
	}
	switch {
	case shards == nil:
		l.ln.Delete(&RS{})
		l.ln.Delete(&RSV{})
	case shards.UseRSV():
		l.ln.Delete(&RS{})
		l.ln.Set(shards.Entry())
	default:
		l.ln.Delete(&RSV{})
		l.ln.Set(shards.Entry())
	}
	if len(kept) > 0 {
		l.ln.Set(Multiaddrs(kept))
	} else {
		l.ln.Delete(Multiaddrs(nil))
	}
	l.cfg, l.dropped = cfg, dropped
	return nil
}

// trial signs a throwaway record with what the LocalNode will hold, to learn whether it fits:
// enode.LocalNode panics when a record it signs is too large.
func (l *LocalNode) trial(cfg BuildConfig, addrs []multiaddr.Multiaddr) error {
	var r gethenr.Record
	if ip := cfg.IP; ip != nil && !ip.IsUnspecified() {
		if v4 := ip.To4(); v4 != nil {
			r.Set(gethenr.IPv4(v4))
		} else {
			r.Set(gethenr.IPv6(ip))
		}
	}
	if cfg.TCPPort != 0 {
		r.Set(gethenr.TCP(cfg.TCPPort))
	}
	if cfg.UDPPort != 0 {
		r.Set(gethenr.UDP(cfg.UDPPort))
	}
	if cfg.Caps != 0 {
		r.Set(cfg.Caps)
	}
	if cfg.Shards != nil {
		r.Set(cfg.Shards.Entry())
	}
	if len(addrs) > 0 {
		if _, err := EncodeMultiaddrs(addrs); err != nil {
			return err
		}
		r.Set(Multiaddrs(addrs))
	}
	r.SetSeq(l.ln.Seq() + 1)
	return enode.SignV4(&r, cfg.PrivateKey)
}

// Node returns the current signed record, re-signing with a higher seq if anything changed.
func (l *LocalNode) Node() *enode.Node { return l.ln.Node() }

// String returns the record's "enr:" text.
func (l *LocalNode) String() string { return l.ln.Node().String() }

// Enode exposes the go-ethereum LocalNode for discv5. Entries set on it directly bypass the
// size check here.
func (l *LocalNode) Enode() *enode.LocalNode { return l.ln }

// Dropped lists the multiaddrs left out of the record because it would exceed 300 bytes.
func (l *LocalNode) Dropped() []multiaddr.Multiaddr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.dropped)
}

// SetShards replaces the relay shards (nil removes them). The multiaddrs are refitted.
func (l *LocalNode) SetShards(rs *RelayShards) error {
	return l.update(func(c *BuildConfig) { c.Shards = rs })
}

// SetCaps replaces the waku2 capabilities.
func (l *LocalNode) SetCaps(c Capabilities) error {
	return l.update(func(cfg *BuildConfig) { cfg.Caps = c })
}

// SetMultiaddrs replaces the configured multiaddrs.
func (l *LocalNode) SetMultiaddrs(addrs []multiaddr.Multiaddr) error {
	return l.update(func(cfg *BuildConfig) { cfg.Multiaddrs = addrs })
}

func (l *LocalNode) update(f func(*BuildConfig)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cfg := l.cfg
	cfg.Multiaddrs = slices.Clone(cfg.Multiaddrs)
	f(&cfg)
	if err := l.apply(cfg); err != nil {
		return fmt.Errorf("update enr: %w", err)
	}
	return nil
}

// Close releases the node database.
func (l *LocalNode) Close() { l.db.Close() }
