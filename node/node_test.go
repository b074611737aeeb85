package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

const testTopic = "/waku/2/rs/16/3"

// testConfig is a loopback node on free ports relaying on testTopic.
func testConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.ListenAddress = "127.0.0.1"
	cfg.TCPPort = 0
	cfg.WebSocketPort = 0
	cfg.ClusterID = 16
	cfg.Shards = []uint16{3}
	return cfg
}

func startNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	return n
}

// addrWith returns n's first listen address containing proto (e.g. "/ws").
func addrWith(t *testing.T, n *Node, part string, exclude ...string) multiaddr.Multiaddr {
	t.Helper()
next:
	for _, a := range n.ListenAddrs() {
		s := a.String()
		if !strings.Contains(s, part) {
			continue
		}
		for _, x := range exclude {
			if strings.Contains(s, x) {
				continue next
			}
		}
		return a
	}
	t.Fatalf("no %s address in %v", part, n.ListenAddrs())
	return nil
}

func testMessage(payload string) *pb.WakuMessage {
	ts := time.Now().UnixNano()
	return &pb.WakuMessage{Payload: []byte(payload), ContentTopic: "/test/1/relay/proto", Timestamp: &ts}
}

// waitTopicPeers waits until n has want peers in its mesh for the topic: forwarding
// (unlike a node's own flood-published messages) only follows the mesh.
func waitTopicPeers(t *testing.T, n *Node, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if len(n.relay.MeshPeers(testTopic)) >= want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("node %s: %d mesh peers (%d topic peers), want %d", n.ID(), len(n.relay.MeshPeers(testTopic)), len(n.relay.TopicPeers(testTopic)), want)
}

func receive(t *testing.T, s *Subscription, payload string) *message.Envelope {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-s.C:
			if string(e.Message.Payload) == payload {
				return e
			}
		case <-timeout:
			t.Fatalf("message %q not received (%d dropped)", payload, s.Dropped())
			return nil
		}
	}
}

