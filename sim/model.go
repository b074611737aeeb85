package sim

// BandwidthModel turns a measured amplification into a full node's bandwidth for a user base.
type BandwidthModel struct {
	// BytesPerUserDay is what one daily active user publishes per day (default 2,160,000:
	// 216 messages of 10 kB, the traffic that reproduces the plan's 50 Mbps at 10k DAU with
	// amplification 25).
	BytesPerUserDay float64
	// Peak is the ratio of peak-hour to mean traffic (default 1: the daily mean).
	Peak float64
}

// Mbps is the bandwidth received by one full node relaying shardsRelayed of shards equally
// loaded shards, when dau users publish and every unique byte costs amplification bytes.
func (m BandwidthModel) Mbps(dau, amplification float64, shards, shardsRelayed int) float64 {
	if m.BytesPerUserDay <= 0 {
		m.BytesPerUserDay = 2_160_000
	}
	if m.Peak <= 0 {
		m.Peak = 1
	}
	if shards <= 0 {
		shards = 1
	}
	shardsRelayed = min(max(shardsRelayed, 1), shards)
	unique := dau * m.BytesPerUserDay / 86400 * 8 / 1e6 * m.Peak // Mbit/s, network-wide
	return unique * amplification * float64(shardsRelayed) / float64(shards)
}
