package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/wakunode/wakunode/node"
)

// The light client and the node agree on static sharding: cluster 16, shard 3. js-waku 0.0.36
// treats a networkConfig without numShardsInCluster as static sharding and builds the pubsub
// topic from the encoder's shardId, which needs no content-topic hashing on either side.
const (
	jsCluster  = 16
	jsShard    = 3
	jsMessages = 25 // alternating lightpush v3 / v2
	jsPageSize = 10 // store pages of 10, 10, 5, then the empty page that ends js-waku's loop
)

// jsResult is what interop/js/lightclient.mjs prints after "RESULT ".
type jsResult struct {
	OK          bool   `json:"ok"`
	Protocol    string `json:"protocol"`
	Error       string `json:"error"`
	PubsubTopic string `json:"pubsubTopic"`
	Steps       struct {
		Connection struct {
			Muxer      string `json:"muxer"`
			Encryption string `json:"encryption"`
		} `json:"connection"`
		Identify struct {
			AgentVersion string   `json:"agentVersion"`
			Protocols    []string `json:"protocols"`
		} `json:"identify"`
		Metadata struct {
			ClusterID int   `json:"clusterId"`
			Shards    []int `json:"shards"`
		} `json:"metadata"`
		Filter struct {
			Subscribed bool `json:"subscribed"`
			Received   int  `json:"received"`
		} `json:"filter"`
		Lightpush struct {
			V3 int `json:"v3"`
			V2 int `json:"v2"`
		} `json:"lightpush"`
		Store struct {
			Pages    []int `json:"pages"`
			Messages int   `json:"messages"`
		} `json:"store"`
	} `json:"steps"`
}

// requireInterop skips, or fails when WAKU_REQUIRE_INTEROP=1 (CI), if the suite cannot run.
func requireInterop(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("WAKU_REQUIRE_INTEROP") == "1" {
		t.Fatalf("WAKU_REQUIRE_INTEROP=1 but "+format, args...)
	}
	t.Skipf(format+" (set WAKU_REQUIRE_INTEROP=1 to make this a failure)", args...)
}

// syncBuffer collects the node's log for the failure report.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestJSWakuLightNode(t *testing.T) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		requireInterop(t, "Node.js (`node`) is not on PATH")
	}
	script, err := filepath.Abs(filepath.Join("js", "lightclient.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("js", "node_modules", "@waku", "sdk")); err != nil {
		requireInterop(t, "interop/js/node_modules is missing: run `npm ci` in interop/js")
	}

	var logs syncBuffer
	cfg := node.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.ListenAddress = "127.0.0.1"
	cfg.TCPPort = 0
	cfg.WebSocket = true
	cfg.WebSocketPort = 0
	cfg.ClusterID = jsCluster
	cfg.Shards = []uint16{jsShard}
	cfg.Store = node.StoreConfig{Enabled: true, DBURL: "sqlite://store.sqlite3", Retention: "time:172800", MaxConns: 5, Migrate: true}
	cfg.Filter = node.FilterConfig{Enabled: true, MaxPeers: 1000, MaxCriteria: 1000, SubscriptionTimeout: 5 * time.Minute}
	cfg.Lightpush = true
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	addr := wsAddr(t, n.ListenAddrs())

	cmd := exec.CommandContext(ctx, nodeBin, script, addr.String(),
		strconv.Itoa(jsCluster), strconv.Itoa(jsShard), strconv.Itoa(jsMessages), strconv.Itoa(jsPageSize))
	cmd.Dir = filepath.Dir(script)
	cmd.Env = os.Environ()
	if os.Getenv("WAKU_INTEROP_DEBUG") != "" {
		// js-waku and libp2p log through `debug`, to stderr.
		cmd.Env = append(cmd.Env, "DEBUG=waku*,libp2p:mplex*,libp2p:identify*")
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()

	res, parseErr := parseResult(stdout.String())
	if os.Getenv("WAKU_INTEROP_DEBUG") != "" {
		t.Logf("node log:\n%s", logs.String())
		t.Logf("js stderr:\n%s", stderr.String())
	}
	if parseErr != nil || !res.OK {
		t.Logf("node log:\n%s", tail(logs.String(), 60))
		t.Logf("js stderr:\n%s", tail(stderr.String(), 60))
		if parseErr != nil {
			t.Fatalf("js-waku run (%v): %v\nstdout:\n%s", runErr, parseErr, tail(stdout.String(), 40))
		}
		t.Fatalf("js-waku: protocol %q failed: %s", res.Protocol, res.Error)
	}
	if runErr != nil {
		t.Fatalf("js-waku reported ok but exited with %v", runErr)
	}

	s := res.Steps
	if s.Connection.Muxer != "/mplex/6.7.0" || s.Connection.Encryption != "/noise" {
		t.Errorf("connection %s over %s, want /mplex/6.7.0 over /noise", s.Connection.Muxer, s.Connection.Encryption)
	}
	if s.Metadata.ClusterID != jsCluster || len(s.Metadata.Shards) != 1 || s.Metadata.Shards[0] != jsShard {
		t.Errorf("js-waku saw metadata %+v, want cluster %d shards [%d]", s.Metadata, jsCluster, jsShard)
	}
	if s.Lightpush.V3+s.Lightpush.V2 != jsMessages || s.Lightpush.V2 == 0 || s.Lightpush.V3 == 0 {
		t.Errorf("lightpush v3 %d + v2 %d, want %d using both", s.Lightpush.V3, s.Lightpush.V2, jsMessages)
	}
	if s.Filter.Received != jsMessages {
		t.Errorf("filter pushed %d messages, want %d", s.Filter.Received, jsMessages)
	}
	if s.Store.Messages != jsMessages || len(s.Store.Pages) < 2 {
		t.Errorf("store returned %d messages in pages %v, want %d in several pages", s.Store.Messages, s.Store.Pages, jsMessages)
	}
	t.Logf("js-waku: %s over %s; metadata %+v; lightpush v3=%d v2=%d; filter %d; store pages %v",
		s.Connection.Muxer, s.Connection.Encryption, s.Metadata, s.Lightpush.V3, s.Lightpush.V2, s.Filter.Received, s.Store.Pages)
}

// wsAddr is the node's /ws listen address on 127.0.0.1.
func wsAddr(t *testing.T, addrs []multiaddr.Multiaddr) multiaddr.Multiaddr {
	t.Helper()
	for _, a := range addrs {
		s := a.String()
		if strings.HasPrefix(s, "/ip4/127.0.0.1/") && strings.Contains(s, "/ws/") && !strings.Contains(s, "/tls/") {
			return a
		}
	}
	t.Fatalf("no /ip4/127.0.0.1/.../ws address in %v", addrs)
	return nil
}

func parseResult(stdout string) (jsResult, error) {
	var res jsResult
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	found := false
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "RESULT "); ok {
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				return res, err
			}
			found = true
		}
	}
	if !found {
		return res, errors.New("no RESULT line")
	}
	return res, nil
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
