package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
)

const (
	benchCluster      = 16
	benchTopic        = "/waku/2/rs/16/0"
	benchContentTopic = "/bench/1/fwd/proto"
)

// forward measures relay forwarding through the wakunode binary: an in-process publisher and
// receiver, each connected only to the node under test.
func forward(args []string) error {
	fs := flag.NewFlagSet("forward", flag.ExitOnError)
	bin := fs.String("bin", "./wakunode", "wakunode binary")
	sizes := fs.String("sizes", "1024,10240", "payload sizes in bytes")
	rates := fs.String("rates", "1000,2500,5000,7500,10000", "publish rates in msg/s")
	dur := fs.Duration("dur", 5*time.Second, "duration of each step")
	_ = fs.Parse(args)

	p, peers, cleanup, err := startRig(*bin, 2, "--metrics-server=true", "--metrics-server-port=0")
	if err != nil {
		return err
	}
	defer cleanup()
	metricsURL := "http://" + <-p.metrics + "/metrics"
	pub, recv := peers[0], peers[1]
	sub := recv.Subscribe(nil, 1<<20)
	defer sub.Close()
	deliveries := nodeDeliveries(sub)

	fmt.Println("| size | target msg/s | sent msg/s | delivered | lost | dropped by node | p50 | p99 | node CPU | node RSS (peak) |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var seq uint64
	for _, size := range ints(*sizes) {
		for _, rate := range ints(*rates) {
			cpu0, _, _, err := procStat(p.cmd.Process.Pid)
			if err != nil {
				return err
			}
			drops0 := counterSum(metricsURL, "waku_relay_dropped_messages_total")
			first := seq
			start := time.Now()
			sent := publishAt(nodePublisher(pub), rate, size, *dur, &seq)
			elapsed := time.Since(start)
			lat := collect(deliveries, first, seq, 3*time.Second)
			cpu1, rss, peak, _ := procStat(p.cmd.Process.Pid)
			slices.Sort(lat)
			drops := counterSum(metricsURL, "waku_relay_dropped_messages_total") - drops0
			fmt.Printf("| %d B | %d | %.0f | %d/%d | %d | %.0f | %s | %s | %.0f %% | %.0f MB (%.0f MB) |\n",
				size, rate, float64(sent)/elapsed.Seconds(), len(lat), sent, sent-len(lat), drops,
				pct(lat, 50), pct(lat, 99), 100*(cpu1-cpu0).Seconds()/elapsed.Seconds(), float64(rss)/1024, float64(peak)/1024)
		}
	}
	return nil
}

func peerNode(dir string) (*node.Node, error) { return peerNodeOn(dir, []uint16{0}) }

// peerNodeOn is an in-process loopback node of cluster 16 relaying shards.
func peerNodeOn(dir string, shards []uint16) (*node.Node, error) {
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.ListenAddress, cfg.TCPPort = dir, "127.0.0.1", 0
	cfg.ClusterID, cfg.Shards = benchCluster, shards
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.New(cfg)
	if err != nil {
		return nil, err
	}
	return n, n.Start(context.Background())
}

// startRig launches the node under test (cluster 16, shard 0, loopback only) with extra flags
// and n in-process peer nodes connected only to it, and waits a few heartbeats for the mesh.
// cleanup stops everything and removes the data directories.
func startRig(bin string, n int, extra ...string) (*nodeProc, []*node.Node, func(), error) {
	dir, rmdir, err := tempDir()
	if err != nil {
		return nil, nil, nil, err
	}
	var stops []func()
	cleanup := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		rmdir()
	}
	args := append([]string{"--cluster-id=16", "--shard=0", "--listen-address=127.0.0.1", "--nat=none", "--tcp-port=0",
		"--rest-port=0", "--data-dir=" + dir + "/dut", "--log-level=INFO"}, extra...)
	p, _, err := launch(bin, args...)
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	stops = append(stops, p.stop)
	dutAddr, err := listenAddr(p.rest)
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	var peers []*node.Node
	for i := range n {
		pn, err := peerNode(fmt.Sprintf("%s/peer%d", dir, i))
		if err != nil {
			cleanup()
			return nil, nil, nil, err
		}
		stops = append(stops, func() { _ = pn.Stop() })
		if err := pn.Connect(context.Background(), dutAddr); err != nil {
			cleanup()
			return nil, nil, nil, err
		}
		peers = append(peers, pn)
	}
	time.Sleep(3 * time.Second) // a few heartbeats for the mesh to form
	return p, peers, cleanup, nil
}

