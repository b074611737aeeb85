package node_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/node"
)

// A node embedded in an application: start it, subscribe to a content topic, publish, receive.
func Example() {
	dir, _ := os.MkdirTemp("", "waku-example")
	defer os.RemoveAll(dir)

	cfg := node.DefaultConfig()
	cfg.DataDir = dir               // the generated node key is kept here
	cfg.ListenAddress = "127.0.0.1" // loopback only for the example
	cfg.TCPPort = 0                 // any free port
	cfg.ClusterID = 16              // an app-defined cluster...
	cfg.NumShardsInNetwork = 8      // ...autosharded over 8 shards
	cfg.ContentTopics = []string{"/toychat/2/huilong/proto"}
	cfg.Logger = slog.New(slog.DiscardHandler)

	n, err := node.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := n.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer n.Stop()

	sub := n.Subscribe(func(e *node.Envelope) bool { return e.Message.ContentTopic == "/toychat/2/huilong/proto" }, 16)
	defer sub.Close()

	msg := &pb.WakuMessage{Payload: []byte("hello waku"), ContentTopic: "/toychat/2/huilong/proto"}
	env, err := n.Publish(context.Background(), "", msg) // "" = shard chosen by autosharding
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("published on", env.PubsubTopic)

	select {
	case got := <-sub.C:
		fmt.Printf("received %q, same hash: %v\n", got.Message.Payload, got.Hash == env.Hash)
	case <-time.After(5 * time.Second):
		fmt.Println("timed out")
	}
	// Output:
	// published on /waku/2/rs/16/3
	// received "hello waku", same hash: true
}
