package ratelimit

import (
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want Settings
	}{
		{"none", nil, Settings{Global: Unlimited, Filter: DefaultFilter}},
		{"global", []string{"100/1s"}, Settings{Global: {100, time.Second}, Filter: DefaultFilter}},
		{"explicit global", []string{"global:5/2m"}, Settings{Global: {5, 2 * time.Minute}, Filter: DefaultFilter}},
		{"units", []string{"lightpush:10/1m", "px:3/500ms", "filter:7/2h", "storev3:1/3s"}, Settings{
			Global: Unlimited, Lightpush: {10, time.Minute}, PeerExchange: {3, 500 * time.Millisecond},
			Filter: {7, 2 * time.Hour}, StoreV3: {1, 3 * time.Second}}},
		{"store fills both", []string{"store:100/1s"}, Settings{Global: Unlimited, Filter: DefaultFilter,
			StoreV2: {100, time.Second}, StoreV3: {100, time.Second}}},
		{"specific store wins before", []string{"storev2:5/1s", "store:100/1s"}, Settings{Global: Unlimited, Filter: DefaultFilter,
			StoreV2: {5, time.Second}, StoreV3: {100, time.Second}}},
		{"specific store wins after", []string{"store:100/1s", "storev3:5/1s"}, Settings{Global: Unlimited, Filter: DefaultFilter,
			StoreV2: {100, time.Second}, StoreV3: {5, time.Second}}},
		{"last wins", []string{"lightpush:1/1s", "lightpush:2/1s"}, Settings{Global: Unlimited, Filter: DefaultFilter,
			Lightpush: {2, time.Second}}},
		{"spaces and case", []string{"  LightPush : 10 / 1 M "}, Settings{Global: Unlimited, Filter: DefaultFilter,
			Lightpush: {10, time.Minute}}},
		{"zero is unlimited", []string{"filter:0/1s"}, Settings{Global: Unlimited, Filter: {0, time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for p, w := range tt.want {
				if got[p] != w {
					t.Errorf("%s: got %v, want %v", p, got[p], w)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, wantSub string }{
		{"foo:10/1s", `unknown protocol "foo"`},
		{"relay:10/1s", `unknown protocol "relay"`},
		{"10/1d", "invalid rate-limit setting"},
		{"10/s", "invalid rate-limit setting"},
		{"-1/1s", "invalid rate-limit setting"},
		{"lightpush:10", "invalid rate-limit setting"},
		{"", "invalid rate-limit setting"},
		{"99999999999999999999/1s", "out of range"},
		{"1/9999999999999h", "out of range"},
	}
	for _, tt := range tests {
		_, err := Parse([]string{"filter:1/1s", tt.in})
		if err == nil || !strings.Contains(err.Error(), tt.wantSub) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tt.in, err, tt.wantSub)
		}
	}
}

func TestFor(t *testing.T) {
	s, _ := Parse([]string{"20/1m", "lightpush:5/1s"})
	if got := s.For(Lightpush); got != (Setting{5, time.Second}) {
		t.Errorf("lightpush: %v", got)
	}
	if got := s.For(StoreV3); got != (Setting{20, time.Minute}) {
		t.Errorf("storev3 should fall back to global: %v", got)
	}
	if got := (Settings{}).For(PeerExchange); !got.IsUnlimited() {
		t.Errorf("empty settings: %v", got)
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestLimiter(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := NewLimiter(Setting{Volume: 3, Period: 3 * time.Second}, clk.now)
	a, b := peer.ID("a"), peer.ID("b")
	for i := 0; i < 3; i++ {
		if !l.Allow(a) {
			t.Fatalf("request %d of a rejected", i)
		}
	}
	if l.Allow(a) {
		t.Fatal("4th request of a within the period allowed")
	}
	if !l.Allow(b) {
		t.Fatal("b limited by a's usage")
	}
	// nwaku refills once per period, not continuously: a third of the period brings nothing.
	clk.t = clk.t.Add(time.Second)
	if l.Allow(a) {
		t.Fatal("a refilled before the period was over")
	}
	clk.t = clk.t.Add(2*time.Second - time.Nanosecond)
	if l.Allow(a) {
		t.Fatal("a refilled a nanosecond before the period was over")
	}
	// At the boundary the whole volume is back.
	clk.t = clk.t.Add(time.Nanosecond)
	for i := 0; i < 3; i++ {
		if !l.Allow(a) {
			t.Fatalf("request %d of the new period rejected", i)
		}
	}
	if l.Allow(a) {
		t.Fatal("more than the volume in the new period")
	}
}

func TestLimiterForgetsIdlePeers(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := NewLimiter(Setting{Volume: 1, Period: time.Second}, clk.now)
	for i := 0; i < 100; i++ {
		l.Allow(peer.ID(rune('A' + i)))
	}
	if l.Len() != 100 {
		t.Fatalf("remembered %d peers, want 100", l.Len())
	}
	clk.t = clk.t.Add(time.Second)
	if !l.Allow("fresh") {
		t.Fatal("fresh peer rejected")
	}
	if l.Len() != 1 {
		t.Fatalf("after a period remembered %d peers, want 1", l.Len())
	}
	// A forgotten peer starts with a full bucket, as it would have anyway.
	if !l.Allow(peer.ID(rune('A'))) {
		t.Fatal("idle peer rejected")
	}
}

func TestLimiterUnlimited(t *testing.T) {
	var nilL *Limiter
	l := NewLimiter(Unlimited, nil)
	for i := 0; i < 1000; i++ {
		if !nilL.Allow("a") || !l.Allow("a") {
			t.Fatal("unlimited limiter rejected")
		}
	}
	if l.Len() != 0 {
		t.Fatal("unlimited limiter keeps state")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"store:100/1s", "10/1m", "px:1/500ms", "x:1/1h", " 1 / 1 s "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse([]string{s})
		if err != nil {
			return
		}
		for p, v := range got {
			if v.Volume < 0 || v.Period < 0 {
				t.Fatalf("%s: negative setting %v", p, v)
			}
		}
	})
}
