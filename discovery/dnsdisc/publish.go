package dnsdisc

import (
	"bufio"
	"crypto/ecdsa"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/p2p/dnsdisc"
	"github.com/ethereum/go-ethereum/p2p/enode"

	"github.com/wakunode/wakunode/enr"
)

// Tree is a signed tree ready to publish.
type Tree struct {
	// URL is enrtree://<key>@<domain>, what clients configure.
	URL string
	// Records maps each fully qualified name (without the trailing dot) to its TXT text.
	Records map[string]string
	Domain  string
	Seq     uint
}

// BuildTree builds the EIP-1459 tree of nodes (and links to other trees), signs the root with
// key and returns its TXT records. seq must grow with every republication.
func BuildTree(key *ecdsa.PrivateKey, domain string, seq uint, nodes []*enode.Node, links []string) (*Tree, error) {
	domain = strings.TrimSuffix(domain, ".")
	t, err := dnsdisc.MakeTree(seq, nodes, links)
	if err != nil {
		return nil, fmt.Errorf("build enrtree: %w", err)
	}
	url, err := t.Sign(key, domain)
	if err != nil {
		return nil, fmt.Errorf("sign enrtree: %w", err)
	}
	return &Tree{URL: url, Records: t.ToTXT(domain), Domain: domain, Seq: seq}, nil
}

// ParseENRs reads one "enr:" record per line (blank lines and # comments skipped) and checks
// that each is a Waku node. Multiaddrs cannot be listed: a tree holds signed records, and
// only the node itself can sign its ENR.
func ParseENRs(r io.Reader) ([]*enode.Node, error) {
	var out []*enode.Node
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		n, err := enr.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		info, err := enr.Decode(n)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if info.Caps == 0 {
			return nil, fmt.Errorf("line %d: record has no waku2 capabilities", line)
		}
		out = append(out, n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	return out, nil
}

// WriteZone writes the records as a zone file: one TXT RR per name, the text split into
// quoted character-strings of at most 255 bytes (resolvers join them again).
func (t *Tree) WriteZone(w io.Writer, ttl uint32) error {
	names := make([]string, 0, len(t.Records))
	for n := range t.Records {
		names = append(names, n)
	}
	// The root first, then the rest in a stable order.
	slices.SortFunc(names, func(a, b string) int {
		if a == t.Domain {
			return -1
		}
		if b == t.Domain {
			return 1
		}
		return strings.Compare(a, b)
	})
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "; EIP-1459 tree %s seq=%d\n", t.URL, t.Seq)
	for _, n := range names {
		fmt.Fprintf(bw, "%s.\t%d\tIN\tTXT\t%s\n", n, ttl, strings.Join(quoteChunks(t.Records[n]), " "))
	}
	return bw.Flush()
}

// quoteChunks splits s into 255-byte character-strings, quoted for a zone file. The record
// alphabets (base32, base64url, "enrtree-...:", "=", ",") need no escaping.
func quoteChunks(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, `"`+s[:255]+`"`)
		s = s[255:]
	}
	return append(out, `"`+s+`"`)
}

// Chunks splits TXT text into the character-strings a DNS server sends.
func Chunks(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}
