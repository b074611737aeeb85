package rest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// levelSetter stands in for the command line's setter: nwaku's names onto a LevelVar.
func levelSetter(v *slog.LevelVar) func(string) error {
	names := map[string]slog.Level{"TRACE": -8, "DEBUG": slog.LevelDebug, "INFO": slog.LevelInfo,
		"NOTICE": 2, "WARN": slog.LevelWarn, "ERROR": slog.LevelError, "FATAL": 12}
	return func(s string) error {
		l, ok := names[strings.ToUpper(s)]
		if !ok {
			return errors.New("not a log level")
		}
		v.Set(l)
		return nil
	}
}

func TestLogLevel(t *testing.T) {
	var lv slog.LevelVar
	lv.Set(slog.LevelInfo)
	var out bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: &lv}))
	s := newTestServer(t, newFakeNode(t), func(c *Config) { c.Admin = true; c.LogLevel = levelSetter(&lv) })
	h := s.Handler()

	if logger.Enabled(context.Background(), slog.LevelDebug) {
		t.Fatal("debug enabled before the change")
	}
	r := do(t, h, "POST", "/admin/v1/log-level/debug", "", "")
	r.want(t, http.StatusOK, "text/plain")
	if lv.Level() != slog.LevelDebug || !logger.Enabled(context.Background(), slog.LevelDebug) {
		t.Fatalf("level is %v after POST debug", lv.Level())
	}
	do(t, h, "POST", "/admin/v1/log-level/ERROR", "", "").want(t, http.StatusOK, "text/plain")
	if lv.Level() != slog.LevelError {
		t.Fatalf("level is %v after POST ERROR", lv.Level())
	}

	r = do(t, h, "POST", "/admin/v1/log-level/LOUD", "", "")
	r.want(t, http.StatusBadRequest, "text/plain")
	if !strings.HasPrefix(r.body, "Invalid log-level: LOUD. Please specify one of TRACE, DEBUG") || lv.Level() != slog.LevelError {
		t.Fatalf("bad level: %q, level %v", r.body, lv.Level())
	}
	do(t, h, "POST", "/admin/v1/log-level/%20", "", "").want(t, http.StatusBadRequest, "text/plain")
	do(t, h, "GET", "/admin/v1/log-level/debug", "", "").want(t, http.StatusMethodNotAllowed, "text/plain")
}

func TestLogLevelWithoutSetterOrAdmin(t *testing.T) {
	noSetter := newTestServer(t, newFakeNode(t), func(c *Config) { c.Admin = true }).Handler()
	r := do(t, noSetter, "POST", "/admin/v1/log-level/DEBUG", "", "")
	r.want(t, http.StatusServiceUnavailable, "text/plain")
	if r.body != msgLogLevelDisabled {
		t.Fatalf("body %q", r.body)
	}
	var lv slog.LevelVar
	noAdmin := newTestServer(t, newFakeNode(t), func(c *Config) { c.LogLevel = levelSetter(&lv) }).Handler()
	do(t, noAdmin, "POST", "/admin/v1/log-level/DEBUG", "", "").want(t, http.StatusNotFound, "text/plain")
	if lv.Level() != slog.LevelInfo {
		t.Fatalf("level changed without --rest-admin: %v", lv.Level())
	}
}
