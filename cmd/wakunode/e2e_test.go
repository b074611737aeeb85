package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wakunode/wakunode/cmd/wakunode/internal/cli"
)

// TestBinaryEndToEnd builds wakunode and starts two processes on loopback the way nwaku
// deployments start wakunode2: A from a full nwaku command line (ports shifted by --ports-shift),
// B from an nwaku TOML file naming A as a static node. It checks that both come up and serve REST
// and metrics, that a message published on A over REST reaches B, that A stores it and serves it
// over store v3, that lightpush on A relays to B, and that both stop cleanly on SIGTERM.
func TestBinaryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "wakunode")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const topic, topic2 = "/waku/2/rs/1/3", "/waku/2/rs/1/4"
	// Fixed ports (below 32768, spread by pid) so that --ports-shift can be seen at work.
	base, shift := 20000+(os.Getpid()%100)*50, 7
	port := func(i int) string { return strconv.Itoa(base + i) }

	a := startBinary(t, bin,
		"--nodekey=1122334455667788990011223344556677889900112233445566778899001122",
		"--data-dir="+filepath.Join(dir, "a", "new"), // created although no key is generated there
		"--nat=none", "--listen-address=127.0.0.1", "--tcp-port="+port(0), "--ports-shift="+strconv.Itoa(shift),
		"--websocket-support=true", "--websocket-port="+port(1),
		"--rest=true", "--rest-address=127.0.0.1", "--rest-port="+port(2), "--rest-admin=true",
		"--rest-relay-cache-capacity=50", "--rest-allow-origin=localhost:*",
		"--metrics-server=true", "--metrics-server-address=127.0.0.1", "--metrics-server-port="+port(3),
		"--metrics-logging=true",
		"--cluster-id=1", "--num-shards-in-network=8", "--shard=3", "--pubsub-topic="+topic2,
		"--relay=true", "--rln-relay=false", "--keep-alive=true", "--relay-peer-exchange=false",
		"--store=true", "--store-message-db-url=sqlite://store.sqlite3", "--store-message-retention-policy=time:86400",
		"--store-message-db-vacuum=false", "--store-message-db-migration=true", "--legacy-store=false",
		"--filter=true", "--filter-subscription-timeout=300", "--filter-max-peers-to-serve=1000", "--filter-max-criteria=1000",
		"--lightpush=true", "--peer-exchange=true",
		"--dns-discovery=false", "--discv5-discovery=true", "--discv5-udp-port="+port(4), "--discv5-enr-auto-update=false",
		"--max-connections=50", "--max-msg-size=150KiB", "--rate-limit=store:100/1s", "--rate-limit=lightpush:100/1s",
		"--log-level=DEBUG", "--log-format=TEXT", "--agent-string=nwaku", "--rendezvous=true")
	if want := "127.0.0.1:" + strconv.Itoa(base+2+shift); a.restAddr != want {
		t.Fatalf("A's REST API on %s, want %s (--rest-port shifted by --ports-shift)", a.restAddr, want)
	}
	for _, want := range []string{"cluster=1", `sharding="autosharding over 8 shards"`, "shards=3,4",
		"services=relay,store,filter,lightpush,peer-exchange,discv5", "metrics=127.0.0.1:" + strconv.Itoa(base+3+shift)} {
		if !strings.Contains(a.summary, want) {
			t.Errorf("A's summary lacks %s: %s", want, a.summary)
		}
	}
	var info struct {
		ListenAddresses []string `json:"listenAddresses"`
		EnrURI          string   `json:"enrUri"`
	}
	getJSON(t, a.rest+"/debug/v1/info", &info)
	if len(info.ListenAddresses) == 0 || !strings.HasPrefix(info.EnrURI, "enr:") {
		t.Fatalf("info = %+v", info)
	}
	if v := getText(t, a.rest+"/debug/v1/version"); !strings.HasPrefix(v, cli.Semver) {
		t.Errorf("version %q, want %s[+commit]", v, cli.Semver)
	}
	tcpAddr := ""
	for _, l := range info.ListenAddresses {
		if strings.Contains(l, "/tcp/"+strconv.Itoa(base+shift)+"/p2p/") {
			tcpAddr = l
		}
	}
	if tcpAddr == "" {
		t.Fatalf("no listen address on the shifted TCP port %d: %v", base+shift, info.ListenAddresses)
	}

	toml := filepath.Join(dir, "b.toml")
	cfg := fmt.Sprintf(`# the keys of an nwaku config file
cluster-id = 1
num-shards-in-network = 8
shard = [3]
pubsub-topic = [%q]
listen-address = "127.0.0.1"
nat = "none"
tcp-port = 0
rest = true
rest-address = "127.0.0.1"
rest-port = 0
metrics-server = true
metrics-server-port = 0
metrics-logging = true
relay = true
rln-relay = false
rln-relay-tree-path = "/nonexistent/rln_tree.db"
protected-shard = []
keep-alive = true
store = false
filter = false
lightpush = false
peer-exchange = true
dns-discovery = false
discv5-discovery = false
max-connections = 50
log-level = "INFO"
log-format = "JSON"
staticnode = [%q]
data-dir = %q
`, topic2, tcpAddr, filepath.Join(dir, "b"))
	if err := os.WriteFile(toml, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startBinary(t, bin, "--config-file="+toml)
	if !strings.Contains(b.summary, `"shards":"3,4"`) {
		t.Errorf("B's summary: %s", b.summary)
	}

	// Wait until A lists B as a connected peer.
	waitFor(t, 20*time.Second, func() bool {
		var peers []struct{ Connected string }
		getJSON(t, a.rest+"/admin/v1/peers", &peers)
		return len(peers) == 1 && peers[0].Connected == "Connected"
	})
	enc := url.PathEscape(topic)
	msg := `{"payload":"aGVsbG8gZnJvbSBB","contentTopic":"/e2e/1/chat/proto"}`
	waitFor(t, 20*time.Second, func() bool {
		// Publish until B has it: the first message can beat the mesh's first heartbeat.
		post(t, a.rest+"/relay/v1/messages/"+enc, msg, http.StatusOK)
		return received(t, b.rest, topic, "aGVsbG8gZnJvbSBB")
	})
	var health struct{ NodeHealth string }
	getJSON(t, b.rest+"/health", &health)
	if health.NodeHealth != "READY" {
		t.Fatalf("B health %q", health.NodeHealth)
	}
	// A stores what it relayed, and answers over store v3 REST.
	var page struct {
		Messages []struct{ MessageHash string } `json:"messages"`
	}
	waitFor(t, 10*time.Second, func() bool {
		getJSON(t, a.rest+"/store/v3/messages?pubsubTopic="+url.QueryEscape(topic)+"&contentTopics="+url.QueryEscape("/e2e/1/chat/proto"), &page)
		return len(page.Messages) > 0
	})
	// Lightpush served by A relays to B on the shard --pubsub-topic added.
	waitFor(t, 20*time.Second, func() bool {
		lp := fmt.Sprintf(`{"pubsubTopic":%q,"message":{"payload":"bGlnaHRwdXNo","contentTopic":"/e2e/1/chat/proto","timestamp":%d}}`, topic2, time.Now().UnixNano())
		post(t, a.rest+"/lightpush/v3/message", lp, http.StatusOK)
		return received(t, b.rest, topic2, "bGlnaHRwdXNo")
	})
	// Both serve metrics under nwaku's names.
	for _, p := range []*proc{a, b} {
		m := getText(t, "http://"+p.metrics+"/metrics")
		for _, want := range []string{"waku_version{", "libp2p_peers 1", "libp2p_pubsub_topics 2", "waku_node_messages_total{", "go_goroutines"} {
			if !strings.Contains(m, want) {
				t.Errorf("%s/metrics lacks %q", p.metrics, want)
			}
		}
	}
	b.stop(t)
	a.stop(t)
}

