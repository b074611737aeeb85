package interop

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wakunode/wakunode/sds"
	"github.com/wakunode/wakunode/sds/pb"
)

// TestJSWakuSDS compares wakunode's sds package with unmodified @waku/sds 0.0.8 (pinned in
// sds/package.json): js's bloom filter over the same ids must equal ours byte for byte (18 752
// bytes), js must find every id in our filter, and js must decode our messages to the same
// class and re-encode them to the same bytes.
func TestJSWakuSDS(t *testing.T) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		requireInterop(t, "Node.js (`node`) is not on PATH")
	}
	if _, err := os.Stat(filepath.Join("sds", "node_modules", "@waku", "sds")); err != nil {
		requireInterop(t, "interop/sds/node_modules is missing: run `npm ci` in interop/sds")
	}
	var ids []string
	var f sds.Bloom
	for i := range 500 {
		id := sds.MessageID(fmt.Appendf(nil, "message %d", i))
		ids = append(ids, id)
		f.Add(id)
	}
	ids = append(ids, "sync-x", "ünïcode") // not hex: js hashes UTF-16 code units
	f.Add("sync-x")
	f.Add("ünïcode")
	l0, l1 := uint64(0), uint64(1_700_000_000_000)
	msgs := []*pb.SdsMessage{
		{SenderId: "alice", MessageId: ids[0], ChannelId: "chan", LamportTimestamp: &l1, BloomFilter: f.Bytes(), Content: []byte("hello"),
			CausalHistory: []*pb.HistoryEntry{{MessageId: ids[1], RetrievalHint: bytes.Repeat([]byte{7}, 32), SenderId: strPtr("bob")}, {MessageId: ids[2]}}},
		{SenderId: "alice", MessageId: "sync-abc", ChannelId: "chan", LamportTimestamp: &l0, CausalHistory: []*pb.HistoryEntry{{MessageId: ids[3]}}},
		{SenderId: "alice", MessageId: ids[4], ChannelId: "chan", Content: []byte("hi")},
		{SenderId: "alice", MessageId: "sync-x", ChannelId: "chan", LamportTimestamp: &l1, RepairRequest: []*pb.HistoryEntry{{MessageId: ids[5], SenderId: strPtr("bob")}}},
	}
	wantClass := []string{"content", "sync", "ephemeral", "sync"}
	req := map[string]any{"ids": ids, "goBloom": hex.EncodeToString(f.Bytes())}
	var encoded []string
	for _, m := range msgs {
		b, err := sds.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, hex.EncodeToString(b))
	}
	req["goMessages"] = encoded
	res := runSDS(t, nodeBin, req)
	if res.Bloom != hex.EncodeToString(f.Bytes()) {
		t.Fatal("js bloom filter differs from ours")
	}
	if !res.GoBloomHasAll {
		t.Fatal("js does not find every id in our filter")
	}
	for i, m := range res.Messages {
		if m.Class != wantClass[i] || m.Reencoded != encoded[i] {
			t.Errorf("message %d: js class %s (want %s), re-encoding equal: %v", i, m.Class, wantClass[i], m.Reencoded == encoded[i])
		}
	}
}

func strPtr(s string) *string { return &s }

type sdsResult struct {
	Bloom         string `json:"bloom"`
	GoBloomHasAll bool   `json:"goBloomHasAll"`
	Messages      []struct {
		Class     string `json:"class"`
		Reencoded string `json:"reencoded"`
	} `json:"messages"`
	Missing   []string `json:"missing"`
	Delivered []string `json:"delivered"`
	JSSent    string   `json:"jsSent"`
}

func runSDS(t *testing.T, nodeBin string, req map[string]any) sdsResult {
	t.Helper()
	if req["ids"] == nil {
		req["ids"], req["goBloom"], req["goMessages"] = []string{}, hex.EncodeToString(make([]byte, sds.BloomSize)), []string{}
	}
	in, _ := json.Marshal(req)
	cmd := exec.Command(nodeBin, "sds.mjs")
	cmd.Dir = "sds"
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node sds.mjs: %v\n%s", err, out)
	}
	var res sdsResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return res
}

// TestJSWakuSDSChannel: a Go participant's messages go to a js MessageChannel with one held
// back; js reports exactly that one missing, delivers all once it arrives, and the message js
// then sends acknowledges all three at the Go participant.
func TestJSWakuSDSChannel(t *testing.T) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		requireInterop(t, "Node.js (`node`) is not on PATH")
	}
	if _, err := os.Stat(filepath.Join("sds", "node_modules", "@waku", "sds")); err != nil {
		requireInterop(t, "interop/sds/node_modules is missing: run `npm ci` in interop/sds")
	}
	var sent [][]byte
	var acked []string
	goCh := sds.NewChannel(sds.Config{ChannelID: "chan", SenderID: "go",
		Publish: func(_ context.Context, p []byte) ([]byte, error) {
			sent = append(sent, p)
			return bytes.Repeat([]byte{byte(len(sent))}, 32), nil
		},
		OnEvent: func(e sds.Event) {
			if e.Kind == sds.Acknowledged {
				acked = append(acked, e.MessageID)
			}
		}})
	var ids []string
	for _, s := range []string{"one", "two", "three"} {
		id, err := goCh.Send(context.Background(), []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	feed := []string{hex.EncodeToString(sent[0]), hex.EncodeToString(sent[2]), hex.EncodeToString(sent[1])}
	res := runSDS(t, nodeBin, map[string]any{"channelFeed": feed})
	if len(res.Missing) != 1 || res.Missing[0] != ids[1] {
		t.Fatalf("js missing %v, want [%s]", res.Missing, ids[1])
	}
	if len(res.Delivered) != 3 || res.Delivered[0] != ids[0] || res.Delivered[1] != ids[1] || res.Delivered[2] != ids[2] {
		t.Fatalf("js delivered %v, want %v", res.Delivered, ids)
	}
	raw, err := hex.DecodeString(res.JSSent)
	if err != nil || len(raw) == 0 {
		t.Fatalf("js sent %q", res.JSSent)
	}
	if err := goCh.Receive(raw, nil); err != nil {
		t.Fatal(err)
	}
	if len(acked) != 3 || len(goCh.Unacknowledged()) != 0 {
		t.Fatalf("acked %v", acked)
	}
}
