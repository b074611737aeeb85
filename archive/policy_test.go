package archive

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
)

// The storing rule is nwaku's archive validate(): refuse ephemeral messages and timestamps
// below now-20s or above now+20s (bounds accepted; a missing timestamp is 0, hence too old).
// Store resume (InsertHistorical) keeps its own rule: older is fine, future or missing is not.
func TestStoringRuleBoundaries(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		m := newCountMetrics()
		a := open(t, dbURL, func(c *Config) { c.Metrics = m })
		ctx := context.Background()
		now, v := testNow.UnixNano(), int64(MaxTimestampVariance)
		mk := func(ts int64, payload string) *message.Envelope {
			return env(t, "/waku/2/rs/1/0", "/app/1/policy/proto", ts, payload)
		}
		eph := mk(now, "ephemeral")
		eph.Message.Ephemeral = ptr(true)
		ephNoTS := mk(0, "ephemeral, no timestamp")
		ephNoTS.Message.Ephemeral = ptr(true)
		long := env(t, "/waku/2/rs/1/0", "/app/1/"+strings.Repeat("x", MaxContentTopicBytes-13)+"/proto", now, "longest topic")
		if n := len(long.Message.GetContentTopic()); n != MaxContentTopicBytes {
			t.Fatalf("topic of %d bytes", n)
		}
		var stored []*message.Envelope
		for _, tc := range []struct {
			name       string
			e          *message.Envelope
			live, hist error
		}{
			{"now", mk(now, "now"), nil, nil},
			{"exactly 20s ahead", mk(now+v, "+20s"), nil, nil},
			{"exactly 20s behind", mk(now-v, "-20s"), nil, nil},
			{"20s+1ns ahead", mk(now+v+1, "+20s+1"), ErrTimestamp, ErrTimestamp},
			{"20s+1ns behind", mk(now-v-1, "-20s-1"), ErrTimestamp, nil},
			{"a year behind", mk(now-int64(365*24*time.Hour), "old"), ErrTimestamp, nil},
			{"no timestamp", mk(0, "zero"), ErrTimestamp, ErrTimestamp},
			{"ephemeral", eph, ErrEphemeral, ErrEphemeral},
			{"ephemeral without timestamp", ephNoTS, ErrEphemeral, ErrEphemeral},
			{"NUL in content topic", env(t, "/waku/2/rs/1/0", "/app/1/a\x00b/proto", now, "nul"), ErrUnstorable, ErrUnstorable},
			{"content topic over 2048 bytes", env(t, "/waku/2/rs/1/0", long.Message.GetContentTopic()+"x", now, "too long"), ErrUnstorable, ErrUnstorable},
			{"content topic of 2048 bytes", long, nil, nil},
		} {
			if err := a.Insert(tc.e); !errors.Is(err, tc.live) {
				t.Errorf("Insert %s: %v, want %v", tc.name, err, tc.live)
			}
			if err := a.InsertHistorical(ctx, tc.e); !errors.Is(err, tc.hist) {
				t.Errorf("InsertHistorical %s: %v, want %v", tc.name, err, tc.hist)
			}
			if tc.live == nil || tc.hist == nil {
				stored = append(stored, tc.e)
			}
		}
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		p, err := a.Query(ctx, Query{Limit: 100, Forward: true})
		if err != nil || len(p.Entries) != len(stored) {
			t.Fatalf("stored %d (%v), want %d", len(p.Entries), err, len(stored))
		}
		if m.drops("timestamp") != 6 || m.drops("ephemeral") != 4 || m.drops("invalid") != 4 || a.Dropped() != 0 {
			t.Fatalf("refusals counted %v, Dropped %d", m.dropped, a.Dropped())
		}
	})
}
