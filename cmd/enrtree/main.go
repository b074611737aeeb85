// Command enrtree publishes a Waku bootstrap list for EIP-1459 DNS discovery: it reads ENRs
// (one "enr:" per line), builds the tree, signs its root and writes the TXT records as a zone
// file. The URL clients configure (--dns-discovery-url) is printed on stderr.
//
//	enrtree -key tree.key -domain nodes.example.org -in enrs.txt -out zone.txt
//
// The key is a hex secp256k1 private key (as wakunode's --nodekey); -genkey writes a new one,
// never over an existing key unless -force is given: the key is the public half of the
// enrtree:// URL every client is configured with. Keep it outside any repository.
// Multiaddrs cannot be listed: only a node can sign its own ENR.
package main

import (
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"

	"github.com/wakunode/wakunode/discovery/dnsdisc"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "enrtree:", err)
		os.Exit(1)
	}
}

type links []string

func (l *links) String() string     { return strings.Join(*l, ",") }
func (l *links) Set(s string) error { *l = append(*l, s); return nil }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("enrtree", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("key", "", "file with the hex secp256k1 signing key")
	genKey := fs.Bool("genkey", false, "write a new signing key to -key and exit (refused if -key exists)")
	force := fs.Bool("force", false, "with -genkey: replace an existing key (this changes the enrtree:// URL clients use)")
	domain := fs.String("domain", "", "domain the tree is published under")
	seq := fs.Uint("seq", uint(time.Now().Unix()), "tree sequence number; must grow with each publication")
	in := fs.String("in", "-", "file with one enr: record per line (- = stdin)")
	out := fs.String("out", "-", "zone file to write (- = stdout)")
	ttl := fs.Uint("ttl", 3600, "TTL of the TXT records")
	var ls links
	fs.Var(&ls, "link", "enrtree:// URL of another tree to link (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyPath == "" {
		return errors.New("-key is required")
	}
	if *genKey {
		return writeNewKey(*keyPath, *force, stderr)
	}
	if *domain == "" {
		return errors.New("-domain is required")
	}
	key, err := readKey(*keyPath)
	if err != nil {
		return err
	}
	r := stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	nodes, err := dnsdisc.ParseENRs(r)
	if err != nil {
		return err
	}
	tree, err := dnsdisc.BuildTree(key, *domain, *seq, nodes, ls)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := tree.WriteZone(w, uint32(*ttl)); err != nil {
		return fmt.Errorf("write zone: %w", err)
	}
	fmt.Fprintf(stderr, "%d records, seq %d\n%s\n", len(nodes), *seq, tree.URL)
	return nil
}

// writeNewKey generates a signing key into path, creating its directory. An existing key is
// kept unless force: replacing it changes the tree's URL and strands every configured client.
func writeNewKey(path string, force bool, stderr io.Writer) error {
	k, err := ethcrypto.GenerateKey()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("key directory: %w", err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: its key signs the tree clients already use (enrtree://<its public key>@domain); "+
			"keep it, or pass -force to replace it and change the URL", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(hex.EncodeToString(ethcrypto.FromECDSA(k)) + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "new signing key in %s: keep it secret and out of any repository\n", path)
	return nil
}

func readKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"))
	if err != nil {
		return nil, fmt.Errorf("key %s: not hex: %w", path, err)
	}
	k, err := ethcrypto.ToECDSA(raw)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return k, nil
}
