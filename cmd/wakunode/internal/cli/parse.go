package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// ErrHelp is returned by Parse for -h/--help; the caller prints Usage and exits 0.
var ErrHelp = flag.ErrHelp

// Parse reads the command line (without the program name) and the TOML file named by
// --config-file, command line first. Errors name the flag or key at fault.
func Parse(args []string) (*Options, error) {
	o := defaults()
	fs := newFlagSet(o)
	fs.SetOutput(io.Discard) // we report errors ourselves, once
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ErrHelp
		}
		return nil, dashes(err)
	}
	if rest := fs.Args(); len(rest) > 0 {
		if rest[0] == "generateRlnKeystore" || rest[0] == "inspectRlnDb" {
			return nil, fmt.Errorf("command %s: not supported: %s", rest[0], noRLN)
		}
		if _, err := strconv.ParseBool(rest[0]); err == nil {
			return nil, fmt.Errorf("unexpected argument %q (a boolean flag takes its value with '=': --relay=false)", rest[0])
		}
		return nil, fmt.Errorf("unexpected argument %q", rest[0])
	}
	if o.Version {
		return o, nil
	}
	onCmdLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCmdLine[f.Name] = true })
	if err := applySwapEnv(fs, onCmdLine, os.LookupEnv); err != nil {
		return nil, err
	}
	if o.ConfigFile != "" {
		if err := applyConfigFile(fs, o.ConfigFile, onCmdLine); err != nil {
			return nil, err
		}
	}
	notes, err := checkUnbuilt(fs)
	if err != nil {
		return nil, err
	}
	o.Notes = notes
	if err := o.shiftPorts(); err != nil {
		return nil, err
	}
	return o, nil
}

// shiftPorts adds --ports-shift to every port, as nwaku does. A port of 0 asks for any free
// port and stays 0.
func (o *Options) shiftPorts() error {
	if o.PortsShift == 0 {
		return nil
	}
	for _, p := range []struct {
		flag string
		port *uint16
	}{{"tcp-port", &o.TCPPort}, {"websocket-port", &o.WebSocketPort}, {"discv5-udp-port", &o.Discv5UDPPort},
		{"rest-port", &o.RESTPort}, {"metrics-server-port", &o.MetricsServerPort}} {
		if *p.port == 0 {
			continue
		}
		shifted := int(*p.port) + int(o.PortsShift)
		if shifted > math.MaxUint16 {
			return fmt.Errorf("--ports-shift=%d: --%s %d would become %d, above 65535", o.PortsShift, p.flag, *p.port, shifted)
		}
		*p.port = uint16(shifted)
	}
	return nil
}

// Usage prints every flag, as operators type it (--name), with its default and, for the
// flags of capabilities we do not build, what is accepted.
func Usage(w io.Writer) {
	fs := newFlagSet(defaults())
	fmt.Fprintln(w, "Usage: wakunode [--flag=value ...]   (nwaku's flags; a list flag is repeated, a boolean takes --flag=false)")
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if n := typeName(f.Value); n != "" {
			name = n
		}
		fmt.Fprintf(w, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(w, "=<%s>", name)
		}
		fmt.Fprintf(w, "\n      %s", usage)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		if note := unbuiltNote(f.Name); note != "" {
			fmt.Fprintf(w, " %s", note)
		}
		fmt.Fprintln(w)
	})
}

// notFileKeys are flags that make no sense inside a config file.
var notFileKeys = []string{"config-file", "version"}

// applyConfigFile sets every key of the TOML file whose flag was not on the command line.
// Keys are flag names; a list flag takes a TOML array (or a single value).
func applyConfigFile(fs *flag.FlagSet, path string, onCmdLine map[string]bool) error {
	var kv map[string]any
	md, err := toml.DecodeFile(path, &kv)
	if err != nil {
		return fmt.Errorf("--config-file %s: %w", path, err)
	}
	for _, key := range md.Keys() { // file order, so the first bad key is the one reported
		if len(key) != 1 {
			continue // inside a table; the table itself is reported below
		}
		name := key[0]
		f := fs.Lookup(name)
		if f == nil || slices.Contains(notFileKeys, name) {
			return fmt.Errorf("--config-file %s: unknown key %q", path, name)
		}
		if onCmdLine[name] {
			continue
		}
		vals, err := tomlStrings(kv[name])
		if err == nil && len(vals) != 1 {
			if _, ok := f.Value.(lister); !ok {
				err = errors.New("expects a single value, not an array")
			}
		}
		for _, v := range vals {
			if err != nil {
				break
			}
			if err = f.Value.Set(v); err != nil {
				err = fmt.Errorf("invalid value %q: %w", v, err)
			}
		}
		if err != nil {
			return fmt.Errorf("--config-file %s: key %q: %w", path, name, err)
		}
	}
	return nil
}

// tomlStrings turns a TOML value into the strings the flag would get on the command line.
func tomlStrings(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case bool:
		return []string{strconv.FormatBool(v)}, nil
	case int64:
		return []string{strconv.FormatInt(v, 10)}, nil
	case float64:
		return []string{strconv.FormatFloat(v, 'f', -1, 64)}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if _, nested := e.([]any); nested {
				return nil, errors.New("nested arrays are not allowed")
			}
			s, err := tomlStrings(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported TOML value of type %T", v)
}

// typeName names the value of our flag.Value types in --help.
func typeName(v flag.Value) string {
	switch v := v.(type) {
	case uintValue[uint16], uint16List:
		return "uint16"
	case uintValue[uint32]:
		return "uint32"
	case uintValue[uint], optInt:
		return "int"
	case stringList:
		return "string"
	case ipValue:
		return "ip"
	case levelValue:
		return "level"
	case formatValue:
		return "TEXT|JSON"
	case sizeValue:
		return "size"
	case interface{ TypeName() string }:
		return v.TypeName()
	case interface{ IsBoolFlag() bool }:
		if v.IsBoolFlag() {
			return "bool"
		}
	}
	return ""
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// dashes makes the flag package's "-name" read as the "--name" operators type.
func dashes(err error) error {
	msg := err.Error()
	for _, p := range []string{"flag provided but not defined: -", "for flag -", "for -", "needs an argument: -"} {
		if i := strings.Index(msg, p); i >= 0 && !strings.HasPrefix(msg[i+len(p):], "-") {
			msg = msg[:i+len(p)-1] + "-" + msg[i+len(p)-1:]
		}
	}
	return errors.New(msg)
}
