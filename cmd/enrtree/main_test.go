package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/miekg/dns"

	"github.com/wakunode/wakunode/enr"
)

func TestPublishZone(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "tree.key")
	var stderr bytes.Buffer
	if err := run([]string{"-key", keyPath, "-genkey"}, nil, nil, &stderr); err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	for i := 0; i < 3; i++ {
		k, _ := ethcrypto.GenerateKey()
		ln, err := enr.Build(enr.BuildConfig{PrivateKey: k, IP: net.IPv4(127, 0, 0, 1), TCPPort: 60000, Caps: enr.Relay})
		if err != nil {
			t.Fatal(err)
		}
		in.WriteString(ln.String() + "\n")
		ln.Close()
	}
	var out bytes.Buffer
	if err := run([]string{"-key", keyPath, "-domain", "boot.example.org", "-seq", "5"}, &in, &out, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "enrtree://") || !strings.Contains(stderr.String(), "@boot.example.org") {
		t.Fatalf("no URL printed: %s", stderr.String())
	}
	zp := dns.NewZoneParser(strings.NewReader(out.String()), "", "")
	n, root := 0, false
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		n++
		txt := strings.Join(rr.(*dns.TXT).Txt, "")
		if rr.Header().Name == "boot.example.org." && strings.HasPrefix(txt, "enrtree-root:v1 ") && strings.Contains(txt, "seq=5") {
			root = true
		}
	}
	if err := zp.Err(); err != nil || !root || n != 1+1+1+3 { // root, enr branch, empty link branch, 3 leaves
		t.Fatalf("zone: %d records, root %v, err %v\n%s", n, root, err, out.String())
	}
	if err := run([]string{"-key", keyPath, "-domain", "x.org"}, strings.NewReader("/ip4/1.2.3.4/tcp/1\n"), &out, &stderr); err == nil {
		t.Fatal("multiaddr input accepted")
	}
}

// -genkey never replaces the key behind a published URL unless forced.
func TestGenKeyKeepsExistingKey(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "keys", "tree.key") // the directory is created
	if err := run([]string{"-key", keyPath, "-genkey"}, nil, nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	err = run([]string{"-key", keyPath, "-genkey"}, nil, nil, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-force") {
		t.Fatalf("second -genkey: %v, want a refusal naming -force", err)
	}
	if again, _ := os.ReadFile(keyPath); !bytes.Equal(again, first) {
		t.Fatal("the existing key was changed")
	}
	if err := run([]string{"-key", keyPath, "-genkey", "-force"}, nil, nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	if forced, _ := os.ReadFile(keyPath); bytes.Equal(forced, first) || len(forced) != 65 {
		t.Fatalf("-force did not write a new key: %q", forced)
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi, err)
	}
}
