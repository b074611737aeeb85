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
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinaryEndToEnd builds wakunode, starts two processes on loopback (one from an nwaku-style
// command line, one from a TOML file naming the first as a static node), publishes over REST on
// one and reads the message over REST on the other, then stops both with SIGTERM.
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
	const topic = "/waku/2/rs/16/3"

	a := startBinary(t, bin, "--cluster-id=16", "--num-shards-in-network=0", "--shard=3", "--listen-address=127.0.0.1", "--nat=none", "--tcp-port=0",
		"--rest-port=0", "--rest-admin=true", "--store=true", "--data-dir="+filepath.Join(dir, "a"), "--log-level=DEBUG")
	var info struct {
		ListenAddresses []string `json:"listenAddresses"`
		EnrURI          string   `json:"enrUri"`
	}
	getJSON(t, a.rest+"/debug/v1/info", &info)
	if len(info.ListenAddresses) == 0 || !strings.HasPrefix(info.EnrURI, "enr:") {
		t.Fatalf("info = %+v", info)
	}

	toml := filepath.Join(dir, "b.toml")
	cfg := fmt.Sprintf("cluster-id = 16\nnum-shards-in-network = 0\nshard = [3]\nlisten-address = \"127.0.0.1\"\nnat = \"none\"\ntcp-port = 0\nrest-port = 0\n"+
		"data-dir = %q\nstaticnode = [%q]\nlog-format = \"json\"\n", filepath.Join(dir, "b"), info.ListenAddresses[0])
	if err := os.WriteFile(toml, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startBinary(t, bin, "--config-file="+toml)

	// Wait until the relay mesh has formed: B's admin-less view is /health; A lists B as a peer.
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
		var got []struct {
			Payload      string `json:"payload"`
			ContentTopic string `json:"contentTopic"`
		}
		getJSON(t, b.rest+"/relay/v1/messages/"+enc, &got)
		return len(got) > 0 && got[0].Payload == "aGVsbG8gZnJvbSBB" && got[0].ContentTopic == "/e2e/1/chat/proto"
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
	b.stop(t)
	a.stop(t)
}

type proc struct {
	cmd  *exec.Cmd
	rest string
	done chan error
}

// startBinary runs bin and waits for its "REST API listening on" log line.
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
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if m := restLine.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case a := <-addr:
		p.rest = "http://" + a
	case err := <-p.done:
		t.Fatalf("%s exited early: %v\n%s", bin, err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("REST API did not come up")
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

var restLine = regexp.MustCompile(`REST API listening on ([0-9a-f.:\[\]]+)`)

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
