package cli

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	o, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o, defaults()) {
		t.Fatalf("Parse(nil) = %+v, want defaults", o)
	}
	// Spot-check nwaku's defaults (spec/cli.md).
	checks := []struct {
		name      string
		got, want any
	}{
		{"log-level", o.LogLevel, LevelInfo},
		{"log-format", o.LogFormat, FormatText},
		{"max-msg-size", o.MaxMsgBytes, 150 * 1024},
		{"tcp-port", o.TCPPort, uint16(60000)},
		{"listen-address", o.ListenAddress, "0.0.0.0"},
		{"max-connections", o.MaxConnections, 50},
		{"relay", o.Relay, true},
		{"num-shards-in-network", o.NumShardsInNetwork, uint16(1)},
		{"rest", o.REST, true},
		{"rest-address", o.RESTAddress, "127.0.0.1"},
		{"rest-port", o.RESTPort, uint16(8645)},
		{"rest-relay-cache-capacity", o.RESTRelayCacheCapacity, uint32(50)},
		{"metrics-server", o.MetricsServer, false},
		{"metrics-server-port", o.MetricsServerPort, uint16(8008)},
		{"websocket-port", o.WebSocketPort, uint16(8000)},
		{"discv5-udp-port", o.Discv5UDPPort, uint16(9000)},
		{"ip-colocation-limit", o.IPColocationLimit, 5},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("--%s default = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestEveryCLIFlagDeclared keeps the flag set in step with spec/cli.md's table.
func TestEveryCLIFlagDeclared(t *testing.T) {
	names := []string{
		"config-file", "log-level", "log-format", "max-msg-size", "cluster-id", "nodekey",
		"listen-address", "tcp-port", "ext-multiaddr", "max-connections", "max-relay-peers",
		"relay-service-ratio", "ip-colocation-limit", "peer-store-capacity", "peer-persistence",
		"dns4-domain-name", "relay", "relay-peer-exchange", "staticnode", "num-shards-in-network",
		"shard", "content-topic", "store", "storenode", "store-message-retention-policy",
		"store-message-db-url", "store-message-db-vacuum", "store-message-db-migration",
		"store-resume", "store-sync", "store-sync-interval", "store-sync-range",
		"store-sync-relay-jitter", "filter", "filternode", "filter-subscription-timeout",
		"filter-max-peers-to-serve", "filter-max-criteria", "lightpush", "lightpushnode", "rest",
		"rest-address", "rest-port", "rest-relay-cache-capacity", "rest-admin", "rest-allow-origin",
		"metrics-server", "metrics-server-address", "metrics-server-port", "dns-discovery",
		"dns-discovery-url", "discv5-discovery", "discv5-udp-port", "discv5-bootstrap-node",
		"discv5-table-ip-limit", "discv5-bucket-ip-limit", "peer-exchange", "peer-exchange-node",
		"websocket-support", "websocket-port", "websocket-secure-support",
		"websocket-secure-key-path", "websocket-secure-cert-path", "rate-limit",
		// the rest of nwaku 0.3x's external_config.nim (and its older names still in use)
		"ports-shift", "keep-alive", "metrics-logging", "pubsub-topic", "store-max-num-db-connections",
		"dns-addrs-name-server", "dns-discovery-name-server", "discv5-enr-auto-update", "nat",
		"rln-relay", "rln-relay-cred-path", "rln-relay-eth-client-address", "rln-relay-eth-contract-address",
		"rln-relay-chain-id", "rln-relay-cred-password", "rln-relay-eth-private-key",
		"rln-relay-user-message-limit", "rln-relay-epoch-sec", "rln-relay-membership-index",
		"rln-relay-dynamic", "rln-relay-tree-path", "rln-relay-id-key", "rln-relay-id-commitment-key",
		"rln-relay-bandwidth-threshold", "protected-shard", "protected-topic", "preset", "agent-string",
		"ext-multiaddr-only", "dns-addrs", "relay-client", "relay-shard-manager", "legacy-store",
		"reliability", "rendezvous", "discv5-bits-per-hop",
	}
	fs := newFlagSet(defaults())
	for _, n := range names {
		if fs.Lookup(n) == nil {
			t.Errorf("--%s is not declared", n)
		}
	}
	for _, u := range unbuilt {
		if fs.Lookup(u.name) == nil {
			t.Errorf("unbuilt names undeclared --%s", u.name)
		}
		if u.gate != "" && !isBool(fs.Lookup(u.gate)) {
			t.Errorf("--%s: gate --%s is not a boolean flag", u.name, u.gate)
		}
	}
}

// TestNwakuOnlyFlags: the flags of capabilities we do not build take nwaku's command lines and
// config files at their defaults, configure nothing while their capability is off, and refuse,
// with the reason, a value that asks for what is not built.
func TestNwakuOnlyFlags(t *testing.T) {
	ok := []struct {
		name  string
		args  []string
		notes []string
	}{
		{"defaults spelled out", []string{"--rln-relay=false", "--store-sync=false", "--agent-string=nwaku", "--dns-addrs=true",
			"--relay-client=false", "--preset=", "--discv5-bits-per-hop=1", "--rendezvous=true", "--legacy-store=false"}, nil},
		{"rln sub-flags while rln is off", []string{"--rln-relay-tree-path=/data/rln_tree", "--rln-relay-eth-client-address=http://eth:8540/",
			"--rln-relay-membership-index=3"}, []string{"--rln-relay-tree-path ignored: --rln-relay is off",
			"--rln-relay-eth-client-address ignored", "--rln-relay-membership-index ignored"}},
		{"fixed behaviour", []string{"--relay-shard-manager=true", "--rendezvous=false"}, []string{"--relay-shard-manager=true accepted: the peer manager is always shard-aware"}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(o.Notes, "\n")
			for _, n := range tt.notes {
				if !strings.Contains(all, n) {
					t.Errorf("notes %q lack %q", o.Notes, n)
				}
			}
			if len(tt.notes) == 0 && len(o.Notes) > 0 {
				t.Errorf("unexpected notes %q", o.Notes)
			}
		})
	}
	refused := []struct {
		name string
		args []string
		want string
	}{
		{"rln", []string{"--rln-relay=true"}, "--rln-relay: not supported: RLN relay"},
		{"rln sub-flag with rln on", []string{"--rln-relay", "--rln-relay-tree-path=/x"}, "--rln-relay: not supported"},
		{"rln type still checked", []string{"--rln-relay-chain-id=abc"}, "--rln-relay-chain-id"},
		{"protected shard", []string{"--protected-shard=0:03aabb"}, "--protected-shard: not supported: signed"},
		{"preset twn", []string{"--preset=twn"}, "--preset: not supported"},
		{"agent", []string{"--agent-string=mine"}, "--agent-string: not supported"},
		{"dns-addrs off", []string{"--dns-addrs=false"}, "--dns-addrs: not supported: dns4/dns6/dnsaddr multiaddrs are always resolved"},
		{"circuit relay", []string{"--relay-client=true"}, "--relay-client: not supported"},
		{"bits per hop", []string{"--discv5-bits-per-hop=2"}, "--discv5-bits-per-hop: not supported"},
		{"rln subcommand", []string{"generateRlnKeystore"}, "command generateRlnKeystore: not supported"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if o, err := Parse(tt.args); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) = %+v, %v; want error containing %q", tt.args, o, err, tt.want)
			}
		})
	}
	// The TOML keys of an nwaku config are read the same way.
	path := writeFile(t, "rln-relay = false\nrln-relay-tree-path = \"/rln\"\nkeep-alive = true\nmetrics-logging = true\nports-shift = 1\n")
	o, err := Parse([]string{"--config-file=" + path})
	if err != nil {
		t.Fatal(err)
	}
	if o.KeepAlive == nil || !*o.KeepAlive || !o.MetricsLogging || o.TCPPort != 60001 {
		t.Fatalf("TOML nwaku keys not applied: %+v", o)
	}
	path = writeFile(t, "rln-relay = true\n")
	if _, err := Parse([]string{"--config-file=" + path}); err == nil || !strings.Contains(err.Error(), "--rln-relay: not supported") {
		t.Fatalf("rln-relay = true in TOML: %v", err)
	}
}

