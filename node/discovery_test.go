package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/miekg/dns"

	"github.com/wakunode/wakunode/discovery/discv5"
	"github.com/wakunode/wakunode/discovery/dnsdisc"
	"github.com/wakunode/wakunode/enr"
	"github.com/wakunode/wakunode/filter"
	"github.com/wakunode/wakunode/lightpush"
	"github.com/wakunode/wakunode/peers"
	"github.com/wakunode/wakunode/store"
)

const discTopic = "/waku/2/rs/16/3"

// discConfig is a loopback relay node of cluster 16 on shard 3 with discv5 on a free UDP
// port. Every node here is on 127.0.0.1, so the IP colocation limit is off.
func discConfig(t *testing.T, boot ...string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.ListenAddress = "127.0.0.1"
	cfg.TCPPort, cfg.WebSocketPort = 0, 0
	cfg.ClusterID = 16
	cfg.Shards = []uint16{3}
	cfg.KeepAlive = 0
	cfg.Logger = discLogger()
	cfg.Discovery = DefaultDiscoveryConfig()
	cfg.Discovery.IPColocationLimit = 0
	cfg.Discovery.Discv5 = true
	cfg.Discovery.Discv5UDPPort = 0
	cfg.Discovery.Discv5Bootnodes = boot
	return cfg
}

