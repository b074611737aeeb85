package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/wakunode/wakunode/message/pb"
)

// Result is one run's measurements. Per-node figures are means over nodes unless named _max.
type Result struct {
	Nodes      int     `json:"nodes"`
	Degree     int     `json:"degree"`
	Router     string  `json:"router"`
	ParamsName string  `json:"params,omitempty"`
	D          int     `json:"D,omitempty"`
	Dlo        int     `json:"Dlo,omitempty"`
	Dhi        int     `json:"Dhi,omitempty"`
	Dlazy      int     `json:"Dlazy,omitempty"`
	IDontWant  bool    `json:"idontwant"`
	FloodPub   bool    `json:"flood_publish"`
	Shards     int     `json:"shards"`
	AllShards  bool    `json:"all_shards"`
	Messages   int     `json:"messages"`
	Size       int     `json:"size"`
	MsgBytes   int     `json:"message_bytes"` // encoded WakuMessage: the unit of amplification
	Rate       float64 `json:"rate"`
	LinkMs     float64 `json:"link_latency_ms"`
	Transport  string  `json:"transport"`
	Churn      float64 `json:"churn"`
	Loss       float64 `json:"loss"`
	Published  int     `json:"published"`

	// CopiesPerMessage: data copies received per unique message, before de-duplication.
	CopiesPerMessage float64 `json:"copies_per_message"`
	CopiesMax        float64 `json:"copies_max"`
	// Amplification: all relay bytes received (data + control) per unique message / MsgBytes.
	Amplification    float64 `json:"amplification"`
	AmplificationOut float64 `json:"amplification_out"`
	// ControlShare: control and framing bytes / all relay bytes, in and out.
	ControlShare float64 `json:"control_share"`
	// NodeLoad: bytes received per node per message published anywhere / MsgBytes. Equal to
	// Amplification with one shard; sharding divides it.
	NodeLoad float64 `json:"node_load"`
	// Wire*: bytes written on / read from each node's pubsub streams (wire.go), per node per
	// message published anywhere: means over nodes, and the busiest node's out. WireByKind
	// splits the mean out by category (WireKinds); WireControlShare is everything but publish.
	WireInPerMsg     float64            `json:"wire_in_bytes_per_msg"`
	WireOutPerMsg    float64            `json:"wire_out_bytes_per_msg"`
	WireOutMaxPerMsg float64            `json:"wire_out_max_bytes_per_msg"`
	WireControlShare float64            `json:"wire_control_share"`
	WireByKind       map[string]float64 `json:"wire_out_bytes_per_msg_by_kind"`
	// WireFramesOutPerMsg: RPC frames each node writes per published message (mean);
	// WireTCPOutPerMsg adds TransportOverhead per frame: an estimate of the bytes out on TCP
	// with Noise and yamux, which the meter does not see.
	WireFramesOutPerMsg float64 `json:"wire_frames_out_per_msg"`
	WireTCPOutPerMsg    float64 `json:"wire_tcp_out_bytes_per_msg_est"`
	BandwidthIn         float64 `json:"bandwidth_in_kbps"`
	BandwidthOut        float64 `json:"bandwidth_out_kbps"`
	DeliveryRatio       float64 `json:"delivery_ratio"`
	Expected            int     `json:"expected"`
	Delivered           int     `json:"delivered"`
	// Received counts every delivery the latencies are taken over: Delivered plus those to
	// receivers not expected (down around the publish, then caught up by gossip).
	Received   int     `json:"received"`
	LatencyP50 float64 `json:"latency_p50_ms"`
	LatencyP99 float64 `json:"latency_p99_ms"`
	LatencyMax float64 `json:"latency_max_ms"`
	MeshMean   float64 `json:"mesh_mean"`
	LostCopies int64   `json:"lost_copies"`
	Dropped    int64   `json:"dropped"`
	Restarts   int     `json:"restarts"`
	Seconds    float64 `json:"seconds"`
	TimedOut   bool    `json:"timed_out,omitempty"`

	Latencies []time.Duration `json:"-"`
}

type pubRecord struct {
	node  int
	topic string
	at    time.Time
}