func TestPortsShift(t *testing.T) {
	o, err := Parse([]string{"--ports-shift=7", "--rest-port=0"})
	if err != nil {
		t.Fatal(err)
	}
	got := []uint16{o.TCPPort, o.WebSocketPort, o.Discv5UDPPort, o.RESTPort, o.MetricsServerPort}
	if want := []uint16{60007, 8007, 9007, 0, 8015}; !reflect.DeepEqual(got, want) {
		t.Fatalf("shifted ports %v, want %v (0 stays 0)", got, want)
	}
	if _, err := Parse([]string{"--ports-shift=6000"}); err == nil || !strings.Contains(err.Error(), "--tcp-port 60000 would become 66000") {
		t.Fatalf("overflow: %v", err)
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(*Options) bool
	}{
		{"name=value", []string{"--tcp-port=1234"}, func(o *Options) bool { return o.TCPPort == 1234 }},
		{"name value", []string{"--tcp-port", "1234"}, func(o *Options) bool { return o.TCPPort == 1234 }},
		{"single dash", []string{"-tcp-port=1234"}, func(o *Options) bool { return o.TCPPort == 1234 }},
		{"port 0 picks a free one", []string{"--tcp-port=0"}, func(o *Options) bool { return o.TCPPort == 0 }},
		{"uint16 max", []string{"--cluster-id=65535"}, func(o *Options) bool { return o.ClusterID == 65535 }},
		{"bool false", []string{"--relay=false"}, func(o *Options) bool { return !o.Relay }},
		{"bool bare", []string{"--rest-admin"}, func(o *Options) bool { return o.RESTAdmin }},
		{"bool rest=false", []string{"--rest=false"}, func(o *Options) bool { return !o.REST }},
		{"shard repeat", []string{"--shard=0", "--shard", "5", "--shard=1023"}, func(o *Options) bool {
			return reflect.DeepEqual(o.Shards, []uint16{0, 5, 1023})
		}},
		{"content-topic repeat", []string{"--content-topic=/app/1/a/proto", "--content-topic", "/0/app/1/b/proto"}, func(o *Options) bool {
			return reflect.DeepEqual(o.ContentTopics, []string{"/app/1/a/proto", "/0/app/1/b/proto"})
		}},
		{"staticnode repeat", []string{
			"--staticnode=/ip4/127.0.0.1/tcp/60000/p2p/16Uiu2HAmPLe7Mzm8TsYUubgCAW1aJoeFScxrLj8ppHFivPo97bUZ",
			"--staticnode=/dns4/node.example/tcp/443/wss/p2p/16Uiu2HAmPLe7Mzm8TsYUubgCAW1aJoeFScxrLj8ppHFivPo97bUZ",
		}, func(o *Options) bool { return len(o.StaticNodes) == 2 }},
		{"ext-multiaddr", []string{"--ext-multiaddr=/ip4/1.2.3.4/tcp/60000", "--ext-multiaddr=/dns4/x.example/tcp/443/wss"}, func(o *Options) bool {
			return reflect.DeepEqual(o.ExtMultiaddrs, []string{"/ip4/1.2.3.4/tcp/60000", "/dns4/x.example/tcp/443/wss"})
		}},
		{"rest-allow-origin", []string{"--rest-allow-origin=localhost:*", "--rest-allow-origin", "127.0.0.1:8080"}, func(o *Options) bool {
			return reflect.DeepEqual(o.RESTAllowOrigins, []string{"localhost:*", "127.0.0.1:8080"})
		}},
		{"ipv6 listen", []string{"--listen-address=::"}, func(o *Options) bool { return o.ListenAddress == "::" }},
		{"rest address", []string{"--rest-address=0.0.0.0", "--rest-port=9999"}, func(o *Options) bool {
			return o.RESTAddress == "0.0.0.0" && o.RESTPort == 9999
		}},
		{"max-msg-size", []string{"--max-msg-size=1MiB"}, func(o *Options) bool {
			return o.MaxMsgBytes == 1<<20 && o.MaxMsgSize == "1MiB"
		}},
		{"log level lower case", []string{"--log-level=debug"}, func(o *Options) bool { return o.LogLevel == LevelDebug }},
		{"log level TRACE", []string{"--log-level=TRACE"}, func(o *Options) bool { return o.LogLevel == LevelTrace }},
		{"log format json", []string{"--log-format=json"}, func(o *Options) bool { return o.LogFormat == FormatJSON }},
		{"log format TEXT", []string{"--log-format", "TEXT"}, func(o *Options) bool { return o.LogFormat == FormatText }},
		{"nodekey and data dir", []string{"--nodekey=" + testKey, "--data-dir=/tmp/x"}, func(o *Options) bool {
			return o.NodeKey == testKey && o.DataDir == "/tmp/x"
		}},
		{"websocket", []string{"--websocket-support=true", "--websocket-port=8001", "--websocket-secure-support",
			"--websocket-secure-key-path=k.pem", "--websocket-secure-cert-path=c.pem"}, func(o *Options) bool {
			return o.WebSocketSupport && o.WebSocketPort == 8001 && o.WebSocketSecureSupport &&
				o.WebSocketSecureKeyPath == "k.pem" && o.WebSocketSecureCertPath == "c.pem"
		}},
		{"metrics", []string{"--metrics-server", "--metrics-server-address=0.0.0.0", "--metrics-server-port=9100"}, func(o *Options) bool {
			return o.MetricsServer && o.MetricsServerAddress == "0.0.0.0" && o.MetricsServerPort == 9100
		}},
		{"unsupported flag at its default", []string{"--store=false", "--peer-exchange=true", "--discv5-udp-port=9000",
			"--relay-service-ratio=60:40"}, func(o *Options) bool { return !o.Store && o.PeerExchange }},
		{"unsupported capability turned off", []string{"--peer-exchange=false", "--discv5-discovery=false",
			"--store-message-db-migration=false"}, func(o *Options) bool {
			return !o.PeerExchange && o.Discv5Discovery != nil && !*o.Discv5Discovery
		}},
		{"version", []string{"--version"}, func(o *Options) bool { return o.Version }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if !tt.check(o) {
				t.Fatalf("Parse(%q) = %+v: check failed", tt.args, o)
			}
		})
	}
}

