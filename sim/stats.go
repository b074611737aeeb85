package sim

import (
	"math"
	"slices"
	"time"
)

// Percentile is the nearest-rank q-quantile (0 < q <= 1) of xs; 0 for no data. xs is not modified.
func Percentile(xs []time.Duration, q float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// Mean of xs; 0 for no data.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// MaxOf xs; 0 for no data.
func MaxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return slices.Max(xs)
}

// CDFPoint is one step of an empirical CDF: the share of samples <= X.
type CDFPoint struct {
	X float64 `json:"x"`
	P float64 `json:"p"`
}

// CDF reduces xs (in milliseconds) to at most points steps of the empirical CDF.
func CDF(xs []time.Duration, points int) []CDFPoint {
	if len(xs) == 0 || points <= 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	step := max(1, len(s)/points)
	var out []CDFPoint
	for i := step - 1; i < len(s); i += step {
		out = append(out, CDFPoint{X: ms(s[i]), P: float64(i+1) / float64(len(s))})
	}
	if last := out[len(out)-1]; last.P < 1 {
		out = append(out, CDFPoint{X: ms(s[len(s)-1]), P: 1})
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ratio is a/b, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
