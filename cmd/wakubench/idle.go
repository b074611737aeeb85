package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
	storepb "github.com/wakunode/wakunode/store/pb"
)

// idleConfig is the realistic idle node: the node under test serves relay on every shard,
// filter, lightpush, store and peer exchange with discv5 on, and has RelayPeers relay peers
// (each on two of the shards, discv5 on, bootstrapped from the node) plus light clients
// (filter subscribers, lightpush publishers, store queriers, all asking it for peers over peer
// exchange). Rate messages per second are published in total: one in five by lightpush.
type idleConfig struct {
	DUTs                                   []dut
	Shards                                 int
	RelayPeers, FilterClients, PushClients int
	StoreClients                           int
	Rate                                   float64
	Size                                   int
	Warmup, Dur                            time.Duration
	StoreEvery                             time.Duration // each store client queries this often
}

func idle(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	c := idleConfig{}
	duts := dutFlags(fs, "go-waku binary: run the scenario on it too, with equivalent flags")
	fs.IntVar(&c.Shards, "shards", 8, "shards of cluster 16 the node relays")
	fs.IntVar(&c.RelayPeers, "relay-peers", 30, "relay peers (each relays two shards)")
	fs.IntVar(&c.FilterClients, "filter-clients", 12, "filter subscribers")
	fs.IntVar(&c.PushClients, "lightpush-clients", 4, "lightpush publishers")
	fs.IntVar(&c.StoreClients, "store-clients", 4, "store queriers")
	fs.Float64Var(&c.Rate, "rate", 10, "messages per second published in total")
	fs.IntVar(&c.Size, "size", 1024, "payload bytes")
	fs.DurationVar(&c.Warmup, "warmup", 20*time.Second, "time for connections, meshes and discovery before measuring")
	fs.DurationVar(&c.Dur, "dur", 60*time.Second, "measured time")
	fs.DurationVar(&c.StoreEvery, "store-every", 10*time.Second, "each store client queries this often")
	_ = fs.Parse(args)
	c.DUTs = duts()
	if len(c.DUTs) == 0 || c.Shards < 1 || c.RelayPeers < c.Shards || c.Rate <= 0 || c.Dur <= 0 {
		return errors.New("idle: need a binary, --relay-peers >= --shards >= 1, a positive --rate and --dur")
	}
	fmt.Printf("%d relay peers, %d filter + %d lightpush + %d store clients, %d shards, %.0f msg/s of %d B, measured over %s after %s\n\n",
		c.RelayPeers, c.FilterClients, c.PushClients, c.StoreClients, c.Shards, c.Rate, c.Size, c.Dur, c.Warmup)
	fmt.Println(idleHeader)
	failures := ""
	for _, d := range c.DUTs {
		row, err := idleRun(c, d)
		if err != nil {
			return fmt.Errorf("%s: %w", d.Kind, err)
		}
		fmt.Println(row.markdown())
		failures += strings.ReplaceAll(row.Failures, "\n", " ("+d.Kind+")\n")
	}
	fmt.Println()
	fmt.Println(idleFootnote)
	if failures != "" {
		fmt.Print("\nFailures:\n" + failures)
	}
	return nil
}

// idleRow is what one run measured, in bytes per second unless named otherwise.
type idleRow struct {
	Kind               string
	Conns              int     // established libp2p TCP connections at the end
	Cores              float64 // node CPU over the measured time
	RSSKB, PeakKB      int
	In, Out            float64 // every libp2p TCP byte (Noise, yamux, every protocol)
	PayloadIn          float64 // message copies in: relay publish entries + lightpush
	PayloadOut         float64 // message copies out: relay publish entries + filter pushes + store answers
	HasRelay           bool    // the node meters relay RPCs by topic (ours); go-waku does not
	GossipIn, GossipOt float64 // gossip control: subscriptions, IHAVE/IWANT/IDONTWANT/GRAFT/PRUNE, framing
	// ServiceIn/Out: service control, the bytes on the streams of every other protocol (ours:
	// waku_service_network_bytes_total) less the message copies they carried
	HasService            bool
	ServiceIn, ServiceOut float64
	Published             float64 // messages per second actually published
	Failures              string  // failed publishes and queries, one line per kind
}

const idleHeader = "| node | conns | msg/s | CPU (cores) | RSS (peak) | in B/s | out B/s | payload in / out B/s | gossip control in / out B/s | service control in / out B/s | transport in / out B/s | control share in / out |\n" +
	"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"

const idleFootnote = "msg/s: published and accepted (relay or lightpush). in/out: every byte on the node's libp2p TCP connections (socket counters, Noise and yamux included); " +
	"discv5 (UDP) is not in them. Payload: message copies (relay publish entries, lightpush, filter pushes, store answers). " +
	"Gossip control: the node's relay RPC bytes outside publish entries. Service control: the bytes on every other protocol's " +
	"streams (waku_service_network_bytes_total: filter, lightpush and store envelopes, pings, identify, metadata, peer exchange) " +
	"less the message copies on them. Transport: the rest (Noise, yamux, multistream-select). Control share: (total - payload) / total."

