package lograte

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestOncePerCausePerInterval(t *testing.T) {
	var buf bytes.Buffer
	dropped := 0
	h := New(slog.NewTextHandler(&buf, nil), time.Hour, func(string) { dropped++ })
	log := slog.New(h).With("component", "pubsub")
	for range 1000 {
		log.Warn("error bumping delivery tag", "err", "queue full")
	}
	log.Warn("another cause")
	log.Info("error bumping delivery tag") // another level: another cause
	if n := strings.Count(buf.String(), "error bumping delivery tag"); n != 2 {
		t.Fatalf("%d lines of one cause, want 1 per level:\n%s", n, buf.String())
	}
	if h.Dropped() != 999 || dropped != 999 {
		t.Fatalf("dropped %d (callback %d), want 999", h.Dropped(), dropped)
	}
	if !strings.Contains(buf.String(), "another cause") {
		t.Fatal("a second cause was suppressed")
	}
}

func TestSuppressedCountReported(t *testing.T) {
	var buf bytes.Buffer
	h := New(slog.NewTextHandler(&buf, nil), 20*time.Millisecond, nil)
	log := slog.New(h)
	for range 5 {
		log.Warn("queue full")
	}
	time.Sleep(30 * time.Millisecond) // let the interval pass
	log.Warn("queue full")
	if !strings.Contains(buf.String(), "suppressed=4") {
		t.Fatalf("no suppressed count:\n%s", buf.String())
	}
}

func TestDebugPassesThrough(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), time.Hour, nil))
	for range 3 {
		log.Debug("detail")
	}
	if n := strings.Count(buf.String(), "detail"); n != 3 {
		t.Fatalf("%d debug lines, want 3", n)
	}
}
