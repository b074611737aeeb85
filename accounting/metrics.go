package accounting

import "github.com/prometheus/client_golang/prometheus"

// Metrics are nwaku's waku_swap_* names (shared by package swap) plus the ledger's own.
// A nil *Metrics records nothing.
type Metrics struct {
	Peers     prometheus.Gauge       // waku_swap_peers_count
	Errors    *prometheus.GaugeVec   // waku_swap_errors{type} (nwaku made it a gauge)
	Messages  *prometheus.GaugeVec   // waku_swap_messages{type}
	Balance   prometheus.Histogram   // waku_peer_swap_account_balance
	Units     *prometheus.CounterVec // waku_accounting_units_total{service,direction}
	Untracked *prometheus.CounterVec // waku_accounting_untracked_total{service}
	Refused   *prometheus.CounterVec // waku_accounting_refused_total{service}
	Cheques   *prometheus.CounterVec // waku_swap_cheques_total{direction,result}

	units [numServices][2]prometheus.Counter // resolved children: no label lookup on the hot path
}

// NewMetrics registers the collectors with reg (nil = not registered, e.g. tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Peers: prometheus.NewGauge(prometheus.GaugeOpts{Name: "waku_swap_peers_count", Help: "Peers with an accounting record."}),
		Errors: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "waku_swap_errors", Help: "Swap errors by type."},
			[]string{"type"}),
		Messages: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "waku_swap_messages", Help: "Swap messages by type."},
			[]string{"type"}),
		Balance: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "waku_peer_swap_account_balance",
			Help: "Peer balances observed at settlement.", Buckets: []float64{-200, -150, -100, -50, 0, 50, 100, 150, 200}}),
		Units: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_accounting_units_total",
			Help: "Units accounted, by service and direction (served = debited to a peer, consumed = credited)."},
			[]string{"service", "direction"}),
		Untracked: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_accounting_untracked_total",
			Help: "Bookings dropped because the ledger was full."}, []string{"service"}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_accounting_refused_total",
			Help: "Requests refused because the peer is past the disconnect threshold."}, []string{"service"}),
		Cheques: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waku_swap_cheques_total",
			Help: "Cheques by direction and result."}, []string{"direction", "result"}),
	}
	for _, s := range Services {
		m.units[s][0] = m.Units.WithLabelValues(s.String(), "consumed")
		m.units[s][1] = m.Units.WithLabelValues(s.String(), "served")
	}
	if reg != nil {
		reg.MustRegister(m.Peers, m.Errors, m.Messages, m.Balance, m.Units, m.Untracked, m.Refused, m.Cheques)
	}
	return m
}

func (m *Metrics) setPeers(n int64) {
	if m != nil {
		m.Peers.Set(float64(n))
	}
}

func (m *Metrics) booked(s Service, debit bool, u int64) {
	if m == nil {
		return
	}
	i := 0
	if debit {
		i = 1
	}
	m.units[s][i].Add(float64(u))
}

func (m *Metrics) untracked(s Service) {
	if m != nil {
		m.Untracked.WithLabelValues(s.String()).Inc()
	}
}

func (m *Metrics) observeBalance(b int64) {
	if m != nil {
		m.Balance.Observe(float64(b))
	}
}

func (m *Metrics) refused(s Service) {
	if m != nil {
		m.Refused.WithLabelValues(s.String()).Inc()
	}
}

// SwapError counts a swap error of the given nwaku type (dial_failure, decode_rpc_failure, ...).
func (m *Metrics) SwapError(typ string) {
	if m != nil {
		m.Errors.WithLabelValues(typ).Inc()
	}
}

// Cheque counts a cheque sent or received with its result.
func (m *Metrics) Cheque(direction, result string) {
	if m != nil {
		m.Cheques.WithLabelValues(direction, result).Inc()
		if result == "accepted" {
			m.Messages.WithLabelValues("Cheque").Inc()
		}
	}
}
