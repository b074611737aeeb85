package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/store"
	storepb "github.com/wakunode/wakunode/store/pb"
)

// resumeWindow bounds how far back a node with an empty archive asks (nwaku looks back a day).
const resumeWindow = 24 * time.Hour

// startResume runs store resume in the background (--store-resume): what the node missed while
// down is fetched from the store node, so short outages leave no gap. It retries with backoff
// until one pass succeeds or the node stops.
func (n *Node) startResume() {
	n.goOwned(func(ctx context.Context) {
		for wait := time.Second; ; wait = min(2*wait, time.Minute) {
			got, err := n.Resume(ctx)
			if err == nil {
				n.log.Info("store resume done", "messages", got)
				return
			}
			n.log.Warn("store resume failed, retrying", "err", err, "in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	})
}

// Resume asks the store node (--storenode) for every message since the newest one archived
// here (less the 20 s a message may lag its timestamp) on the shards this node relays, and
// archives those it lacks. It returns how many messages it queued.
func (n *Node) Resume(ctx context.Context) (int, error) {
	if n.archive == nil {
		return 0, errors.New("store resume needs the store (--store)")
	}
	newest, err := n.archive.Newest(ctx)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	start := now.Add(-resumeWindow).UnixNano()
	if newest > 0 {
		start = max(start, newest-int64(message.DefaultMaxTimeDrift))
	}
	p, err := n.servicePeer(ctx, nil, n.cfg.StoreNode, store.QueryProtocol, "")
	if err != nil {
		return 0, err
	}
	relayed := map[string]bool{}
	if n.relay != nil { // n.relay, not RelayTopics: this runs during Start
		for _, t := range n.relay.Topics() {
			relayed[t] = true
		}
	}
	req := &storepb.StoreQueryRequest{IncludeData: true, TimeStart: &start, PaginationForward: true}
	got := 0
	for page, err := range n.storeClient.Pages(ctx, p, req) {
		if err != nil {
			return got, fmt.Errorf("store resume from %s: %w", p, err)
		}
		for _, kv := range page.GetMessages() {
			if !relayed[kv.GetPubsubTopic()] || kv.GetMessage() == nil {
				continue
			}
			env, err := message.NewEnvelope(kv.GetPubsubTopic(), kv.GetMessage(), now.UnixNano())
			if err != nil || string(env.Hash[:]) != string(kv.GetMessageHash()) {
				continue // a message that does not match its advertised hash is not stored
			}
			if err := n.archive.InsertHistorical(ctx, env); err == nil {
				got++
			}
		}
	}
	return got, nil
}
