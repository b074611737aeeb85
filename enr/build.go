package enr

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/p2p/enode"
	gethenr "github.com/ethereum/go-ethereum/p2p/enr"
	"github.com/ethereum/go-ethereum/rlp"
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
	// Discv5 keeps the record in go-ethereum's enode.LocalNode, which discv5 serves and updates
	// (Enode). That needs a node database, an in-memory leveldb whose 4 MiB write buffer the Go
	// heap carries for the node's life, so a node without discv5 signs its record here instead.
	Discv5 bool
}

// LocalNode is the local record with the Waku fields, kept within the 300-byte limit. With
// BuildConfig.Discv5 a go-ethereum enode.LocalNode holds it (and owns seq and signing);
// without, node is the record signed here.
type LocalNode struct {
	mu      sync.Mutex
	cfg     BuildConfig
	db      *enode.DB
	ln      *enode.LocalNode
	node    *enode.Node
	log     *slog.Logger
	dropped []multiaddr.Multiaddr
}

// Build creates the local record. The first seq is the current time in milliseconds
// (go-ethereum's rule), and each change increases it.
func Build(cfg BuildConfig) (*LocalNode, error) {
	if cfg.PrivateKey == nil {
		return nil, errors.New("build enr: no private key")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l := &LocalNode{log: cfg.Logger}
	if cfg.Discv5 {
		db, err := enode.OpenDB("")
		if err != nil {
			return nil, fmt.Errorf("build enr: %w", err)
		}
		l.db, l.ln = db, enode.NewLocalNode(db, cfg.PrivateKey)
		l.setAddress(cfg)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.apply(cfg); err != nil {
		l.Close()
		return nil, fmt.Errorf("build enr: %w", err)
	}
	return l, nil
}

// setAddress gives the enode.LocalNode the configured ip, udp and tcp.
func (l *LocalNode) setAddress(cfg BuildConfig) {
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
	if l.ln == nil {
		if err := l.sign(cfg, kept); err != nil {
			return err
		}
	} else {
		l.setEntries(cfg, kept)
	}
	l.cfg, l.dropped = cfg, dropped
	return nil
}

// setEntries puts the Waku fields of cfg and the multiaddrs kept on the enode.LocalNode.
func (l *LocalNode) setEntries(cfg BuildConfig, kept []multiaddr.Multiaddr) {
	shards := cfg.Shards
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
}

// sign replaces the record signed here when its content changed, with the next seq.
func (l *LocalNode) sign(cfg BuildConfig, addrs []multiaddr.Multiaddr) error {
	r, err := record(cfg, addrs)
	if err != nil {
		return err
	}
	r.SetSeq(l.nextSeq())
	// Signing adds the id and secp256k1 entries, which the record held has too.
	if err := enode.SignV4(&r, cfg.PrivateKey); err != nil {
		return err
	}
	if l.node != nil && sameEntries(l.node.Record(), &r) {
		return nil
	}
	n, err := enode.New(enode.ValidSchemes, &r)
	if err != nil {
		return err
	}
	l.node = n
	return nil
}

// sameEntries reports whether a and b hold the same key/value pairs, seq and signature aside.
func sameEntries(a, b *gethenr.Record) bool {
	ea, errA := rlp.EncodeToBytes(a.AppendElements(nil)[1:])
	eb, errB := rlp.EncodeToBytes(b.AppendElements(nil)[1:])
	return errA == nil && errB == nil && bytes.Equal(ea, eb)
}

// nextSeq is the seq of the next record signed: the first is the current time in
// milliseconds (go-ethereum's rule for a fresh node database).
func (l *LocalNode) nextSeq() uint64 {
	switch {
	case l.ln != nil:
		return l.ln.Seq() + 1
	case l.node != nil:
		return l.node.Seq() + 1
	default:
		return uint64(time.Now().UnixMilli())
	}
}

// trial signs a throwaway record with what the LocalNode will hold, to learn whether it fits:
// enode.LocalNode panics when a record it signs is too large.
func (l *LocalNode) trial(cfg BuildConfig, addrs []multiaddr.Multiaddr) error {
	r, err := record(cfg, addrs)
	if err != nil {
		return err
	}
	r.SetSeq(l.nextSeq())
	return enode.SignV4(&r, cfg.PrivateKey)
}

// record is the unsigned record for cfg with addrs as its multiaddrs.
func record(cfg BuildConfig, addrs []multiaddr.Multiaddr) (gethenr.Record, error) {
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
		// Record.Set panics on an entry it cannot encode.
		if _, err := EncodeMultiaddrs(addrs); err != nil {
			return r, err
		}
		r.Set(Multiaddrs(addrs))
	}
	return r, nil
}

// Node returns the current signed record, re-signing with a higher seq if anything changed.
func (l *LocalNode) Node() *enode.Node {
	if l.ln != nil {
		return l.ln.Node()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.node
}

// String returns the record's "enr:" text.
func (l *LocalNode) String() string { return l.Node().String() }

// Enode exposes the go-ethereum LocalNode for discv5: nil unless built with
// BuildConfig.Discv5. Entries set on it directly bypass the size check here.
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

// Close releases the node database, if any.
func (l *LocalNode) Close() {
	if l.db != nil {
		l.db.Close()
	}
}