// Run builds the network, publishes the load, waits for delivery (bounded by Drain and
// Timeout) and measures. It always stops by itself and leaves nothing running.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed))
	net, err := buildNet(cfg, rng)
	if err != nil {
		return nil, err
	}
	defer net.close()
	if err := net.start(ctx); err != nil {
		return nil, err
	}
	if err := sleep(ctx, cfg.Warmup); err != nil {
		return nil, fmt.Errorf("sim: warmup: %w", err)
	}

	interval := time.Duration(float64(time.Second) / cfg.Rate)
	pubPhase := time.Duration(cfg.Messages) * interval

	// Churn: each chosen node restarts once, at a random time in the publishing phase.
	var wg sync.WaitGroup
	errc := make(chan error, cfg.Nodes)
	churned := int(math.Round(cfg.Churn * float64(cfg.Nodes)))
	for _, i := range rng.Perm(cfg.Nodes)[:churned] {
		delay := time.Duration(rng.Int64N(int64(max(pubPhase-cfg.ChurnDowntime, time.Millisecond))))
		sn := net.nodes[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sleep(ctx, delay) != nil {
				return
			}
			if err := net.restart(ctx, sn); err != nil && ctx.Err() == nil {
				errc <- err
			}
		}()
	}

	pubs, msgBytes, perr := publish(ctx, net, rng, interval)
	wg.Wait()
	close(errc)
	if perr != nil {
		return nil, perr
	}
	if err := <-errc; err != nil {
		return nil, err
	}
	res := &Result{}
	// Drain: until every expected receiver has every message, or Drain passes.
	deadline := time.Now().Add(cfg.Drain)
	for {
		exp, got := net.delivery(pubs)
		if got == exp || time.Now().After(deadline) || ctx.Err() != nil {
			res.TimedOut = ctx.Err() != nil
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	net.measure(res, pubs, msgBytes, churned, pubPhase)
	res.Seconds = time.Since(began).Seconds()
	return res, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publish sends cfg.Messages messages, one per interval, each from a random node that is up,
// on one of its shards.
func publish(ctx context.Context, net *simNet, rng *rand.Rand, interval time.Duration) ([]pubRecord, int, error) {
	cfg := net.cfg
	pubs := make([]pubRecord, 0, cfg.Messages)
	msgBytes := 0
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 0; i < cfg.Messages; i++ {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return pubs, msgBytes, nil // timed out: measure what we have
		}
		var sn *simNode
		for tries := 0; tries < 10*cfg.Nodes; tries++ {
			c := net.nodes[rng.IntN(cfg.Nodes)]
			if net.isUp(c.idx) && c.relay() != nil {
				sn = c
				break
			}
		}
		if sn == nil {
			return nil, 0, fmt.Errorf("sim: no node up to publish message %d", i)
		}
		topic := sn.shards[rng.IntN(len(sn.shards))]
		now := time.Now()
		ts := now.UnixNano()
		m := &pb.WakuMessage{Payload: Payload(i, cfg.Size), ContentTopic: "/wakusim/1/load/proto", Timestamp: &ts}
		sn.recv.MarkOwn(i)
		net.clock.Published(i, now)
		env, err := sn.relay().Publish(ctx, topic, m)
		if err != nil {
			// A node restarting under us: the message never left; nobody expects it.
			if ctx.Err() != nil {
				return pubs, msgBytes, nil
			}
			cfg.Logger.Warn("publish failed", "node", sn.idx, "err", err)
			pubs = append(pubs, pubRecord{node: -1})
			continue
		}
		msgBytes = len(env.Raw)
		pubs = append(pubs, pubRecord{node: sn.idx, topic: topic, at: now})
	}
	return pubs, msgBytes, nil
}

// expected reports whether node v should have message p: it relays p's shard, did not
// publish it, and was up from RejoinGrace before the publish until Settle after it.
func (n *simNet) expected(v *simNode, p pubRecord) bool {
	if p.node < 0 || p.node == v.idx {
		return false
	}
	on := false
	for _, t := range v.shards {
		on = on || t == p.topic
	}
	return on && !v.downDuring(p.at.Add(-n.cfg.RejoinGrace), p.at.Add(n.cfg.Settle))
}

func (n *simNet) delivery(pubs []pubRecord) (expected, delivered int) {
	for i, p := range pubs {
		for _, v := range n.nodes {
			if n.expected(v, p) {
				expected++
				if v.recv.Has(i) {
					delivered++
				}
			}
		}
	}
	return expected, delivered
}

func (n *simNet) measure(res *Result, pubs []pubRecord, msgBytes, restarts int, pubPhase time.Duration) {
	n.gate.close() // the byte meters stop here, on every node at once
	cfg := n.cfg
	*res = Result{
		Nodes: cfg.Nodes, Degree: cfg.Degree, Router: cfg.Router, Shards: cfg.Shards, AllShards: cfg.AllShards,
		Messages: cfg.Messages, Size: cfg.Size, MsgBytes: msgBytes, Rate: cfg.Rate, LinkMs: ms(cfg.Latency),
		Transport: cfg.Transport, Churn: cfg.Churn, Loss: cfg.Loss, Restarts: restarts, TimedOut: res.TimedOut,
	}
	if cfg.Router == RouterGossip {
		p := cfg.Params
		res.ParamsName, res.D, res.Dlo, res.Dhi, res.Dlazy = cfg.ParamsName, p.D, p.Dlo, p.Dhi, p.Dlazy
		res.IDontWant, res.FloodPub = p.IDontWant, p.FloodPublish
	}
	for _, p := range pubs {
		if p.node >= 0 {
			res.Published++
		}
	}
	res.Expected, res.Delivered = n.delivery(pubs)
	res.DeliveryRatio = ratio(float64(res.Delivered), float64(res.Expected))

	var copies, ampIn, ampOut, load, bwIn, bwOut, mesh []float64
	var ctrl, total float64
	var wireIn, wireOut, framesOut []float64
	byKind := make([]float64, len(WireKinds))
	var wirePub, wireAll float64
	nPub := float64(res.Published)
	secs := pubPhase.Seconds()
	for _, sn := range n.nodes {
		t := sn.traffic
		u := float64(sn.recv.Unique())
		copies = append(copies, ratio(float64(t.DataInCopies.Load()), u))
		ampIn = append(ampIn, ratio(float64(t.BytesIn()), u*float64(msgBytes)))
		ampOut = append(ampOut, ratio(float64(t.BytesOut()), u*float64(msgBytes)))
		load = append(load, ratio(float64(t.BytesIn()), float64(res.Published*msgBytes)))
		bwIn = append(bwIn, ratio(float64(t.BytesIn())*8/1000, secs))
		bwOut = append(bwOut, ratio(float64(t.BytesOut())*8/1000, secs))
		ctrl += float64(t.CtrlInBytes.Load() + t.CtrlOutBytes.Load())
		total += float64(t.BytesIn() + t.BytesOut())
		res.Dropped += t.Dropped.Load()
		w := sn.wire
		wireIn = append(wireIn, ratio(float64(w.TotalIn()), nPub))
		wireOut = append(wireOut, ratio(float64(w.TotalOut()), nPub))
		framesOut = append(framesOut, ratio(float64(w.FramesOut()), nPub))
		for k, kind := range WireKinds {
			byKind[k] += ratio(float64(w.Out(kind)), nPub) / float64(len(n.nodes))
		}
		wirePub += float64(w.In(WirePublish) + w.Out(WirePublish))
		wireAll += float64(w.TotalIn() + w.TotalOut())
		res.Latencies = append(res.Latencies, sn.recv.Latencies()...)
		if r := sn.relay(); r != nil && cfg.Router == RouterGossip {
			for _, topic := range sn.shards {
				mesh = append(mesh, float64(len(r.MeshPeers(topic))))
			}
		}
		if lh, ok := sn.h.(*lossyHost); ok {
			lh.mu.Lock()
			res.LostCopies += *lh.lost
			lh.mu.Unlock()
		}
	}
	res.CopiesPerMessage, res.CopiesMax = Mean(copies), MaxOf(copies)
	res.Amplification, res.AmplificationOut = Mean(ampIn), Mean(ampOut)
	res.NodeLoad, res.BandwidthIn, res.BandwidthOut = Mean(load), Mean(bwIn), Mean(bwOut)
	res.ControlShare = ratio(ctrl, total)
	res.WireInPerMsg, res.WireOutPerMsg, res.WireOutMaxPerMsg = Mean(wireIn), Mean(wireOut), MaxOf(wireOut)
	res.WireControlShare = ratio(wireAll-wirePub, wireAll)
	res.WireFramesOutPerMsg = Mean(framesOut)
	res.WireTCPOutPerMsg = res.WireOutPerMsg + TransportOverhead*res.WireFramesOutPerMsg
	res.WireByKind = map[string]float64{}
	for k, kind := range WireKinds {
		res.WireByKind[kind] = byKind[k]
	}
	res.MeshMean = Mean(mesh)
	res.Received = len(res.Latencies)
	res.LatencyP50 = ms(Percentile(res.Latencies, 0.50))
	res.LatencyP99 = ms(Percentile(res.Latencies, 0.99))
	res.LatencyMax = ms(Percentile(res.Latencies, 1))
}
