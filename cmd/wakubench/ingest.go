package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
)

// ingest measures relay → archive → queryable through a storing wakunode: a publisher node
// connected to it publishes N messages at a given rate; the clock stops when the last one is
// answered by store v3 over REST, and a walk of the store checks that none went missing.
func ingest(args []string) error {
	fs := flag.NewFlagSet("ingest", flag.ExitOnError)
	bin := fs.String("bin", "./wakunode", "wakunode binary")
	db := fs.String("db", "sqlite://store.sqlite3", "--store-message-db-url of the node under test")
	total := fs.Int("messages", 100_000, "messages to publish")
	rate := fs.Int("rate", 20_000, "publish rate in msg/s")
	size := fs.Int("size", 1024, "payload size in bytes")
	_ = fs.Parse(args)

	p, peers, cleanup, err := startRig(*bin, 1, "--store=true", "--store-message-db-url="+*db)
	if err != nil {
		return err
	}
	defer cleanup()
	pub := peers[0]

	var seq uint64
	start := time.Now()
	sent := publishAt(nodePublisher(pub), *rate, *size, time.Duration(float64(*total)/float64(*rate)*float64(time.Second)), &seq)
	pubDone := time.Since(start)
	last, err := publishMarker(pub)
	if err != nil {
		return err
	}
	for !storeHas(p.rest, last) {
		if time.Since(start) > 5*time.Minute {
			return fmt.Errorf("last message not queryable after 5 min")
		}
		time.Sleep(5 * time.Millisecond)
	}
	queryable := time.Since(start)
	_, _, peak, _ := procStat(p.cmd.Process.Pid)
	stored, err := storeCount(p.rest)
	if err != nil {
		return err
	}
	stored-- // the marker
	fmt.Println("| db | messages | published in | last queryable after | ingest msg/s | stored | node peak RSS |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	fmt.Printf("| %s | %d | %s | %s | %.0f | %d | %.0f MB |\n", dbKind(*db), sent, pubDone.Round(time.Millisecond),
		queryable.Round(time.Millisecond), float64(sent)/queryable.Seconds(), stored, float64(peak)/1024)
	return nil
}

func dbKind(u string) string {
	if len(u) > 8 && u[:8] == "postgres" {
		return "PostgreSQL"
	}
	return "SQLite"
}

// publishMarker publishes one last message after the run. The archive writes in arrival order,
// so once the marker is queryable every earlier message is too.
func publishMarker(n *node.Node) (string, error) {
	ts := time.Now().UnixNano()
	env, err := n.Publish(context.Background(), benchTopic, &pb.WakuMessage{Payload: []byte("marker"), ContentTopic: "/bench/1/fwd/proto", Timestamp: &ts})
	if err != nil {
		return "", err
	}
	return env.Hash.String(), nil
}

func storeHas(rest, hash string) bool {
	var r struct {
		Messages []json.RawMessage `json:"messages"`
	}
	resp, err := http.Get(rest + "/store/v3/messages?hashes=" + url.QueryEscape(hash))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(&r) == nil && len(r.Messages) == 1
}

// storeCount walks the whole store forward, 100 hashes a page.
func storeCount(rest string) (int, error) {
	n, cursor := 0, ""
	for {
		u := rest + "/store/v3/messages?pageSize=100&ascending=true"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		resp, err := http.Get(u)
		if err != nil {
			return n, err
		}
		var page struct {
			Messages         []json.RawMessage `json:"messages"`
			PaginationCursor string            `json:"paginationCursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return n, err
		}
		n += len(page.Messages)
		if page.PaginationCursor == "" || len(page.Messages) == 0 {
			return n, nil
		}
		cursor = page.PaginationCursor
	}
}