// received tells whether the node at rest has a message with payload on topic in its relay cache.
func received(t *testing.T, rest, topic, payload string) bool {
	var got []struct {
		Payload string `json:"payload"`
	}
	getJSON(t, rest+"/relay/v1/messages/"+url.PathEscape(topic), &got)
	for _, m := range got {
		if m.Payload == payload {
			return true
		}
	}
	return false
}

func getText(t *testing.T, u string) string {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return string(body)
}

type proc struct {
	cmd                     *exec.Cmd
	rest, restAddr, metrics string // REST base URL, its address, the metrics address
	summary                 string // the "wakunode running" line
	done                    chan error
}

// startBinary runs bin and waits for its "wakunode running" summary line, which follows the
// REST and metrics servers' lines.
func startBinary(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		var rest, metrics string
		for sc.Scan() {
			line := sc.Text()
			if m := restLine.FindStringSubmatch(line); m != nil {
				rest = m[1]
			}
			if m := metricsLine.FindStringSubmatch(line); m != nil {
				metrics = m[1]
			}
			if strings.Contains(line, "wakunode running") && p.summary == "" {
				p.restAddr, p.rest, p.metrics, p.summary = rest, "http://"+rest, metrics, line
				close(up)
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case <-up:
	case err := <-p.done:
		t.Fatalf("%s exited early: %v\n%s", bin, err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("the node did not come up")
	}
	return p
}

// stop sends SIGTERM and expects a clean exit within the 5 s the node promises (with slack).
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("node did not stop after SIGTERM")
	}
}

var (
	restLine    = regexp.MustCompile(`REST API listening on ([0-9a-f.:\[\]]+)`)
	metricsLine = regexp.MustCompile(`metrics server listening on ([0-9a-f.:\[\]]+)`)
)

var client = &http.Client{Timeout: 5 * time.Second}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", u, err, body)
	}
}

func post(t *testing.T, u, body string, want int) {
	t.Helper()
	resp, err := client.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: %d %s", u, resp.StatusCode, b)
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
