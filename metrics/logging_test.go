package metrics

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestLogOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := New(reg, "v1")
	r.Relay().MessageAccepted("/waku/2/rs/0/0", 10)
	r.Relay().MessageAccepted("/waku/2/rs/0/1", 10)
	r.Relay().MessageRejected("/waku/2/rs/0/0", "invalid")
	var buf bytes.Buffer
	LogOnce(reg, slog.New(slog.NewTextHandler(&buf, nil)))
	line := buf.String()
	for _, want := range []string{"msg=metrics", "messages=2", "rejected=1"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
	// A service that is off is left out rather than logged as 0.
	if strings.Contains(line, "storeQueries") {
		t.Errorf("log line %q names a store metric the node does not export", line)
	}
}

func TestStartLoggingStops(t *testing.T) {
	reg := prometheus.NewRegistry()
	New(reg, "v1")
	lines := make(chan string, 16)
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) {
		select {
		case lines <- string(p):
		default: // the test has read enough
		}
	}), nil))
	stop := StartLogging(reg, log, 10*time.Millisecond)
	select {
	case l := <-lines:
		if !strings.Contains(l, "msg=metrics") {
			t.Fatalf("line %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no metrics line logged")
	}
	stop() // returns only once the goroutine is gone
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) {
	f(p)
	return len(p), nil
}
