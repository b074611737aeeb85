package sim

import (
	"math"
	"testing"
)

func TestBandwidthModel(t *testing.T) {
	var m BandwidthModel
	for _, c := range []struct {
		dau, ampl       float64
		shards, relayed int
		want            float64
	}{
		{10_000, 25, 1, 1, 50},    // the plan's figure
		{10_000, 1, 1, 1, 2},      // unique traffic only
		{100_000, 25, 1, 1, 500},  // linear in users
		{100_000, 25, 8, 1, 62.5}, // one of 8 shards
		{100_000, 25, 8, 8, 500},  // relaying all shards gains nothing
		{100_000, 25, 8, 20, 500}, // clamped to the shard count
		{1_000_000, 6, 64, 1, 18.75},
	} {
		if got := m.Mbps(c.dau, c.ampl, c.shards, c.relayed); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%+v: %v Mbps, want %v", c, got, c.want)
		}
	}
	if got := (BandwidthModel{Peak: 3}).Mbps(10_000, 25, 1, 1); math.Abs(got-150) > 1e-9 {
		t.Errorf("peak x3: %v", got)
	}
}