func TestTwoNodesRelay(t *testing.T) {
	cert, key := selfSignedCert(t)
	cases := []struct {
		name     string
		setup    func(a, b *Config)
		addrPart string
		exclude  []string
	}{
		{"tcp", func(a, b *Config) {}, "/tcp/", []string{"/ws"}},
		{"websocket", func(a, b *Config) { a.WebSocket = true }, "/ws", nil},
		{"websocket-secure", func(a, b *Config) { a.WebSocketSecure, a.WebSocketCert, a.WebSocketKey = true, cert, key }, "/tls/ws", nil},
		{"yamux-only", func(a, b *Config) { a.muxers = []string{"/yamux/1.0.0"}; b.muxers = a.muxers }, "/tcp/", []string{"/ws"}},
		{"mplex-only", func(a, b *Config) { a.muxers = []string{"/mplex/6.7.0"}; b.muxers = a.muxers }, "/tcp/", []string{"/ws"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ca, cb := testConfig(t), testConfig(t)
			tc.setup(&ca, &cb)
			a, b := startNode(t, ca), startNode(t, cb)
			if tc.name == "websocket-secure" {
				// The test's self-signed certificate is not trusted by the dialer; the
				// listener itself must still be up and speaking TLS.
				checkTLSListener(t, addrWith(t, a, "/tls/ws"))
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b.Connect(ctx, addrWith(t, a, tc.addrPart, tc.exclude...)); err != nil {
				t.Fatal(err)
			}
			if len(tc.addrPart) > 0 && strings.Contains(tc.name, "only") {
				conns := b.Host().Network().ConnsToPeer(a.ID())
				if len(conns) == 0 || string(conns[0].ConnState().StreamMultiplexer) != ca.muxers[0] {
					t.Fatalf("connection muxer = %v, want %s", conns, ca.muxers[0])
				}
			}
			waitTopicPeers(t, a, 1)
			waitTopicPeers(t, b, 1)
			subA, subB := a.Subscribe(nil, 16), b.Subscribe(nil, 16)
			defer subA.Close()
			defer subB.Close()
			if _, err := a.Publish(ctx, testTopic, testMessage("a->b")); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Publish(ctx, testTopic, testMessage("b->a")); err != nil {
				t.Fatal(err)
			}
			receive(t, subB, "a->b")
			receive(t, subA, "b->a")
		})
	}
}

func TestFiveNodesLine(t *testing.T) {
	nodes := make([]*Node, 5)
	for i := range nodes {
		nodes[i] = startNode(t, testConfig(t))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 1; i < len(nodes); i++ {
		if err := nodes[i].Connect(ctx, addrWith(t, nodes[i-1], "/tcp/")); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range nodes {
		want := 2
		if i == 0 || i == len(nodes)-1 {
			want = 1
		}
		waitTopicPeers(t, n, want)
	}
	subs := make([]*Subscription, len(nodes))
	for i, n := range nodes {
		subs[i] = n.Subscribe(nil, 64)
		defer subs[i].Close()
	}
	for _, from := range []int{0, 2, 4} {
		payload := fmt.Sprintf("from-%d", from)
		if _, err := nodes[from].Publish(ctx, testTopic, testMessage(payload)); err != nil {
			t.Fatal(err)
		}
		for i := range nodes {
			e := receive(t, subs[i], payload)
			if e.PubsubTopic != testTopic {
				t.Fatalf("node %d got topic %q", i, e.PubsubTopic)
			}
		}
	}
	// Exactly once: nothing else is pending for any subscriber.
	time.Sleep(300 * time.Millisecond)
	for i, s := range subs {
		if len(s.C) != 0 {
			t.Fatalf("node %d has %d extra deliveries", i, len(s.C))
		}
	}
}

func TestLoneNodePublishes(t *testing.T) {
	n := startNode(t, testConfig(t))
	sub := n.Subscribe(nil, 4)
	defer sub.Close()
	env, err := n.Publish(context.Background(), testTopic, testMessage("alone"))
	if err != nil {
		t.Fatalf("lone publish: %v", err)
	}
	got := receive(t, sub, "alone")
	if got.Hash != env.Hash {
		t.Fatalf("hash %s, want %s", got.Hash, env.Hash)
	}
}

func TestPublishValidation(t *testing.T) {
	cfg := testConfig(t)
	cfg.NumShardsInNetwork = 0 // no autosharding
	n := startNode(t, cfg)
	big := testMessage(strings.Repeat("x", message.DefaultMaxMessageSize))
	if _, err := n.Publish(context.Background(), testTopic, big); err == nil || !strings.Contains(err.Error(), "exceeded") {
		t.Fatalf("oversized publish: %v", err)
	}
	if _, err := n.Publish(context.Background(), "", testMessage("x")); err == nil {
		t.Fatal("publish without topic and without autosharding succeeded")
	}
	if err := n.Relay().Subscribe("/waku/2/rs/1/0"); err == nil {
		t.Fatal("subscribed to a shard of another cluster")
	}
}

func TestNodeKeyPersists(t *testing.T) {
	cfg := testConfig(t)
	a := startNode(t, cfg)
	id := a.ID()
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	b := startNode(t, cfg)
	if b.ID() != id {
		t.Fatalf("peer id changed across restart: %s then %s", id, b.ID())
	}
	k, _ := ecdsa.GenerateKey(ethcrypto.S256(), rand.Reader)
	cfg.NodeKey = k
	c := startNode(t, cfg)
	if c.ID() == id {
		t.Fatal("explicit node key ignored")
	}
}

func selfSignedCert(t *testing.T) (certPath, keyPath string) {
	t.Helper()
	priv, err := x509ECKey()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certPath, keyPath
}

func checkTLSListener(t *testing.T, a multiaddr.Multiaddr) {
	t.Helper()
	port, err := a.ValueForProtocol(multiaddr.P_TCP)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("wss listener does not speak TLS: %v", err)
	}
	c.Close()
}

func TestDefaultShards(t *testing.T) {
	cfg := testConfig(t)
	cfg.Shards = nil
	cfg.NumShardsInNetwork = 3
	n := startNode(t, cfg)
	want := []string{"/waku/2/rs/16/0", "/waku/2/rs/16/1", "/waku/2/rs/16/2"}
	if got := n.Relay().Topics(); !slices.Equal(got, want) {
		t.Fatalf("topics = %v, want %v", got, want)
	}
	cfg = testConfig(t)
	cfg.Shards = nil
	cfg.ContentTopics = []string{"/toychat/2/huilong/proto"}
	cfg.NumShardsInNetwork = 8
	if got := startNode(t, cfg).Relay().Topics(); !slices.Equal(got, []string{"/waku/2/rs/16/3"}) {
		t.Fatalf("autosharded topics = %v", got)
	}
}
