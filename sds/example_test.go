package sds_test

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/wakunode/wakunode/sds"
)

// An application runs one Channel per conversation over its Waku node: Publish sends the SDS
// bytes as a WakuMessage payload (relay or lightpush) and returns the message hash, Receive is
// called for every payload its subscription delivers, and Query is a store query by message
// hash. Here a map stands in for the network and the store node, and one message is lost.
func Example() {
	store := map[string][]byte{}
	var bob *sds.Channel
	lose := "second"
	publish := func(_ context.Context, payload []byte) ([]byte, error) {
		h := sha256.Sum256(payload) // a real node returns the WakuMessage's deterministic hash
		store[string(h[:])] = payload
		if m, _ := sds.Decode(payload); string(m.GetContent()) != lose {
			_ = bob.Receive(payload, h[:])
		}
		return h[:], nil
	}
	query := func(_ context.Context, hashes [][]byte) ([]sds.Retrieved, error) {
		var out []sds.Retrieved
		for _, h := range hashes {
			out = append(out, sds.Retrieved{Payload: store[string(h)], Hash: h})
		}
		return out, nil
	}
	alice := sds.NewChannel(sds.Config{ChannelID: "team", SenderID: "alice", Publish: publish})
	bob = sds.NewChannel(sds.Config{ChannelID: "team", SenderID: "bob", Query: query, OnEvent: func(e sds.Event) {
		switch e.Kind {
		case sds.Delivered:
			fmt.Printf("bob reads %q\n", e.Content)
		case sds.Missing:
			if e.MessageID != "" { // the sweep also reports the whole missing set
				fmt.Printf("bob misses %d message(s) before %s…\n", len(e.Entries), e.MessageID[:8])
			}
		}
	}})

	ctx := context.Background()
	for _, text := range []string{"first", "second", "third"} {
		_, _ = alice.Send(ctx, []byte(text))
	}
	n, _ := bob.RetrieveMissing(ctx)
	fmt.Println("retrieved from the store:", n)
	// Output:
	// bob reads "first"
	// bob misses 1 message(s) before b1e99324…
	// bob reads "second"
	// bob reads "third"
	// retrieved from the store: 1
}
