package main

import (
	"crypto/ecdsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/ethereum/go-ethereum/p2p/nat"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/wakuv1"
)

// options are the parsed command line: nwaku's historic wakubridge flags plus the v2 node's
// essentials.
type options struct {
	ListenAddress string
	DevP2PPort    int
	LibP2PPort    int
	PortsShift    int
	NAT           string
	DataDir       string
	LogLevel      string

	NodeKeyV1     *ecdsa.PrivateKey
	StaticNodesV1 []*enode.Node
	PoW           float64
	TopicInterest []wakuv1.Topic // nil: full bloom
	MaxPeersV1    int

	NodeKeyV2     *ecdsa.PrivateKey
	StaticNodesV2 []multiaddr.Multiaddr
	PubsubTopic   string
	Shard         message.Shard
	TTL           uint

	REST          bool
	RESTAddress   string
	RESTPort      int
	Metrics       bool
	MetricsAddr   string
	MetricsPort   int
	natInterface  nat.Interface
	helpRequested bool
}

// errHelp is returned for --help.
var errHelp = errors.New("help requested")

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func newFlagSet(o *options, lists map[string]*listFlag, raw map[string]*string) *flag.FlagSet {
	fs := flag.NewFlagSet("wakubridge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.ListenAddress, "listen-address", "0.0.0.0", "IP both stacks listen on")
	fs.IntVar(&o.DevP2PPort, "devp2p-tcp-port", 30303, "Waku v1 devp2p (RLPx) TCP port")
	fs.IntVar(&o.LibP2PPort, "libp2p-tcp-port", 60000, "Waku v2 libp2p TCP port")
	fs.IntVar(&o.PortsShift, "ports-shift", 0, "added to every port")
	fs.StringVar(&o.NAT, "nat", "any", "any | none | upnp | pmp | extip:<IP>, for both stacks")
	fs.StringVar(&o.DataDir, "data-dir", ".", "keeps the generated v2 node key")
	fs.StringVar(&o.LogLevel, "log-level", "INFO", "DEBUG | INFO | WARN | ERROR")
	raw["nodekey-v1"] = fs.String("nodekey-v1", "", "Waku v1 node key (64 hex chars); default: generated at each start")
	lists["staticnode-v1"] = &listFlag{}
	fs.Var(lists["staticnode-v1"], "staticnode-v1", "Waku v1 peer to keep connected (enode://…), repeatable")
	raw["fleet-v1"] = fs.String("fleet-v1", "none", "Waku v1 fleet: only none (the Status v1 fleets are gone)")
	fs.Float64Var(&o.PoW, "waku-v1-pow", 0.002, "PoW required of v1 envelopes and sealed into bridged ones")
	lists["waku-v1-topic-interest"] = &listFlag{}
	fs.Var(lists["waku-v1-topic-interest"], "waku-v1-topic-interest", "v1 topic to receive (0x12345678), repeatable; default: every topic (full bloom)")
	fs.IntVar(&o.MaxPeersV1, "max-peers-v1", 50, "Waku v1 peer limit")
	raw["nodekey-v2"] = fs.String("nodekey-v2", "", "Waku v2 node key (64 hex chars); default: kept in --data-dir")
	lists["staticnode-v2"] = &listFlag{}
	fs.Var(lists["staticnode-v2"], "staticnode-v2", "Waku v2 peer multiaddr (…/p2p/<id>), repeatable")
	fs.StringVar(&o.PubsubTopic, "bridge-pubsub-topic", "/waku/2/rs/0/0", "Waku v2 pubsub topic (a static shard) to bridge")
	fs.UintVar(&o.TTL, "bridge-v1-ttl", 5, "TTL in seconds of envelopes made from v2 messages")
	fs.BoolVar(&o.REST, "rest", false, "serve the v2 node's REST API")
	fs.StringVar(&o.RESTAddress, "rest-address", "127.0.0.1", "REST listen address")
	fs.IntVar(&o.RESTPort, "rest-port", 8645, "REST port")
	fs.BoolVar(&o.Metrics, "metrics-server", false, "serve /metrics and /v1/peers")
	fs.StringVar(&o.MetricsAddr, "metrics-server-address", "127.0.0.1", "metrics server address")
	fs.IntVar(&o.MetricsPort, "metrics-server-port", 8008, "metrics server port")
	fs.BoolVar(&o.helpRequested, "help", false, "print the flags")
	return fs
}

// parse reads the command line; every error names the flag.
func parse(args []string) (*options, error) {
	o := &options{}
	lists := map[string]*listFlag{}
	raw := map[string]*string{}
	fs := newFlagSet(o, lists, raw)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
			return nil, fmt.Errorf("unknown flag -%s (the v2 node's other services belong in wakunode)", name)
		}
		return nil, err
	}
	if o.helpRequested {
		return nil, errHelp
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags take the form --name=value)", fs.Arg(0))
	}
	if _, err := parseLevel(o.LogLevel); err != nil {
		return nil, err
	}
	for name, port := range map[string]int{"devp2p-tcp-port": o.DevP2PPort, "libp2p-tcp-port": o.LibP2PPort, "rest-port": o.RESTPort, "metrics-server-port": o.MetricsPort} {
		if port < 0 || port+o.PortsShift > 65535 || port+o.PortsShift < 0 {
			return nil, fmt.Errorf("--%s=%d: not a TCP port (with --ports-shift=%d)", name, port, o.PortsShift)
		}
	}
	var err error
	if o.natInterface, err = nat.Parse(o.NAT); err != nil {
		return nil, fmt.Errorf("--nat=%s: %v", o.NAT, err)
	}
	if v := *raw["nodekey-v1"]; v != "" {
		if o.NodeKeyV1, err = crypto.HexToECDSA(strings.TrimPrefix(v, "0x")); err != nil {
			return nil, fmt.Errorf("--nodekey-v1: %v", err)
		}
	}
	if v := *raw["nodekey-v2"]; v != "" {
		if o.NodeKeyV2, err = node.ParseNodeKey(v); err != nil {
			return nil, fmt.Errorf("--nodekey-v2: %v", err)
		}
	}
	if f := *raw["fleet-v1"]; f != "none" {
		return nil, fmt.Errorf("--fleet-v1=%s: the Status Waku v1 fleets (prod, staging, test) no longer exist; use --staticnode-v1", f)
	}
	for _, s := range *lists["staticnode-v1"] {
		n, err := enode.ParseV4(s)
		if err != nil {
			return nil, fmt.Errorf("--staticnode-v1=%s: %v", s, err)
		}
		o.StaticNodesV1 = append(o.StaticNodesV1, n)
	}
	if math.IsNaN(o.PoW) || math.IsInf(o.PoW, 0) || o.PoW < 0 {
		return nil, fmt.Errorf("--waku-v1-pow=%v: must be a finite number ≥ 0", o.PoW)
	}
	for _, s := range *lists["waku-v1-topic-interest"] {
		t, err := wakuv1.ParseTopic(s)
		if err != nil {
			return nil, fmt.Errorf("--waku-v1-topic-interest=%s: %v", s, err)
		}
		o.TopicInterest = append(o.TopicInterest, t)
	}
	if o.MaxPeersV1 <= 0 {
		return nil, fmt.Errorf("--max-peers-v1=%d: must be positive", o.MaxPeersV1)
	}
	for _, s := range *lists["staticnode-v2"] {
		a, err := multiaddr.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("--staticnode-v2=%s: %v", s, err)
		}
		o.StaticNodesV2 = append(o.StaticNodesV2, a)
	}
	if o.Shard, err = message.ParseShard(o.PubsubTopic); err != nil {
		return nil, fmt.Errorf("--bridge-pubsub-topic=%s: %v (named topics such as nwaku's old /waku/2/default-waku/proto are not supported: give a static shard /waku/2/rs/<cluster>/<shard>)", o.PubsubTopic, err)
	}
	if o.TTL == 0 || o.TTL > math.MaxUint32 {
		return nil, fmt.Errorf("--bridge-v1-ttl=%d: must be 1..%d seconds", o.TTL, uint32(math.MaxUint32))
	}
	return o, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level=%s: want DEBUG, INFO, WARN or ERROR", s)
	}
	return l, nil
}

// usage prints every flag with its default.
func usage(w io.Writer) {
	fs := newFlagSet(&options{}, map[string]*listFlag{}, map[string]*string{})
	fmt.Fprint(w, "Usage: wakubridge [--flag=value ...]\n\nBridges Waku v1 (devp2p) and Waku v2 (libp2p) per 15/WAKU-BRIDGE.\n\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
}
