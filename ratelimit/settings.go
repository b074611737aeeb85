// Package ratelimit parses nwaku's --rate-limit settings and enforces them per peer.
package ratelimit

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Protocol names a rate-limited service as nwaku spells it in --rate-limit.
type Protocol string

// The protocols nwaku accepts. A setting without a protocol prefix is Global, the fallback for
// every protocol without its own setting.
const (
	Global       Protocol = "global"
	StoreV2      Protocol = "storev2"
	StoreV3      Protocol = "storev3"
	Lightpush    Protocol = "lightpush"
	PeerExchange Protocol = "px"
	Filter       Protocol = "filter"
)

// Setting allows Volume requests per Period. Volume <= 0 or Period <= 0 means unlimited.
type Setting struct {
	Volume int
	Period time.Duration
}

// Unlimited is the setting that never rejects.
var Unlimited = Setting{}

// DefaultFilter is nwaku's per-peer filter default (30 requests a minute): enough to set up a
// subscription and then ping every minute.
var DefaultFilter = Setting{Volume: 30, Period: time.Minute}

// IsUnlimited reports whether the setting never rejects.
func (s Setting) IsUnlimited() bool { return s.Volume <= 0 || s.Period <= 0 }

func (s Setting) String() string {
	if s.IsUnlimited() {
		return "no-limit"
	}
	return strconv.Itoa(s.Volume) + "/" + s.Period.String()
}

// Settings maps each protocol to its setting. Use For to read it with nwaku's fallbacks.
type Settings map[Protocol]Setting

// For returns the protocol's setting, else the global one, else Unlimited.
func (s Settings) For(p Protocol) Setting {
	if v, ok := s[p]; ok {
		return v
	}
	if v, ok := s[Global]; ok {
		return v
	}
	return Unlimited
}

// DefaultSettings is what nwaku runs with when --rate-limit is not given.
func DefaultSettings() Settings {
	return Settings{Global: Unlimited, Filter: DefaultFilter}
}

// settingRe is the accepted syntax: [protocol:]<count>/<period><unit>, whitespace tolerated
// around every part, case-insensitive. The protocol is matched loosely so that an unknown
// name gets its own error instead of "invalid syntax".
var settingRe = regexp.MustCompile(`^\s*(?:([a-z0-9_-]+)\s*:)?\s*(\d+)\s*/\s*(\d+)\s*(ms|s|m|h)\s*$`)

// Parse reads --rate-limit values the way nwaku does: "store" sets storev2 and storev3 unless
// they are given on their own (in any order); otherwise the last value for a protocol wins.
// Global defaults to Unlimited and Filter to DefaultFilter when not given.
// "global:" is accepted as an explicit prefix too (nwaku only takes the bare form).
func Parse(values []string) (Settings, error) {
	out := Settings{}
	var store *Setting
	for _, v := range values {
		m := settingRe.FindStringSubmatch(strings.ToLower(v))
		if m == nil {
			return nil, fmt.Errorf("invalid rate-limit setting %q: want [protocol:]<count>/<period><unit> with unit ms, s, m or h", v)
		}
		vol, err1 := strconv.Atoi(m[2])
		n, err2 := strconv.ParseInt(m[3], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("invalid rate-limit setting %q: number out of range", v)
		}
		unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour}[m[4]]
		if n > int64(1<<62)/int64(unit) {
			return nil, fmt.Errorf("invalid rate-limit setting %q: period out of range", v)
		}
		s := Setting{Volume: vol, Period: time.Duration(n) * unit}
		switch p := Protocol(m[1]); p {
		case "":
			out[Global] = s
		case "store":
			store = &s
		case Global, StoreV2, StoreV3, Lightpush, PeerExchange, Filter:
			out[p] = s
		default:
			return nil, fmt.Errorf("invalid rate-limit setting %q: unknown protocol %q (want store, storev2, storev3, lightpush, px or filter)", v, m[1])
		}
	}
	if store != nil {
		for _, p := range []Protocol{StoreV2, StoreV3} {
			if _, ok := out[p]; !ok {
				out[p] = *store
			}
		}
	}
	if _, ok := out[Global]; !ok {
		out[Global] = Unlimited
	}
	if _, ok := out[Filter]; !ok {
		out[Filter] = DefaultFilter
	}
	return out, nil
}