const testKey = "1122334455667788990011223344556677889900112233445566778899001122"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // substrings of the error
	}{
		{"unknown flag", []string{"--no-such-flag=1"}, []string{"--no-such-flag", "not defined"}},
		{"uint16 overflow", []string{"--tcp-port=70000"}, []string{"--tcp-port", "out of range for uint16"}},
		{"cluster-id overflow", []string{"--cluster-id", "65536"}, []string{"--cluster-id", "out of range"}},
		{"negative port", []string{"--rest-port=-1"}, []string{"--rest-port", "not an unsigned integer"}},
		{"shard overflow", []string{"--shard=0", "--shard=70000"}, []string{"--shard", "out of range"}},
		{"uint32 overflow", []string{"--rest-relay-cache-capacity=4294967296"}, []string{"--rest-relay-cache-capacity", "uint32"}},
		{"bad bool", []string{"--relay=maybe"}, []string{"--relay"}},
		{"space-separated bool", []string{"--relay", "false"}, []string{`unexpected argument "false"`, "--relay=false"}},
		{"positional", []string{"run"}, []string{`unexpected argument "run"`}},
		{"missing value", []string{"--tcp-port"}, []string{"--tcp-port", "needs an argument"}},
		{"bad ip", []string{"--listen-address=localhost"}, []string{"--listen-address", "not an IP address"}},
		{"bad log level", []string{"--log-level=VERBOSE"}, []string{"--log-level", "not a log level"}},
		{"bad log format", []string{"--log-format=xml"}, []string{"--log-format", "not a log format"}},
		{"bad size", []string{"--max-msg-size=150"}, []string{"--max-msg-size", "not a size"}},
		{"bad content topic", []string{"--content-topic=foo"}, []string{"--content-topic", "foo"}},
		{"bad multiaddr", []string{"--ext-multiaddr=1.2.3.4:60000"}, []string{"--ext-multiaddr", "not a multiaddr"}},
		{"staticnode without peer id", []string{"--staticnode=/ip4/127.0.0.1/tcp/60000"}, []string{"--staticnode", "/p2p/"}},
		{"store sync interval not a number", []string{"--store-sync-interval=5m"}, []string{"--store-sync-interval"}},
		{"unsupported value still type-checked", []string{"--filter-subscription-timeout=70000"}, []string{"--filter-subscription-timeout", "out of range"}},
		{"missing config file", []string{"--config-file=/nonexistent/x.toml"}, []string{"--config-file", "/nonexistent/x.toml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.args, o)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) error %q does not contain %q", tt.args, err, w)
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, a := range []string{"-h", "--help"} {
		if _, err := Parse([]string{a}); !errors.Is(err, ErrHelp) || !errors.Is(err, flag.ErrHelp) {
			t.Errorf("Parse(%s) = %v, want ErrHelp", a, err)
		}
	}
	var b strings.Builder
	Usage(&b)
	for _, want := range []string{"\n  --rest-port=<", "(default 8645)", "\n  --log-level", "(default INFO)",
		"\n  --metrics-logging=<bool>", "\n  --rln-relay=<bool>", "[not built: accepted at its default only]",
		"\n  --rln-relay-tree-path", "ignored while --rln-relay is off"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Usage lacks %q", want)
		}
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFile(t *testing.T) {
	// The shape of nwaku's own example configs: typed values, arrays for lists.
	path := writeFile(t, `
log-level = "DEBUG"
relay = true
max-connections = 150
cluster-id = 2
num-shards-in-network = 8
shard = [0, 3]
content-topic = ["/app/1/a/proto", "/app/1/b/proto"]
tcp-port = 60001
rest-admin = true
rest-allow-origin = "localhost:*"
listen-address = "127.0.0.1"
max-msg-size = "1 KB"
peer-exchange = true
store = false
store-sync = true
store-sync-interval = 60
store-sync-range = 7200
store-sync-relay-jitter = 0
`)
	o, err := Parse([]string{"--config-file=" + path, "--tcp-port=60002", "--shard=7"})
	if err != nil {
		t.Fatal(err)
	}
	want := defaults()
	want.ConfigFile = path
	want.LogLevel = LevelDebug
	want.MaxConnections = 150
	want.ClusterID = 2
	want.NumShardsInNetwork = 8
	want.Shards = []uint16{7} // the command line replaces the file's list
	want.TCPPort = 60002      // and its scalars
	want.ContentTopics = []string{"/app/1/a/proto", "/app/1/b/proto"}
	want.RESTAdmin = true
	want.RESTAllowOrigins = []string{"localhost:*"} // a scalar for a list flag is one element
	want.ListenAddress = "127.0.0.1"
	want.MaxMsgSize, want.MaxMsgBytes = "1 KB", 1000
	want.StoreSync, want.StoreSyncInterval, want.StoreSyncRange, want.StoreSyncRelayJitter = true, 60, 7200, 0
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("got  %+v\nwant %+v", o, want)
	}
}

func TestConfigFileErrors(t *testing.T) {
	tests := []struct {
		name, toml string
		args       []string
		want       []string
	}{
		{"unknown key", "relay = true\nno-such-key = 1\n", nil, []string{`unknown key "no-such-key"`}},
		{"table", "[rest]\nport = 1\n", nil, []string{`key "rest"`}},
		{"unknown table", "[nope]\nport = 1\n", nil, []string{`unknown key "nope"`}},
		{"overflow", "tcp-port = 70000\n", nil, []string{`key "tcp-port"`, "out of range"}},
		{"array for scalar", "tcp-port = [1, 2]\n", nil, []string{`key "tcp-port"`, "single value"}},
		{"wrong type", "relay = \"maybe\"\n", nil, []string{`key "relay"`}},
		{"nested config-file", "config-file = \"other.toml\"\n", nil, []string{`unknown key "config-file"`}},
		{"syntax", "relay = \n", nil, []string{"--config-file"}},
		{"unsupported from file", "rln-relay = true\n", nil, []string{"--rln-relay: not supported"}},
		{"bad element", "shard = [1, 70000]\n", nil, []string{`key "shard"`, "out of range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.toml)
			_, err := Parse(append([]string{"--config-file", path}, tt.args...))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// A command-line override rescues an unsupported value in the file, as nwaku's precedence implies.
func TestConfigFileOverriddenUnsupported(t *testing.T) {
	path := writeFile(t, "filter = true\n")
	o, err := Parse([]string{"--config-file=" + path, "--filter=false"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Filter {
		t.Fatal("--filter=false on the command line did not override the file")
	}
}

// docs/flags.md is the operators' list: every declared flag is in it, the nwaku-only ones with
// their status.
func TestFlagsDocListsEveryFlag(t *testing.T) {
	b, err := os.ReadFile("../../../../docs/flags.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	newFlagSet(defaults()).VisitAll(func(f *flag.Flag) {
		if !strings.Contains(doc, "| `--"+f.Name+"` |") {
			t.Errorf("docs/flags.md lacks --%s", f.Name)
		}
	})
	for _, u := range unbuilt {
		row := doc[strings.Index(doc, "| `--"+u.name+"` |"):]
		row = row[:strings.Index(row, "\n")]
		if want := "Not built"; u.reason != "" && !strings.Contains(row, want) {
			t.Errorf("docs/flags.md row of --%s does not say %q: %s", u.name, want, row)
		}
	}
}
