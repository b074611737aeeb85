package interop

import (
	"bytes"
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
	in, _ := json.Marshal(req)
	cmd := exec.Command(nodeBin, "sds.mjs")
	cmd.Dir = "sds"
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node sds.mjs: %v\n%s", err, out)
	}
	var res struct {
		Bloom         string `json:"bloom"`
		GoBloomHasAll bool   `json:"goBloomHasAll"`
		Messages      []struct {
			Class     string `json:"class"`
			Reencoded string `json:"reencoded"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
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
