// Package lograte keeps a repeating log line from flooding the log: a slog.Handler that
// passes each cause (level and message) at most once per interval, counts the lines it drops,
// and reports on the next line of that cause how many were suppressed since.
package lograte

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// maxCauses bounds the per-cause state; messages are constants in code, so this is only a
// guard against a library that formats values into its messages.
const maxCauses = 1024

// Handler rate-limits records at or above Info per cause; Debug passes through (an operator
// who asks for debug gets everything).
type Handler struct {
	next  slog.Handler
	every time.Duration
	st    *state
}

type state struct {
	mu      sync.Mutex
	last    map[cause]*seen
	dropped atomic.Uint64
	onDrop  func(msg string)
}

type cause struct {
	level slog.Level
	msg   string
}

type seen struct {
	at         time.Time
	suppressed uint64
}

// New wraps next: each cause is logged at most once per every. onDrop (may be nil) is called
// for every dropped record, e.g. to count it in a metric.
func New(next slog.Handler, every time.Duration, onDrop func(msg string)) *Handler {
	return &Handler{next: next, every: every, st: &state{last: map[cause]*seen{}, onDrop: onDrop}}
}

// Dropped is the number of records suppressed so far.
func (h *Handler) Dropped() uint64 { return h.st.dropped.Load() }

func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return h.next.Handle(ctx, r)
	}
	c := cause{r.Level, r.Message}
	now := r.Time
	if now.IsZero() {
		now = time.Now()
	}
	h.st.mu.Lock()
	s := h.st.last[c]
	if s != nil && now.Sub(s.at) < h.every {
		s.suppressed++
		h.st.mu.Unlock()
		h.st.dropped.Add(1)
		if h.st.onDrop != nil {
			h.st.onDrop(r.Message)
		}
		return nil
	}
	var n uint64
	if s == nil {
		if len(h.st.last) >= maxCauses {
			clear(h.st.last)
		}
		s = &seen{}
		h.st.last[c] = s
	}
	n, s.at, s.suppressed = s.suppressed, now, 0
	h.st.mu.Unlock()
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Uint64("suppressed", n))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs and WithGroup share the rate state: a cause is one message however it is decorated.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(as), every: h.every, st: h.st}
}

func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), every: h.every, st: h.st}
}
