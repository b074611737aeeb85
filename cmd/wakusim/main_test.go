package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// The command prints one JSON object with the keys issue 6 names, for each router.
func TestRunJSON(t *testing.T) {
	for _, router := range []string{"flood", "gossipsub"} {
		var out strings.Builder
		args := []string{"--nodes", "12", "--degree", "4", "--router", router, "--shards", "1",
			"--messages", "8", "--size", "500", "--rate", "20", "--warmup", "2s", "--drain", "15s", "--json"} // the drain ends at full delivery
		if err := run(context.Background(), args, &out, io.Discard); err != nil {
			t.Fatalf("%s: %v", router, err)
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
			t.Fatalf("%s: output is not one JSON object: %v\n%s", router, err, out.String())
		}
		for _, k := range []string{"nodes", "router", "copies_per_message", "amplification", "delivery_ratio", "latency_p50_ms", "latency_p99_ms",
			"wire_in_bytes_per_msg", "wire_out_bytes_per_msg", "wire_control_share", "wire_out_bytes_per_msg_by_kind",
			"wire_frames_out_per_msg", "wire_tcp_out_bytes_per_msg_est"} {
			if _, ok := r[k]; !ok {
				t.Errorf("%s: key %q missing in %v", router, k, r)
			}
		}
		if r["router"] != router || r["nodes"] != float64(12) || r["delivery_ratio"] != float64(1) {
			t.Errorf("%s: router %v, nodes %v, delivery %v", router, r["router"], r["nodes"], r["delivery_ratio"])
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--router", "carrier-pigeon"},
		{"--params", "bogus"},
		{"--nodes", "-3"},
		{"--loss", "1.5"},
		{"--rate", "0"},
		{"--gossip", "4"},  // above the node's history of 3: advertised messages would be gone
		{"--history", "1"}, // below the node's IHAVE window of 2
		{"--heartbeat", "-1s"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

// --history, --gossip and --heartbeat set the gossip windows the run uses and name them in "params".
func TestRunGossipWindows(t *testing.T) {
	var out strings.Builder
	args := []string{"--nodes", "4", "--degree", "3", "--messages", "2", "--warmup", "1s", "--drain", "10s",
		"--history", "5", "--gossip", "4", "--heartbeat", "500ms", "--json"}
	if err := run(context.Background(), args, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	if r["params"] != "node+history5/4+heartbeat500ms" {
		t.Errorf("params %v, want node+history5/4+heartbeat500ms", r["params"])
	}
}