func (r idleRow) markdown() string {
	payload, gossip, service, transport, share := "–", "–", "–", "–", "–"
	if r.HasRelay {
		payload = fmt.Sprintf("%.0f / %.0f", r.PayloadIn, r.PayloadOut)
		gossip = fmt.Sprintf("%.0f / %.0f", r.GossipIn, r.GossipOt)
		share = fmt.Sprintf("%.0f %% / %.0f %%", 100*controlShare(r.In, r.PayloadIn), 100*controlShare(r.Out, r.PayloadOut))
	}
	if r.HasRelay && r.HasService {
		service = fmt.Sprintf("%.0f / %.0f", r.ServiceIn, r.ServiceOut)
		transport = fmt.Sprintf("%.0f / %.0f", max(0, r.In-r.PayloadIn-r.GossipIn-r.ServiceIn), max(0, r.Out-r.PayloadOut-r.GossipOt-r.ServiceOut))
	}
	return fmt.Sprintf("| %s | %d | %.1f | %.3f | %.1f MB (%.1f) | %.0f | %.0f | %s | %s | %s | %s | %s |", r.Kind, r.Conns, r.Published, r.Cores,
		mb(r.RSSKB), mb(r.PeakKB), r.In, r.Out, payload, gossip, service, transport, share)
}

func controlShare(total, payload float64) float64 {
	if total <= 0 {
		return 0
	}
	return max(0, total-payload) / total
}

// idleCounters are the payload bytes the in-process clients saw cross the node's connections.
type idleCounters struct {
	pushIn, filterOut, storeOut atomic.Int64
	published                   atomic.Int64

	mu       sync.Mutex
	failures map[string]int    // by client kind
	firstErr map[string]string // the first error of each kind, for the report
}

// failed counts a failed publish or query; the report prints each kind once.
func (c *idleCounters) failed(kind string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failures == nil {
		c.failures, c.firstErr = map[string]int{}, map[string]string{}
	}
	if c.failures[kind]++; c.failures[kind] == 1 {
		c.firstErr[kind] = err.Error()
	}
}

func (c *idleCounters) report() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, k := range []string{"relay publish", "lightpush", "store query"} {
		if n := c.failures[k]; n > 0 {
			fmt.Fprintf(&b, "%s: %d failed (first: %s)\n", k, n, c.firstErr[k])
		}
	}
	return b.String()
}

// snapshot is the payload bytes in (lightpush) and out (filter pushes, store answers) so far.
func (c *idleCounters) snapshot() [2]float64 {
	return [2]float64{float64(c.pushIn.Load()), float64(c.filterOut.Load() + c.storeOut.Load())}
}

func shardTopic(s int) string   { return fmt.Sprintf("/waku/2/rs/16/%d", s) }
func shardContent(s int) string { return fmt.Sprintf("/idle/1/shard-%d/proto", s) }