// publishAt sends at rate msg/s for d, in 1 ms ticks; the payload carries a sequence number.
func publishAt(send func(*pb.WakuMessage) error, rate, size int, d time.Duration, seq *uint64) int {
	payload := make([]byte, size)
	start := time.Now()
	sent := 0
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for now := range tick.C {
		el := now.Sub(start)
		if el >= d {
			break
		}
		for due := int(el.Seconds() * float64(rate)); sent < due; sent++ {
			p := slices.Clone(payload)
			binary.BigEndian.PutUint64(p, *seq)
			*seq++
			ts := time.Now().UnixNano()
			if err := send(&pb.WakuMessage{Payload: p, ContentTopic: benchContentTopic, Timestamp: &ts}); err != nil {
				fmt.Println("publish:", err)
			}
		}
	}
	return sent
}

// nodePublisher sends through a node's relay.
func nodePublisher(n *node.Node) func(*pb.WakuMessage) error {
	return func(m *pb.WakuMessage) error {
		_, err := n.Publish(context.Background(), benchTopic, m)
		return err
	}
}

// nodeDeliveries turns a node's subscription into deliveries, until it is closed.
func nodeDeliveries(sub *node.Subscription) <-chan delivery {
	ch := make(chan delivery, cap(sub.C))
	go func() {
		defer close(ch)
		for e := range sub.C {
			ch <- deliveryOf(e.Message, e.ReceivedAt)
		}
	}()
	return ch
}

// collect gathers latencies of messages [first, last) until all arrived or quiet passes.
func collect(deliveries <-chan delivery, first, last uint64, quiet time.Duration) []time.Duration {
	var lat []time.Duration
	seen := map[uint64]bool{}
	timer := time.NewTimer(quiet)
	defer timer.Stop()
	for uint64(len(seen)) < last-first {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return lat
			}
			if d.seq < first || d.seq >= last || seen[d.seq] {
				continue
			}
			seen[d.seq] = true
			lat = append(lat, d.lat)
			timer.Reset(quiet)
		case <-timer.C:
			return lat
		}
	}
	return lat
}

func pct(sorted []time.Duration, p int) string {
	if len(sorted) == 0 {
		return "-"
	}
	return sorted[(len(sorted)-1)*p/100].Round(10 * time.Microsecond).String()
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if v, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// listenAddr reads the node's first TCP listen address from /debug/v1/info.
func listenAddr(rest string) (multiaddr.Multiaddr, error) {
	resp, err := http.Get(rest + "/debug/v1/info")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var info struct {
		ListenAddresses []string `json:"listenAddresses"`
	}
	if err := jsonDecode(resp.Body, &info); err != nil || len(info.ListenAddresses) == 0 {
		return nil, fmt.Errorf("debug info: %v %v", err, info)
	}
	return multiaddr.NewMultiaddr(info.ListenAddresses[0])
}

// counterSum adds up every series of a counter on a Prometheus text endpoint.
func counterSum(url, name string) float64 { return sumSeries(scrape(url), name) }

// sumSeries adds up the series of a counter in Prometheus text whose labels contain every one
// of labels (e.g. `direction="in"`).
func sumSeries(body, name string, labels ...string) float64 {
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(line, l)
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); match && err == nil {
			sum += v
		}
	}
	return sum
}
