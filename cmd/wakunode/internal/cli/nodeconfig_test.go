package cli

import (
	"reflect"
	"strings"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/node"
	"github.com/wakunode/wakunode/ratelimit"
)

const peerAddr = "/ip4/127.0.0.1/tcp/60000/p2p/16Uiu2HAmPLe7Mzm8TsYUubgCAW1aJoeFScxrLj8ppHFivPo97bUZ"

func TestNodeConfigDefaults(t *testing.T) {
	o, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.NodeConfig(nil, "v9")
	if err != nil {
		t.Fatal(err)
	}
	want := node.DefaultConfig()
	want.Version = "v9"
	want.Shards, want.ContentTopics = nil, nil
	want.NumShardsInNetwork = 1           // nwaku's default: autosharding over one shard
	want.RelayParams.PeerExchange = false // nwaku's --relay-peer-exchange default
	want.NAT = "any"                      // nwaku's --nat default (the library's is "none")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults differ:\ngot  %+v\nwant %+v", got, want)
	}
	if got.Rules.MaxSize != message.DefaultMaxMessageSize {
		t.Fatalf("MaxSize = %d", got.Rules.MaxSize)
	}
}

func TestNodeConfig(t *testing.T) {
	o, err := Parse([]string{
		"--nodekey=" + testKey, "--data-dir=/var/lib/waku",
		"--listen-address=127.0.0.1", "--tcp-port=0",
		"--ext-multiaddr=/ip4/1.2.3.4/tcp/60000", "--dns4-domain-name=node.example",
		"--max-connections=7", "--staticnode=" + peerAddr,
		"--websocket-support", "--websocket-port=8001",
		"--cluster-id=16", "--num-shards-in-network=8", "--shard=1", "--shard=2",
		"--content-topic=/app/1/chat/proto", "--relay=false", "--relay-peer-exchange",
		"--max-msg-size=1MiB",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.NodeConfig(nil, "v1")
	if err != nil {
		t.Fatal(err)
	}
	wantKey, _ := ethcrypto.HexToECDSA(testKey)
	checks := []struct {
		name      string
		got, want any
	}{
		{"NodeKey", cfg.NodeKey != nil && cfg.NodeKey.D.Cmp(wantKey.D) == 0, true},
		{"DataDir", cfg.DataDir, "/var/lib/waku"},
		{"ListenAddress", cfg.ListenAddress, "127.0.0.1"},
		{"TCPPort", cfg.TCPPort, 0},
		{"ExtMultiaddrs", len(cfg.ExtMultiaddrs) == 1 && cfg.ExtMultiaddrs[0].String() == "/ip4/1.2.3.4/tcp/60000", true},
		{"DNS4DomainName", cfg.DNS4DomainName, "node.example"},
		{"MaxConnections", cfg.MaxConnections, 7},
		{"StaticNodes", len(cfg.StaticNodes) == 1 && cfg.StaticNodes[0].String() == peerAddr, true},
		{"WebSocket", cfg.WebSocket, true},
		{"WebSocketPort", cfg.WebSocketPort, 8001},
		{"ClusterID", cfg.ClusterID, uint16(16)},
		{"NumShardsInNetwork", cfg.NumShardsInNetwork, uint16(8)},
		{"Shards", reflect.DeepEqual(cfg.Shards, []uint16{1, 2}), true},
		{"ContentTopics", reflect.DeepEqual(cfg.ContentTopics, []string{"/app/1/chat/proto"}), true},
		{"Relay", cfg.Relay, false},
		{"RelayParams.PeerExchange", cfg.RelayParams.PeerExchange, true},
		{"Rules.MaxSize", cfg.Rules.MaxSize, 1 << 20},
		{"Version", cfg.Version, "v1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestNodeConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nodekey not hex", []string{"--nodekey=zz"}, "--nodekey"},
		{"nodekey short", []string{"--nodekey=1122"}, "--nodekey"},
		{"nodekey zero", []string{"--nodekey=" + strings.Repeat("0", 64)}, "--nodekey"},
		{"wss without cert", []string{"--websocket-support", "--websocket-secure-support"}, "--websocket-secure-cert-path"},
		// nwaku's validateShards, with its words
		{"shard beyond autosharding", []string{"--shard=9"}, "invalid shard: 9 when numShardsInNetwork: 1"},
		{"shard beyond 8 shards", []string{"--cluster-id=1", "--num-shards-in-network=8", "--shard=0", "--shard=8"}, "invalid shard: 8 when numShardsInNetwork: 8"},
		{"pubsub topic beyond shards", []string{"--pubsub-topic=/waku/2/rs/0/3"}, "invalid shard: 3 when numShardsInNetwork: 1"},
		{"pubsub topic of another cluster", []string{"--pubsub-topic=/waku/2/rs/1/0"}, "cluster 1 is not --cluster-id 0"},
		{"named pubsub topic", []string{"--pubsub-topic=/waku/2/default-waku/proto"}, "only static shard topics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := o.NodeConfig(nil, ""); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NodeConfig error = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestRESTConfigAndMetricsAddr(t *testing.T) {
	o, err := Parse([]string{"--rest-address=::1", "--rest-port=0", "--rest-admin",
		"--rest-allow-origin=localhost:*", "--rest-relay-cache-capacity=9",
		"--metrics-server-address=::1", "--metrics-server-port=9100"})
	if err != nil {
		t.Fatal(err)
	}
	rc := o.RESTConfig(nil, "v2")
	if rc.Address != "::1" || rc.Port != 0 || !rc.Admin || rc.RelayCacheCapacity != 9 ||
		!reflect.DeepEqual(rc.AllowOrigins, []string{"localhost:*"}) || rc.Version != "v2" {
		t.Fatalf("RESTConfig = %+v", rc)
	}
	if got := o.MetricsAddr(); got != "[::1]:9100" {
		t.Fatalf("MetricsAddr = %q", got)
	}
	d, _ := Parse(nil)
	if rc := d.RESTConfig(nil, ""); rc.Address != "127.0.0.1" || rc.Port != 8645 || rc.RelayCacheCapacity != 50 {
		t.Fatalf("default RESTConfig = %+v", rc)
	}
	if got := d.MetricsAddr(); got != "127.0.0.1:8008" {
		t.Fatalf("default MetricsAddr = %q", got)
	}
}

func TestNodeConfigServices(t *testing.T) {
	o, err := Parse([]string{
		"--store", "--store-message-db-url=postgres://u:p@127.0.0.1:5432/db", "--store-message-retention-policy=capacity:1000",
		"--store-max-num-db-connections=7", "--store-message-db-vacuum", "--store-resume", "--storenode=" + peerAddr,
		"--store-queue-bytes=1048576", "--store-spill-bytes=2097152", "--store-fsync-commits", "--store-writer-nice=3", "--filter", "--filter-max-peers-to-serve=9", "--filter-max-criteria=11", "--filter-subscription-timeout=60",
		"--lightpush", "--lightpushnode=" + peerAddr, "--filternode=" + peerAddr,
		"--rate-limit=store:10/1s", "--rate-limit=lightpush:5/1m", "--peer-persistence",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.NodeConfig(nil, "v")
	if err != nil {
		t.Fatal(err)
	}
	wantStore := node.StoreConfig{Enabled: true, DBURL: "postgres://u:p@127.0.0.1:5432/db", Retention: "capacity:1000",
		MaxConns: 7, Migrate: true, Vacuum: true, Resume: true, QueueBytes: 1 << 20, SpillBytes: 2 << 20, FsyncCommits: true, WriterNice: 3}
	if cfg.Store != wantStore {
		t.Fatalf("store = %+v, want %+v", cfg.Store, wantStore)
	}
	if cfg.Filter.MaxPeers != 9 || cfg.Filter.MaxCriteria != 11 || cfg.Filter.SubscriptionTimeout.Seconds() != 60 || !cfg.Filter.Enabled {
		t.Fatalf("filter = %+v", cfg.Filter)
	}
	if !cfg.Lightpush || cfg.StoreNode.String() != peerAddr || cfg.LightpushNode.String() != peerAddr || cfg.FilterNode.String() != peerAddr {
		t.Fatalf("lightpush %v, service peers %v %v %v", cfg.Lightpush, cfg.StoreNode, cfg.LightpushNode, cfg.FilterNode)
	}
	if !cfg.PeerPersistence {
		t.Fatal("--peer-persistence not mapped")
	}
	if s := cfg.RateLimits.For("storev3"); s.Volume != 10 || s.Period.Seconds() != 1 {
		t.Fatalf("store rate limit = %+v", s)
	}

	for _, bad := range [][]string{
		{"--store-message-retention-policy=forever:1"},
		{"--rate-limit=bogus:1/1s"},
		{"--store-resume"}, // needs --storenode
		{"--storenode=not-a-multiaddr"},
		{"--discv5-table-ip-limit=20"},
		{"--relay-service-ratio=70:40"},
		{"--dns-discovery"},            // needs a URL
		{"--store-queue-bytes=100000"}, // below --max-msg-size's 150 KiB
		{"--store-queue-bytes=2MiB"},   // bytes, no units
		{"--store-spill-bytes=-1"},
		{"--store-writer-nice=-5"}, // raising the priority is refused
	} {
		o, err := Parse(bad)
		if err == nil {
			_, err = o.NodeConfig(nil, "v")
		}
		if err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}

func TestNodeConfigShardsAndKeepAlive(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		shards    []uint16
		keepAlive time.Duration
	}{
		{"defaults", nil, nil, node.DefaultConfig().KeepAlive},
		{"static sharding takes any shard", []string{"--cluster-id=16", "--num-shards-in-network=0", "--shard=32", "--shard=64"}, []uint16{32, 64}, node.DefaultConfig().KeepAlive},
		{"last shard of 8", []string{"--cluster-id=1", "--num-shards-in-network=8", "--shard=7"}, []uint16{7}, node.DefaultConfig().KeepAlive},
		{"pubsub-topic adds its shard once", []string{"--cluster-id=16", "--num-shards-in-network=0", "--shard=1",
			"--pubsub-topic=/waku/2/rs/16/1", "--pubsub-topic=/waku/2/rs/16/5"}, []uint16{1, 5}, node.DefaultConfig().KeepAlive},
		{"keep-alive on: nwaku's 2 minutes", []string{"--keep-alive=true"}, nil, 2 * time.Minute},
		{"keep-alive off: no pings", []string{"--keep-alive=false"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := o.NodeConfig(nil, "")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Shards, tt.shards) || cfg.KeepAlive != tt.keepAlive {
				t.Fatalf("shards %v keep-alive %v, want %v %v", cfg.Shards, cfg.KeepAlive, tt.shards, tt.keepAlive)
			}
		})
	}
}

// Older nwaku's --request-rate-limit/--request-rate-period is the default limit of every
// service, which --rate-limit refines.
func TestRequestRateLimit(t *testing.T) {
	o, err := Parse([]string{"--request-rate-limit=30", "--request-rate-period=60", "--rate-limit=store:5/1s"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.NodeConfig(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ratelimit.Parse([]string{"30/60s", "store:5/1s"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.RateLimits, want) {
		t.Fatalf("rate limits %+v, want %+v", cfg.RateLimits, want)
	}
	if reflect.DeepEqual(want, node.DefaultConfig().RateLimits) {
		t.Fatal("the limits equal the defaults: the test proves nothing")
	}
}

// --store-sync* map to node.StoreSyncConfig with nwaku's meanings: seconds, interval 0 = never
// initiate, jitter 0 = no offset, and no store sync at all without --store.
func TestNodeConfigStoreSync(t *testing.T) {
	tests := []struct {
		args []string
		want *node.StoreSyncConfig
	}{
		{[]string{"--store"}, nil},
		{[]string{"--store-sync"}, nil}, // ignored without --store, as nwaku does
		{[]string{"--store", "--store-sync"}, &node.StoreSyncConfig{Interval: 300 * time.Second, Range: time.Hour, RelayJitter: 20 * time.Second}},
		{[]string{"--store", "--store-sync", "--store-sync-interval=0", "--store-sync-range=600", "--store-sync-relay-jitter=0"},
			&node.StoreSyncConfig{Interval: -1, Range: 10 * time.Minute, RelayJitter: time.Nanosecond}},
	}
	for _, tt := range tests {
		o, err := Parse(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := o.NodeConfig(nil, "v")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cfg.StoreSync, tt.want) {
			t.Errorf("%v: store sync %+v, want %+v", tt.args, cfg.StoreSync, tt.want)
		}
	}
}