func idleRun(c idleConfig, d dut) (idleRow, error) {
	row := idleRow{Kind: d.Kind}
	dir, rmdir, err := tempDir()
	if err != nil {
		return row, err
	}
	defer rmdir()
	udp, err := freeUDPPort()
	if err != nil {
		return row, err
	}
	shards := make([]uint16, c.Shards)
	for i := range shards {
		shards[i] = uint16(i)
	}
	r, err := d.start(filepath.Join(dir, "dut"), dutOptions{Shards: shards, Store: true, Filter: true, Lightpush: true, PeerExch: true,
		Discv5Port: udp, MaxConns: 150})
	if err != nil {
		return row, err
	}
	defer r.stop()
	enr, err := nodeENR(r.rest)
	if err != nil {
		return row, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	var peers []*node.Node
	defer func() {
		for _, p := range peers {
			_ = p.Stop()
		}
	}()
	onShard := make([][]*node.Node, c.Shards) // the relay peers of each shard
	for i := range c.RelayPeers {
		cfg := idlePeerConfig(filepath.Join(dir, fmt.Sprintf("relay%d", i)), c.Shards)
		cfg.Shards = []uint16{uint16(i % c.Shards)}
		if c.Shards > 1 {
			cfg.Shards = append(cfg.Shards, uint16((i+c.Shards/2)%c.Shards))
		}
		cfg.Discovery.Discv5, cfg.Discovery.Discv5UDPPort, cfg.Discovery.Discv5Bootnodes = true, 0, []string{enr}
		n, err := startConnected(ctx, cfg, r.addr)
		if err != nil {
			return row, err
		}
		peers = append(peers, n)
		for _, s := range cfg.Shards {
			onShard[s] = append(onShard[s], n)
		}
	}
	var cnt idleCounters
	light := func(name string, i int) (*node.Node, error) {
		cfg := idlePeerConfig(filepath.Join(dir, fmt.Sprintf("%s%d", name, i)), c.Shards)
		cfg.Relay, cfg.Shards = false, []uint16{uint16(i % c.Shards)}
		cfg.FilterNode, cfg.LightpushNode, cfg.StoreNode = r.addr, r.addr, r.addr
		cfg.Discovery.PeerExchangeNodes = []multiaddr.Multiaddr{r.addr}
		n, err := startConnected(ctx, cfg, r.addr)
		if err == nil {
			peers = append(peers, n)
		}
		return n, err
	}
	for i := range c.FilterClients {
		n, err := light("filter", i)
		if err != nil {
			return row, err
		}
		sub, err := n.Filter().Subscribe(ctx, shardTopic(i%c.Shards), []string{shardContent(i % c.Shards)})
		if err != nil {
			return row, fmt.Errorf("filter subscribe: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case e, ok := <-sub.C:
					if !ok {
						return
					}
					cnt.filterOut.Add(int64(proto.Size(e.Message)))
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	pushers := make([]*node.Node, c.PushClients)
	for i := range pushers {
		if pushers[i], err = light("push", i); err != nil {
			return row, err
		}
	}
	for i := range c.StoreClients {
		n, err := light("store", i)
		if err != nil {
			return row, err
		}
		wg.Add(1)
		go func() { defer wg.Done(); queryLoop(ctx, n, r.addr, i, c, &cnt) }()
	}
	time.Sleep(c.Warmup)

	pid := r.pid()
	bytes0, err := tcpBytes(pid, r)
	if err != nil {
		return row, err
	}
	metered0, clients0 := meteredBytes(r.metricsURL), cnt.snapshot()
	cpu0, _, err := treeUsage(pid)
	if err != nil {
		return row, err
	}
	start := time.Now()
	publishIdle(ctx, c, onShard, pushers, r.addr, &cnt)
	wall := time.Since(start).Seconds()
	cpu1, peak, err := treeUsage(pid)
	if err != nil {
		return row, err
	}
	_, mem, _ := procMem(pid)
	bytes1, err := tcpBytes(pid, r)
	if err != nil {
		return row, err
	}
	metered1, clients1 := meteredBytes(r.metricsURL), cnt.snapshot()
	in, out := bytes1.since(bytes0)
	row.Conns, row.Cores, row.RSSKB, row.PeakKB = len(bytes1), (cpu1-cpu0).Seconds()/wall, mem["VmRSS:"], peak
	row.In, row.Out = float64(in)/wall, float64(out)/wall
	row.Published = float64(cnt.published.Load()) / wall
	row.Failures = cnt.report()
	if metered1.ok {
		row.HasRelay = true
		row.GossipIn, row.GossipOt = (metered1.ctlIn-metered0.ctlIn)/wall, (metered1.ctlOut-metered0.ctlOut)/wall
		row.PayloadIn = (metered1.pubIn - metered0.pubIn + clients1[0] - clients0[0]) / wall
		row.PayloadOut = (metered1.pubOut - metered0.pubOut + clients1[1] - clients0[1]) / wall
	}
	if metered1.svcOK {
		row.HasService = true
		row.ServiceIn = max(0, metered1.svcIn-metered0.svcIn-(clients1[0]-clients0[0])) / wall
		row.ServiceOut = max(0, metered1.svcOut-metered0.svcOut-(clients1[1]-clients0[1])) / wall
	}
	return row, nil
}

// idlePeerConfig is an in-process loopback peer of cluster 16 with quiet logs.
func idlePeerConfig(dir string, shards int) node.Config {
	cfg := node.DefaultConfig()
	cfg.NumShardsInNetwork = uint16(shards)
	cfg.DataDir, cfg.ListenAddress, cfg.TCPPort, cfg.ClusterID = dir, "127.0.0.1", 0, 16
	cfg.Discovery.IPColocationLimit = 0
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

func startConnected(ctx context.Context, cfg node.Config, addr multiaddr.Multiaddr) (*node.Node, error) {
	n, err := node.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := n.Start(ctx); err != nil {
		return nil, err
	}
	if err := n.Connect(ctx, addr); err != nil {
		_ = n.Stop()
		return nil, err
	}
	return n, nil
}

// publishIdle publishes c.Rate msg/s for c.Dur, round robin over the shards: four in five by a
// relay peer on the shard, one in five by a lightpush client (v3, or v2 for go-waku).
func publishIdle(ctx context.Context, c idleConfig, onShard [][]*node.Node, pushers []*node.Node, addr multiaddr.Multiaddr, cnt *idleCounters) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / c.Rate))
	defer tick.Stop()
	end := time.After(c.Dur)
	legacy := false
	for k := 0; ; k++ {
		select {
		case <-tick.C:
		case <-end:
			return
		case <-ctx.Done():
			return
		}
		s := k % c.Shards
		ts := time.Now().UnixNano()
		m := &pb.WakuMessage{Payload: make([]byte, c.Size), ContentTopic: shardContent(s), Timestamp: &ts}
		var err error
		if len(pushers) > 0 && k%5 == 4 {
			p := pushers[(k/5)%len(pushers)]
			if _, err = p.Lightpush().Publish(ctx, addr, shardTopic(s), m, legacy); err != nil && !legacy {
				legacy = true // go-waku v0.10 serves lightpush v2 only
				_, err = p.Lightpush().Publish(ctx, addr, shardTopic(s), m, legacy)
			}
			if err != nil {
				cnt.failed("lightpush", err)
				continue
			}
			cnt.pushIn.Add(int64(proto.Size(m)))
		} else {
			on := onShard[s]
			if _, err = on[(k/c.Shards)%len(on)].Publish(ctx, shardTopic(s), m); err != nil {
				cnt.failed("relay publish", err)
				continue
			}
		}
		cnt.published.Add(1)
	}
}

// queryLoop asks the node for the last 20 messages of one shard's content topic every
// c.StoreEvery (store v3, or legacy v2 for go-waku, which serves no v3).
func queryLoop(ctx context.Context, n *node.Node, addr multiaddr.Multiaddr, i int, c idleConfig, cnt *idleCounters) {
	t := time.NewTicker(c.StoreEvery)
	defer t.Stop()
	legacy := false
	for k := i; ; k++ {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		s := k % c.Shards
		var msgs []*pb.WakuMessage
		if !legacy {
			resp, err := n.Store().Query(ctx, addr, &storepb.StoreQueryRequest{RequestId: fmt.Sprint(k), IncludeData: true,
				PubsubTopic: proto.String(shardTopic(s)), ContentTopics: []string{shardContent(s)}, PaginationLimit: proto.Uint64(20)})
			if err != nil {
				cnt.failed("store query", fmt.Errorf("v3 (falling back to legacy v2): %w", err))
				legacy = true
				continue
			}
			for _, m := range resp.GetMessages() {
				msgs = append(msgs, m.GetMessage())
			}
		} else {
			resp, err := n.Store().LegacyQuery(ctx, addr, &storepb.HistoryQuery{PubsubTopic: proto.String(shardTopic(s)),
				ContentFilters: []*storepb.ContentFilter{{ContentTopic: shardContent(s)}},
				PagingInfo:     &storepb.PagingInfo{PageSize: proto.Uint64(20)}})
			if err != nil {
				cnt.failed("store query", err)
				continue
			}
			msgs = resp.GetMessages()
		}
		for _, m := range msgs {
			cnt.storeOut.Add(int64(proto.Size(m)))
		}
	}
}

// nodeENR reads the node's ENR from /debug/v1/info.
func nodeENR(rest string) (string, error) {
	var info struct {
		ENR string `json:"enrUri"`
	}
	body := scrape(rest + "/debug/v1/info")
	if err := jsonDecode(strings.NewReader(body), &info); err != nil || info.ENR == "" {
		return "", fmt.Errorf("no ENR in /debug/v1/info: %v", err)
	}
	return info.ENR, nil
}

// meteredCounters are the byte counters the node exports: its gross relay bytes split into
// publish entries (the per-topic series) and everything else in the RPCs (the topic="" series:
// subscriptions, control, framing), and the bytes on every other protocol's streams (svc).
type meteredCounters struct {
	ok, svcOK                    bool
	pubIn, pubOut, ctlIn, ctlOut float64
	svcIn, svcOut                float64
}

func meteredBytes(metricsURL string) meteredCounters {
	body := scrape(metricsURL)
	const name = "waku_relay_network_bytes_total"
	gross := func(dir string) (all, ctl float64) {
		return sumSeries(body, name, `type="gross"`, `direction="`+dir+`"`), sumSeries(body, name, `type="gross"`, `direction="`+dir+`"`, `topic=""`)
	}
	var c meteredCounters
	_, _, c.ok = relayBytes(metricsURL)
	inAll, inCtl := gross("in")
	outAll, outCtl := gross("out")
	c.pubIn, c.ctlIn, c.pubOut, c.ctlOut = inAll-inCtl, inCtl, outAll-outCtl, outCtl
	const svc = "waku_service_network_bytes_total"
	c.svcOK = strings.Contains(body, svc+"{")
	c.svcIn, c.svcOut = sumSeries(body, svc, `direction="in"`), sumSeries(body, svc, `direction="out"`)
	return c
}
