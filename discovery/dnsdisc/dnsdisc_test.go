package dnsdisc

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/p2p/enode"
	"github.com/miekg/dns"

	"github.com/wakunode/wakunode/enr"
)

// zoneServer is an authoritative DNS server on 127.0.0.1 answering TXT queries from a map.
type zoneServer struct {
	mu   sync.Mutex
	txt  map[string][]string // fqdn with trailing dot -> character-strings
	addr string
}

func startServer(t *testing.T) *zoneServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	z := &zoneServer{txt: map[string][]string{}, addr: pc.LocalAddr().String()}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(z.serve)}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return z
}

func (z *zoneServer) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	z.mu.Lock()
	for _, q := range req.Question {
		if txt, ok := z.txt[strings.ToLower(q.Name)]; ok && q.Qtype == dns.TypeTXT {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: txt})
		}
	}
	if len(m.Answer) == 0 {
		m.Rcode = dns.RcodeNameError
	}
	z.mu.Unlock()
	w.WriteMsg(m)
}

// loadZone serves a zone file, parsed by miekg/dns: the file our publisher writes must be
// valid zone syntax.
func (z *zoneServer) loadZone(t *testing.T, zone string) {
	t.Helper()
	z.mu.Lock()
	defer z.mu.Unlock()
	clear(z.txt)
	zp := dns.NewZoneParser(strings.NewReader(zone), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		txt := rr.(*dns.TXT)
		z.txt[strings.ToLower(txt.Hdr.Name)] = txt.Txt
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone file does not parse: %v\n%s", err, zone)
	}
}

func wakuRecord(t *testing.T, cluster uint16) *enode.Node {
	t.Helper()
	key, _ := ethcrypto.GenerateKey()
	ln, err := enr.Build(enr.BuildConfig{PrivateKey: key, IP: net.IPv4(127, 0, 0, 1), TCPPort: 60000, UDPPort: 9000,
		Caps: enr.Relay | enr.Store, Shards: &enr.RelayShards{Cluster: cluster, Shards: []uint16{0, 1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Node()
}

func zoneText(t *testing.T, tr *Tree) string {
	var b bytes.Buffer
	if err := tr.WriteZone(&b, 300); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSyncPublishedTree(t *testing.T) {
	z := startServer(t)
	key, _ := ethcrypto.GenerateKey()
	var nodes []*enode.Node
	for i := 0; i < 25; i++ { // > 18 children: a two-level tree
		nodes = append(nodes, wakuRecord(t, 16))
	}
	foreign := wakuRecord(t, 1)
	tr, err := BuildTree(key, "nodes.example.org", 3, append(nodes, foreign), nil)
	if err != nil {
		t.Fatal(err)
	}
	zone := zoneText(t, tr)
	z.loadZone(t, zone)
	if !strings.Contains(zone, `" "`) {
		t.Fatal("no ENR leaf was split into several character-strings")
	}
	c := NewClient(Config{NameServer: z.addr, Cluster: 16, Timeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := c.Sync(ctx, tr.URL)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(nodes) {
		t.Fatalf("synced %d nodes, want %d (the cluster-1 node dropped)", len(got), len(nodes))
	}
	want := map[enode.ID]bool{}
	for _, n := range nodes {
		want[n.ID()] = true
	}
	for _, n := range got {
		if !want[n.Record.ID()] || !n.HasUDP || len(n.Info.Addrs) == 0 {
			t.Fatalf("unexpected node %v", n)
		}
	}
}

func TestSyncRejectsTampering(t *testing.T) {
	key, _ := ethcrypto.GenerateKey()
	other, _ := ethcrypto.GenerateKey()
	nodes := []*enode.Node{wakuRecord(t, 16), wakuRecord(t, 16)}
	const domain = "nodes.example.org"
	tr, err := BuildTree(key, domain, 1, nodes, nil)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := BuildTree(other, domain, 2, nodes, nil)
	if err != nil {
		t.Fatal(err)
	}
	intruder := wakuRecord(t, 16).String()
	cases := []struct {
		name   string
		mutate func(map[string]string)
	}{
		{"leaf replaced by another valid record", func(r map[string]string) {
			for name, v := range r {
				if strings.HasPrefix(v, "enr:") {
					r[name] = intruder
					return
				}
			}
		}},
		{"leaf bytes flipped", func(r map[string]string) {
			for name, v := range r {
				if strings.HasPrefix(v, "enr:") {
					b := []byte(v)
					b[40] ^= 1
					r[name] = string(b)
					return
				}
			}
		}},
		{"root signed by another key", func(r map[string]string) { r[domain] = forged.Records[domain] }},
		{"root seq changed", func(r map[string]string) {
			r[domain] = strings.Replace(r[domain], "seq=1", "seq=7", 1)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			z := startServer(t)
			recs := map[string]string{}
			for k, v := range tr.Records {
				recs[k] = v
			}
			tc.mutate(recs)
			bad := &Tree{URL: tr.URL, Records: recs, Domain: domain, Seq: 1}
			z.loadZone(t, zoneText(t, bad))
			c := NewClient(Config{NameServer: z.addr, Cluster: 16, Timeout: 2 * time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got, err := c.Sync(ctx, tr.URL)
			t.Log(err)
			if err == nil {
				t.Fatalf("tampered tree accepted: %d nodes", len(got))
			}
		})
	}
}

func TestParseENRs(t *testing.T) {
	n := wakuRecord(t, 16)
	in := "# bootstrap list\n\n" + n.String() + "\n"
	got, err := ParseENRs(strings.NewReader(in))
	if err != nil || len(got) != 1 || got[0].ID() != n.ID() {
		t.Fatalf("ParseENRs = %v, %v", got, err)
	}
	for _, bad := range []string{"/ip4/1.2.3.4/tcp/1", "enr:-xyz"} {
		if _, err := ParseENRs(strings.NewReader(bad)); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}
