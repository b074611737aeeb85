package metrics

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	libp2pmetrics "github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"
)

// maxServiceLabels bounds the service label values. A stream's protocol is one the node
// handles or opened, so the set is small; the bound holds whatever libp2p reports.
const maxServiceLabels = 64

// ServiceBytes returns the swarm's bandwidth reporter. It counts the bytes read and written on
// the streams of every protocol but relay (which waku_relay_network_bytes_total counts) and
// exports them as nwaku's waku_service_network_bytes_total{service, direction}, the service
// being the protocol ID as in nwaku. Bytes read before a stream's protocol is negotiated
// (multistream-select) are not counted, nor is Noise and yamux framing; per-peer figures are
// not kept.
func (r *Registry) ServiceBytes() libp2pmetrics.Reporter {
	s := &serviceBytes{desc: prometheus.NewDesc("waku_service_network_bytes_total",
		"Bytes on the streams of each service protocol (every protocol but relay), by direction.",
		[]string{"service", "direction"}, nil)}
	r.reg.MustRegister(s)
	return s
}

type serviceBytes struct {
	desc     *prometheus.Desc
	counters sync.Map // protocol.ID -> *streamBytes; a nil entry is not counted
	mu       sync.Mutex
	labels   int
}

type streamBytes struct{ in, out atomic.Int64 }

func (s *serviceBytes) LogSentMessage(int64) {}
func (s *serviceBytes) LogRecvMessage(int64) {}

func (s *serviceBytes) LogSentMessageStream(n int64, p protocol.ID, _ peer.ID) {
	if c := s.of(p); c != nil {
		c.out.Add(n)
	}
}

func (s *serviceBytes) LogRecvMessageStream(n int64, p protocol.ID, _ peer.ID) {
	if c := s.of(p); c != nil {
		c.in.Add(n)
	}
}

// of returns p's counts, created on first use; nil for relay (remembered, as relay's streams
// are the hot path), for a stream still negotiating (protocol ""), and past maxServiceLabels.
func (s *serviceBytes) of(p protocol.ID) *streamBytes {
	if v, ok := s.counters.Load(p); ok {
		return v.(*streamBytes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.counters.Load(p); ok {
		return v.(*streamBytes)
	}
	if p == "" || isRelayProtocol(p) {
		s.counters.Store(p, (*streamBytes)(nil))
		return nil
	}
	if s.labels >= maxServiceLabels {
		return nil
	}
	s.labels++
	c := &streamBytes{}
	s.counters.Store(p, c)
	return c
}

// isRelayProtocol matches Waku relay and the gossipsub IDs it also speaks.
func isRelayProtocol(p protocol.ID) bool {
	return strings.HasPrefix(string(p), "/vac/waku/relay/") || strings.HasPrefix(string(p), "/meshsub/")
}

func (s *serviceBytes) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

func (s *serviceBytes) Collect(ch chan<- prometheus.Metric) {
	for p, st := range s.GetBandwidthByProtocol() {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.CounterValue, float64(st.TotalIn), string(p), "in")
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.CounterValue, float64(st.TotalOut), string(p), "out")
	}
}

func (s *serviceBytes) GetBandwidthByProtocol() map[protocol.ID]libp2pmetrics.Stats {
	out := make(map[protocol.ID]libp2pmetrics.Stats)
	s.counters.Range(func(k, v any) bool {
		if c := v.(*streamBytes); c != nil {
			out[k.(protocol.ID)] = libp2pmetrics.Stats{TotalIn: c.in.Load(), TotalOut: c.out.Load()}
		}
		return true
	})
	return out
}

func (s *serviceBytes) GetBandwidthForProtocol(p protocol.ID) libp2pmetrics.Stats {
	return s.GetBandwidthByProtocol()[p]
}

func (s *serviceBytes) GetBandwidthTotals() libp2pmetrics.Stats {
	var t libp2pmetrics.Stats
	for _, st := range s.GetBandwidthByProtocol() {
		t.TotalIn += st.TotalIn
		t.TotalOut += st.TotalOut
	}
	return t
}

// Per-peer figures are not kept: a map per peer is what this reporter avoids.
func (s *serviceBytes) GetBandwidthForPeer(peer.ID) libp2pmetrics.Stats { return libp2pmetrics.Stats{} }
func (s *serviceBytes) GetBandwidthByPeer() map[peer.ID]libp2pmetrics.Stats {
	return map[peer.ID]libp2pmetrics.Stats{}
}

// Reset and TrimIdle do nothing: the counts are Prometheus counters and only rise.
func (s *serviceBytes) Reset()             {}
func (s *serviceBytes) TrimIdle(time.Time) {}
