package backoff

import (
	"testing"
	"time"
)

func TestScheduleGrowsWithJitterWithinBounds(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, 2 * time.Second
	f := NewFactory(lo, hi)
	s := f()
	if d := s.Delay(); d != lo {
		t.Fatalf("first wait %v, want %v", d, lo)
	}
	for n := 1; n < 12; n++ {
		ceil := min(lo<<n, hi)
		if d := s.Delay(); d < lo || d > ceil {
			t.Fatalf("wait %d = %v, want within [%v, %v]", n, d, lo, ceil)
		}
	}
	// Jitter: many schedules at the same attempt do not all wait the same.
	seen := map[time.Duration]bool{}
	for i := 0; i < 20; i++ {
		s := f()
		for j := 0; j < 5; j++ {
			s.Delay()
		}
		seen[s.Delay()] = true
	}
	if len(seen) < 2 {
		t.Fatalf("20 schedules all waited %v: no jitter", seen)
	}
	s.Reset()
	if d := s.Delay(); d != lo {
		t.Fatalf("after Reset %v, want %v", d, lo)
	}
}
