package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
		if _, err := strconv.ParseBool(rest[0]); err == nil {
			return nil, fmt.Errorf("unexpected argument %q (a boolean flag takes its value with '=': --relay=false)", rest[0])
		}
		return nil, fmt.Errorf("unexpected argument %q", rest[0])
	}
	if o.Version {
		return o, nil
	}
	if o.ConfigFile != "" {
		onCmdLine := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { onCmdLine[f.Name] = true })
		if err := applyConfigFile(fs, o.ConfigFile, onCmdLine); err != nil {
			return nil, err
		}
	}
	if err := checkSupported(fs); err != nil {
		return nil, err
	}
	return o, nil
}

// Usage prints every flag with its default.
func Usage(w io.Writer) {
	fs := newFlagSet(defaults())
	fs.SetOutput(w)
	fmt.Fprintln(w, "Usage: wakunode [--flag=value ...]")
	fs.PrintDefaults()
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

// checkSupported fails on the first flag of notSupportedYet that asks for its capability.
func checkSupported(fs *flag.FlagSet) error {
	for _, name := range notSupportedYet {
		f := fs.Lookup(name)
		if f == nil {
			panic("notSupportedYet names an undeclared flag: " + name)
		}
		v := f.Value.String()
		if v == f.DefValue || (isBool(f) && v == "false") {
			continue // the default, or turning off what we do not do anyway
		}
		return fmt.Errorf("--%s: not supported yet", name)
	}
	return nil
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
