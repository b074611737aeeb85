package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
)

// nwaku's (chronicles') levels that slog lacks. slog leaves gaps of 4 between its own
// levels precisely so that others fit in between.
const (
	LevelTrace  = slog.Level(-8)
	LevelDebug  = slog.LevelDebug
	LevelInfo   = slog.LevelInfo
	LevelNotice = slog.Level(2)
	LevelWarn   = slog.LevelWarn
	LevelError  = slog.LevelError
	LevelFatal  = slog.Level(12)
	// LevelNone is chronicles' NONE: nothing is logged.
	LevelNone = slog.Level(math.MaxInt32)
)

var levelNames = []struct {
	name  string
	level slog.Level
}{
	{"TRACE", LevelTrace}, {"DEBUG", LevelDebug}, {"INFO", LevelInfo}, {"NOTICE", LevelNotice},
	{"WARN", LevelWarn}, {"ERROR", LevelError}, {"FATAL", LevelFatal}, {"NONE", LevelNone},
}

// ParseLevel reads nwaku's level names, case-insensitively.
func ParseLevel(s string) (slog.Level, error) {
	for _, l := range levelNames {
		if strings.EqualFold(strings.TrimSpace(s), l.name) {
			return l.level, nil
		}
	}
	return 0, errors.New("not a log level (TRACE, DEBUG, INFO, NOTICE, WARN, ERROR, FATAL)")
}

// LevelName is nwaku's name for l; levels between two names take the lower one's name
// plus the offset, the way slog does ("INFO+1").
func LevelName(l slog.Level) string {
	best := -1
	for i, n := range levelNames[:len(levelNames)-1] {
		if n.level <= l {
			best = i
		}
	}
	if best < 0 {
		return fmt.Sprintf("TRACE%d", l-LevelTrace)
	}
	n := levelNames[best]
	if l == n.level {
		return n.name
	}
	return fmt.Sprintf("%s+%d", n.name, l-n.level)
}

type levelValue struct{ p *slog.Level }

func (v levelValue) String() string {
	if v.p == nil { // the zero Value flag.PrintDefaults builds
		return ""
	}
	if *v.p == LevelNone {
		return "NONE"
	}
	return LevelName(*v.p)
}

func (v levelValue) Set(s string) error {
	l, err := ParseLevel(s)
	if err == nil {
		*v.p = l
	}
	return err
}

// LogFormat is --log-format: nwaku's TEXT or JSON.
type LogFormat string

const (
	FormatText LogFormat = "TEXT"
	FormatJSON LogFormat = "JSON"
)

type formatValue struct{ p *LogFormat }

func (v formatValue) String() string {
	if v.p == nil {
		return ""
	}
	return string(*v.p)
}

func (v formatValue) Set(s string) error {
	switch f := LogFormat(strings.ToUpper(strings.TrimSpace(s))); f {
	case FormatText, FormatJSON:
		*v.p = f
		return nil
	}
	return errors.New("not a log format (TEXT, JSON)")
}

// NewLogger builds the process logger: slog's text or JSON handler at level, printing
// nwaku's level names (TRACE, NOTICE, FATAL instead of DEBUG-4, INFO+2, ERROR+4).
func NewLogger(w io.Writer, level slog.Level, format LogFormat) *slog.Logger {
	l, _ := NewLeveledLogger(w, level, format)
	return l
}

// NewLeveledLogger is NewLogger with the level held in a variable, so that it can be changed
// while the node runs (POST /admin/v1/log-level/{level}); NONE discards at any level.
func NewLeveledLogger(w io.Writer, level slog.Level, format LogFormat) (*slog.Logger, *slog.LevelVar) {
	lv := new(slog.LevelVar)
	lv.Set(level)
	opts := &slog.HandlerOptions{
		Level: lv,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.LevelKey {
				if l, ok := a.Value.Any().(slog.Level); ok {
					a.Value = slog.StringValue(LevelName(l))
				}
			}
			return a
		},
	}
	if format == FormatJSON {
		return slog.New(slog.NewJSONHandler(w, opts)), lv
	}
	return slog.New(slog.NewTextHandler(w, opts)), lv
}

// LevelSetter is the REST log-level setter over lv: nwaku's names except NONE, which nwaku
// refuses there.
func LevelSetter(lv *slog.LevelVar) func(string) error {
	return func(s string) error {
		l, err := ParseLevel(s)
		if err != nil {
			return err
		}
		if l == LevelNone {
			return errors.New("NONE cannot be set at run time")
		}
		lv.Set(l)
		return nil
	}
}
