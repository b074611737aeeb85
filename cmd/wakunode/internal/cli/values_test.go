package cli

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int // 0 = error
	}{
		// nwaku's own test cases (parse_size_units)
		{"15 KiB", 15360},
		{"  1048576 B", 1048576},
		{"150 B", 150},
		{"150   b", 150},
		{"150KiB", 150 * 1024},
		{"1.5 KiB", 1536},
		{"1,5 KiB", 1536},
		{"3Kb", 3000},
		{"3kB", 3000},
		{"1KB", 1000},
		// our extension
		{"1MiB", 1 << 20},
		{"2 MB", 2_000_000},
		// errors
		{"150", 0},
		{"", 0},
		{"KiB", 0},
		{"150 ib", 0},
		{"150 GB", 0},
		{"-1 KiB", 0},
		{"0B", 0},
		{"0.1B", 0},
		{"1e3 B", 0},
		{"inf B", 0},
		{"0x10 B", 0},
		{"3000 MiB", 0},
		{"150 KiB extra", 0},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.want == 0 {
			if err == nil {
				t.Errorf("ParseSize(%q) = %d, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
	}{
		{"TRACE", LevelTrace}, {"trace", LevelTrace}, {"Debug", slog.LevelDebug},
		{"INFO", slog.LevelInfo}, {"notice", LevelNotice}, {"WARN", slog.LevelWarn},
		{"ERROR", slog.LevelError}, {"FATAL", LevelFatal}, {"none", LevelNone},
	}
	for _, tt := range tests {
		got, err := ParseLevel(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "WARNING", "verbose", "5"} {
		if _, err := ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q) succeeded", bad)
		}
	}
	// The order slog compares by must be nwaku's order.
	order := []slog.Level{LevelTrace, slog.LevelDebug, slog.LevelInfo, LevelNotice, slog.LevelWarn, slog.LevelError, LevelFatal, LevelNone}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Errorf("level %v is not below %v", order[i-1], order[i])
		}
	}
}

func TestLevelName(t *testing.T) {
	tests := map[slog.Level]string{
		LevelTrace: "TRACE", slog.LevelDebug: "DEBUG", slog.LevelInfo: "INFO", LevelNotice: "NOTICE",
		slog.LevelWarn: "WARN", slog.LevelError: "ERROR", LevelFatal: "FATAL",
		slog.LevelInfo + 1: "INFO+1", LevelFatal + 3: "FATAL+3", LevelTrace - 2: "TRACE-2",
	}
	for l, want := range tests {
		if got := LevelName(l); got != want {
			t.Errorf("LevelName(%d) = %q, want %q", l, got, want)
		}
	}
}

func TestLoggerText(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, LevelNotice, FormatText)
	log.Info("hidden")
	log.Log(t.Context(), LevelNotice, "shown notice")
	log.Log(t.Context(), LevelFatal, "shown fatal")
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Errorf("INFO logged at NOTICE level:\n%s", out)
	}
	for _, want := range []string{"level=NOTICE msg=\"shown notice\"", "level=FATAL msg=\"shown fatal\""} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestLoggerJSONAndTrace(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, LevelTrace, FormatJSON)
	log.Log(t.Context(), LevelTrace, "t", "k", 1)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %v\n%s", err, buf.String())
	}
	if rec["level"] != "TRACE" || rec["msg"] != "t" || rec["k"] != float64(1) {
		t.Fatalf("record = %v", rec)
	}
}

func TestLoggerNone(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, LevelNone, FormatText)
	log.Log(t.Context(), LevelFatal+100, "x")
	if buf.Len() != 0 {
		t.Fatalf("NONE logged %q", buf.String())
	}
}

func TestResolveVersion(t *testing.T) {
	if got := ResolveVersion("v1.2.3"); got != "v1.2.3" {
		t.Errorf("linked version ignored: %q", got)
	}
	if got := ResolveVersion(""); !strings.HasPrefix(got, Semver) {
		t.Errorf("ResolveVersion() = %q, want %s[+revision]", got, Semver)
	}
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(Semver) {
		t.Errorf("Semver %q is not vMAJOR.MINOR.PATCH", Semver)
	}
	tests := []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}}, "v0.3.0"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, Semver},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"},
		}}, Semver + "+0123456789ab.dirty"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "false"},
		}}, Semver + "+0123456789ab"},
	}
	for _, tt := range tests {
		if got := versionFromBuildInfo(&tt.bi); got != tt.want {
			t.Errorf("versionFromBuildInfo(%+v) = %q, want %q", tt.bi.Main, got, tt.want)
		}
	}
}

// TestLevelSetter: the REST log-level setter changes what the running logger prints.
func TestLevelSetter(t *testing.T) {
	var buf bytes.Buffer
	log, lv := NewLeveledLogger(&buf, LevelInfo, FormatText)
	set := LevelSetter(lv)
	log.Debug("hidden")
	if err := set("debug"); err != nil {
		t.Fatal(err)
	}
	log.Debug("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
		t.Fatalf("log: %q", buf.String())
	}
	for _, bad := range []string{"NONE", "LOUD", ""} {
		if err := set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
