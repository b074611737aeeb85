package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"150KiB", "1,5 kb", "  1048576 B", "1MiB", "0B", "1e9MB", "-3b", "ib"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && (n < 1 || n > 1<<31-1) {
			t.Fatalf("ParseSize(%q) = %d outside [1, 2^31)", s, n)
		}
	})
}

// FuzzParse feeds arbitrary command lines (NUL-separated) and config files: Parse must
// return options or an error, never panic, and accepted options keep their invariants.
func FuzzParse(f *testing.F) {
	f.Add("--shard=1\x00--relay=false", "tcp-port = 1\n")
	f.Add("--log-level=trace\x00--max-msg-size\x001 KB", "shard = [0, 1]\ncontent-topic = \"/a/1/b/c\"\n")
	f.Add("--tcp-port=99999", "[x]\ny=1")
	f.Fuzz(func(t *testing.T, cmdline, file string) {
		path := filepath.Join(t.TempDir(), "c.toml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args := append(strings.Split(cmdline, "\x00"), "--config-file="+path)
		o, err := Parse(args)
		if err != nil {
			return
		}
		if o.MaxMsgBytes < 1 {
			t.Fatalf("accepted max message size %d", o.MaxMsgBytes)
		}
		if o.Store || o.Filter || o.Lightpush || len(o.RateLimits) > 0 {
			t.Fatalf("accepted an unsupported capability: %+v", o)
		}
	})
}
