// Command enrtree publishes a Waku bootstrap list for EIP-1459 DNS discovery: it reads ENRs
// (one "enr:" per line), builds the tree, signs its root and writes the TXT records as a zone
// file. The URL clients configure (--dns-discovery-url) is printed on stderr.
//
//	enrtree -key tree.key -domain nodes.example.org -in enrs.txt -out zone.txt
//
// The key is a hex secp256k1 private key (as wakunode's --nodekey); -genkey writes a new one.
// Multiaddrs cannot be listed: only a node can sign its own ENR.
package main

import (
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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
	genKey := fs.Bool("genkey", false, "write a new signing key to -key and exit")
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
		k, err := ethcrypto.GenerateKey()
		if err != nil {
			return err
		}
		return os.WriteFile(*keyPath, []byte(hex.EncodeToString(ethcrypto.FromECDSA(k))+"\n"), 0o600)
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
