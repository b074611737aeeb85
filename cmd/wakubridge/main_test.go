package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wakunode/wakunode/internal/testlog"
	"github.com/wakunode/wakunode/wakuv1"
)

func TestBadFlagsStopWithAClearMessage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--store=true"}, "unknown flag --store"},
		{[]string{"--staticnode-v1=enode://nothex@127.0.0.1:30303"}, "--staticnode-v1=enode://nothex@127.0.0.1:30303"},
		{[]string{"--waku-v1-pow=-1"}, "--waku-v1-pow=-1"},
		{[]string{"--waku-v1-pow=abc"}, "waku-v1-pow"},
		{[]string{"--waku-v1-topic-interest=0x1234"}, "--waku-v1-topic-interest=0x1234"},
		{[]string{"--fleet-v1=prod"}, "--fleet-v1=prod"},
		{[]string{"--nodekey-v1=zz"}, "--nodekey-v1"},
		{[]string{"--bridge-pubsub-topic=/waku/2/default-waku/proto"}, "static shard"},
		{[]string{"--nat=magic"}, "--nat=magic"},
		{[]string{"--devp2p-tcp-port=70000"}, "--devp2p-tcp-port=70000"},
		{[]string{"--bridge-v1-ttl=0"}, "--bridge-v1-ttl=0"},
		{[]string{"stray"}, "unexpected argument"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errb.String(), tc.want)
		}
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "-staticnode-v1") {
		t.Fatalf("--help: exit %d", code)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// The command's wiring: a static v1 peer from the flags is dialed and listed, an envelope it
// posts is bridged and counted in waku_bridge_transfers, and the v2 REST API answers.
func TestBridgeCommandWiring(t *testing.T) {
	cfg := wakuv1.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.MinPoW = 0.002
	cfg.Logger = slog.New(slog.DiscardHandler)
	peer, err := wakuv1.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.Start(); err != nil {
		t.Fatal(err)
	}
	defer peer.Stop()

	o, err := parse([]string{"--listen-address=127.0.0.1", "--nat=none", "--devp2p-tcp-port=0", "--libp2p-tcp-port=0",
		"--data-dir=" + t.TempDir(), "--staticnode-v1=" + peer.Self().URLv4(), "--bridge-pubsub-topic=/waku/2/rs/16/0",
		"--rest=true", "--rest-port=0", "--metrics-server=true", "--metrics-server-port=0"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	a, err := start(context.Background(), o, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.stop()
	base := "http://" + a.http.addr

	var peers []wakuv1.PeerInfo
	deadline := time.Now().Add(15 * time.Second)
	for len(peers) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		getJSON(t, base+"/v1/peers", &peers)
	}
	if len(peers) != 1 || peers[0].ID != peer.Self().ID().String() {
		t.Fatalf("/v1/peers = %+v", peers)
	}

	e := &wakuv1.Envelope{Expiry: uint32(time.Now().Unix()) + 50, TTL: 50, Topic: wakuv1.Topic{1, 2, 3, 4}, Data: []byte("hello v2")}
	if err := e.Seal(context.Background(), 0.002); err != nil {
		t.Fatal(err)
	}
	if err := peer.Post(e); err != nil {
		t.Fatal(err)
	}
	want := `waku_bridge_transfers{type="v1_to_v2"} 1`
	for !strings.Contains(getText(t, base+"/metrics"), want) {
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed %s", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m := getText(t, base+"/metrics"); !strings.Contains(m, "waku_v1_peers 1") {
		t.Fatal("waku_v1_peers not exported")
	}
	var health map[string]any
	getJSON(t, "http://"+a.rest.Addr().String()+"/health", &health)
	if !strings.Contains(logs.String(), "Waku v1 peer connected") {
		t.Fatal("v1 peer connection not logged at INFO")
	}
}

// A signal (here: an already cancelled context) stops a started bridge cleanly with exit 0.
func TestRunStopsCleanly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Synchronised: go-libp2p-pubsub's loop may still log after node.Stop returns.
	out, errb := &testlog.Buffer{}, &testlog.Buffer{}
	code := run(ctx, []string{"--listen-address=127.0.0.1", "--nat=none", "--devp2p-tcp-port=0", "--libp2p-tcp-port=0",
		"--data-dir=" + t.TempDir(), "--bridge-pubsub-topic=/waku/2/rs/16/0", "--log-level=INFO"}, out, errb)
	if code != 0 || !strings.Contains(out.String(), "Waku v1 node listening") || !strings.Contains(out.String(), "shutting down") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out.String(), errb.String())
	}
}