// waitFor polls cond for up to limit (a liveness bound, not a speed assertion).
func waitFor(t *testing.T, limit time.Duration, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDiscv5TwentyNodes(t *testing.T) {
	skipUnderRace(t)
	if testing.Short() {
		t.Skip("20 nodes")
	}
	boot := startNode(t, discConfig(t))
	bootENR := boot.ENR()
	if r, err := enr.Parse(bootENR); err != nil || r.UDP() == 0 {
		t.Fatalf("boot ENR %s has no udp (%v)", bootENR, err)
	}
	nodes := []*Node{boot}
	for i := 1; i < 20; i++ {
		nodes = append(nodes, startNode(t, discConfig(t, bootENR)))
	}
	fcfg := discConfig(t, bootENR)
	fcfg.ClusterID, fcfg.Shards = 2, []uint16{0}
	foreign := startNode(t, fcfg)
	foreignRec, err := enr.Parse(foreign.ENR())
	if err != nil {
		t.Fatal(err)
	}

	dlo := DefaultConfig().RelayParams.Dlo
	for i, n := range nodes {
		waitFor(t, 90*time.Second, func() string {
			return fmt.Sprintf("node %d has %d topic peers, want %d", i, len(n.relay.TopicPeers(discTopic)), dlo)
		}, func() bool { return len(n.relay.TopicPeers(discTopic)) >= dlo })
	}
	for i, n := range nodes {
		discv5Peers := 0
		for _, p := range n.peers.Known() {
			if p.Origin == peers.OriginDiscv5 {
				discv5Peers++
			}
			if p.ID == foreign.ID() {
				t.Fatalf("node %d keeps the cluster-2 node", i)
			}
		}
		// Each node dials what discv5 found (the rest of its peers dialed it).
		if i > 0 && discv5Peers == 0 {
			t.Fatalf("node %d learned no peer through discv5", i)
		}
		if n.Host().Network().Connectedness(foreign.ID()) == network.Connected {
			t.Fatalf("node %d is connected to the cluster-2 node", i)
		}
	}
	// The cluster-2 node is in the DHT all the same: a probe finds it.
	key, _ := ethcrypto.GenerateKey()
	ln, err := enr.Build(enr.BuildConfig{PrivateKey: key, IP: net.IPv4(127, 0, 0, 1), Discv5: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	probe, err := discv5.Start(discv5.Config{PrivateKey: key, LocalNode: ln.Enode(), ListenIP: net.IPv4(127, 0, 0, 1),
		Bootnodes: []*enode.Node{must(enr.Parse(bootENR))}, NoWalk: true})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	found := false
	for deadline := time.Now().Add(60 * time.Second); !found && time.Now().Before(deadline); {
		for _, r := range probe.UDP().Lookup(foreignRec.ID()) {
			found = found || r.ID() == foreignRec.ID()
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !found {
		t.Fatal("the cluster-2 node is not discoverable in the DHT")
	}

	subs := make([]*Subscription, len(nodes))
	for i, n := range nodes {
		subs[i] = n.Subscribe(nil, 64)
		defer subs[i].Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, from := range []int{0, 7, 19} {
		payload := fmt.Sprintf("discv5-from-%d", from)
		if _, err := nodes[from].Publish(ctx, discTopic, testMessage(payload)); err != nil {
			t.Fatal(err)
		}
		for i := range nodes {
			receive(t, subs[i], payload)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPeerExchangeFindsServicePeers: a light node (no relay, no discv5) that knows only a
// relay node without services learns filter, lightpush and store peers by peer exchange.
func TestPeerExchangeFindsServicePeers(t *testing.T) {
	pxCfg := discConfig(t)
	px := startNode(t, pxCfg)
	var services []*Node
	for i := 0; i < 3; i++ {
		cfg := discConfig(t, px.ENR())
		cfg.Filter.Enabled, cfg.Lightpush, cfg.Store.Enabled = true, true, true
		services = append(services, startNode(t, cfg))
	}
	// The responder's cache fills from discv5.
	lcfg := DefaultConfig()
	lcfg.DataDir, lcfg.ListenAddress, lcfg.TCPPort, lcfg.WebSocketPort = t.TempDir(), "127.0.0.1", 0, 0
	lcfg.ClusterID, lcfg.Relay, lcfg.KeepAlive, lcfg.Logger = 16, false, 0, discLogger()
	lcfg.Discovery = DefaultDiscoveryConfig()
	lcfg.Discovery.IPColocationLimit = 0
	lcfg.Discovery.PeerExchange = false
	lcfg.Discovery.PeerExchangeNodes = px.ListenAddrs()[:1]
	light := startNode(t, lcfg)

	isService := map[peer.ID]bool{}
	for _, s := range services {
		isService[s.ID()] = true
	}
	for _, proto := range []protocol.ID{filter.SubscribeProtocol, lightpush.ProtocolV3, store.QueryProtocol} {
		var got peer.ID
		waitFor(t, 60*time.Second, func() string { return fmt.Sprintf("no %s peer by peer exchange", proto) }, func() bool {
			p, err := light.SelectPeer(proto, discTopic)
			got = p
			return err == nil
		})
		if !isService[got] {
			t.Fatalf("%s: selected %s, not a service node", proto, got)
		}
		if o := light.peers.Origin(got); o != peers.OriginPeerExchange {
			t.Fatalf("%s peer origin %q", proto, o)
		}
	}
	if _, err := light.SelectPeer(filter.SubscribeProtocol, "/waku/2/rs/16/9"); err == nil {
		t.Fatal("found a filter peer for a shard nobody relays")
	}
}

// TestDNSDiscovery: a node syncs a tree our publisher built and signed from a DNS server on
// 127.0.0.1 and connects to the listed nodes.
func TestDNSDiscovery(t *testing.T) {
	var listed []*Node
	var recs []*enode.Node
	for i := 0; i < 3; i++ {
		cfg := discConfig(t)
		cfg.Discovery.Discv5 = false
		n := startNode(t, cfg)
		listed = append(listed, n)
		recs = append(recs, must(enr.Parse(n.ENR())))
	}
	key, _ := ethcrypto.GenerateKey()
	tree, err := dnsdisc.BuildTree(key, "nodes.test", 1, recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTXT(t, tree.Records)

	cfg := discConfig(t)
	cfg.Discovery.Discv5 = false
	cfg.Discovery.DNSDiscovery = true
	cfg.Discovery.DNSDiscoveryURLs = []string{tree.URL}
	cfg.Discovery.DNSNameServer = addr
	n := startNode(t, cfg)
	for _, l := range listed {
		waitFor(t, 30*time.Second, func() string { return "listed node not connected" }, func() bool {
			return n.Host().Network().Connectedness(l.ID()) == network.Connected
		})
		if o := n.peers.Origin(l.ID()); o != peers.OriginDNS {
			t.Fatalf("origin %q, want Dns", o)
		}
	}
}

// serveTXT answers TXT queries for records (name -> text, split into 255-byte strings) on a
// UDP port of 127.0.0.1 and returns its address.
func serveTXT(t *testing.T, records map[string]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	lower := map[string]string{}
	for k, v := range records {
		lower[strings.ToLower(k)] = v
	}
	records = lower
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		mu.Lock()
		for _, q := range req.Question {
			if txt, ok := records[strings.TrimSuffix(strings.ToLower(q.Name), ".")]; ok {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: dnsdisc.Chunks(txt)})
			}
		}
		mu.Unlock()
		if len(m.Answer) == 0 {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func discLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// skipUnderRace skips multi-node discv5 tests under the race detector: go-ethereum v1.17.2's
// table races with itself (p2p/discover table_reval.go:81 reads revalidationList.nextTime on
// the table loop while the refresh goroutine's loadSeedNodes writes it, :221). The race is
// upstream, in code we cannot change; our own code is race-tested by the other tests.
func skipUnderRace(t *testing.T) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				t.Skip("go-ethereum v1.17.2 p2p/discover has a data race in its table (see skipUnderRace)")
			}
		}
	}
}
