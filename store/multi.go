package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/store/pb"
)

// DefaultMultiLimit bounds the messages a fan-out query gathers from each node and returns
// when the caller sets no limit: the merge holds at most nodes × limit messages.
const DefaultMultiLimit = 10_000

// MaxMultiNodes bounds the store nodes one fan-out query asks.
const MaxMultiNodes = 16

// NodeReport is what one store node contributed to a fan-out query.
type NodeReport struct {
	Peer     peer.ID
	Pages    int   // pages received
	Returned int   // messages it returned (within the limit)
	Unique   int   // messages of the merged result no other node returned
	Err      error // the error that ended its walk early, if any
}

// MultiResult is a merged history: Messages in ascending (timestamp, hash) order, each once,
// and what every node contributed, in the order the nodes were given.
type MultiResult struct {
	Messages []*pb.WakuMessageKeyValue
	Nodes    []NodeReport
}

// QueryMulti runs req on several store nodes at once, follows each node's pages and merges the
// answers by message hash in timestamp order. With req forward it returns the oldest limit
// messages of the union, otherwise the newest limit (still in ascending order); limit <= 0
// means DefaultMultiLimit. The request's include_data is forced on (the merge needs the
// timestamps); its page size and cursor apply per node. An error is returned only when every
// node failed; partial failures are in the reports.
func (c *Client) QueryMulti(ctx context.Context, peers []peer.ID, req *pb.StoreQueryRequest, limit int) (*MultiResult, error) {
	if len(peers) == 0 {
		return nil, errors.New("store multi-query: no store nodes given")
	}
	if len(peers) > MaxMultiNodes {
		return nil, fmt.Errorf("store multi-query: %d nodes, at most %d", len(peers), MaxMultiNodes)
	}
	if limit <= 0 {
		limit = DefaultMultiLimit
	}
	req = proto.CloneOf(req)
	req.IncludeData = true
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	res := &MultiResult{Nodes: make([]NodeReport, len(peers))}
	got := make([][]*pb.WakuMessageKeyValue, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		res.Nodes[i].Peer = p
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = c.walk(ctx, p, req, limit, &res.Nodes[i])
		}()
	}
	wg.Wait()
	c.reportWithholding(res.Nodes)

	failed := 0
	for _, n := range res.Nodes {
		if n.Err != nil && n.Returned == 0 {
			failed++
		}
	}
	if failed == len(peers) {
		return res, fmt.Errorf("store multi-query: every node failed, first: %w", res.Nodes[0].Err)
	}
	res.Messages = merge(got, res.Nodes, limit, req.GetPaginationForward())
	return res, nil
}

// reportWithholding tells the Observer, as Failed, of every node that answered without error
// but with no message while another node had messages for the same query: a store that
// withholds history (or lost it) is as useless to a client as one that times out, and its
// empty pages were already credited as Received(p, 0), which cost nothing. The error paths
// (timeouts, refusals, a forged entry) were reported by Query or walk.
func (c *Client) reportWithholding(nodes []NodeReport) {
	if c.cfg.Observer == nil {
		return
	}
	someHad := slices.ContainsFunc(nodes, func(n NodeReport) bool { return n.Returned > 0 })
	for _, n := range nodes {
		if someHad && n.Err == nil && n.Returned == 0 {
			c.cfg.Observer.Failed(n.Peer)
		}
	}
}

// walk collects up to limit messages from p, page by page.
func (c *Client) walk(ctx context.Context, p peer.ID, req *pb.StoreQueryRequest, limit int, rep *NodeReport) []*pb.WakuMessageKeyValue {
	var out []*pb.WakuMessageKeyValue
	for resp, err := range c.Pages(ctx, p, req) {
		if err != nil {
			rep.Err = err
			break
		}
		rep.Pages++
		for _, kv := range resp.GetMessages() {
			// The hash is the merge key: one that does not match its message would let a
			// node shadow another's entry.
			h := message.ComputeHash(kv.GetPubsubTopic(), kv.GetMessage())
			if kv.GetMessage() == nil || !bytes.Equal(kv.GetMessageHash(), h[:]) {
				rep.Err = fmt.Errorf("store multi-query %s: entry whose hash does not match its message", p)
				if c.cfg.Observer != nil { // an unusable answer; the page was credited by Query
					c.cfg.Observer.Failed(p)
				}
				rep.Returned = len(out)
				return out
			}
			out = append(out, kv)
		}
		if len(out) >= limit {
			break
		}
	}
	if !req.GetPaginationForward() {
		// Backward pages come newest first, each page ascending: put the whole walk in order.
		slices.SortFunc(out, compareKV)
	}
	if len(out) > limit {
		if req.GetPaginationForward() {
			out = out[:limit]
		} else {
			out = out[len(out)-limit:]
		}
	}
	rep.Returned = len(out)
	return out
}

// merge sorts the union by (timestamp, hash), keeps each hash once and credits unique ones.
func merge(got [][]*pb.WakuMessageKeyValue, reps []NodeReport, limit int, forward bool) []*pb.WakuMessageKeyValue {
	type entry struct {
		kv    *pb.WakuMessageKeyValue
		node  int
		count int
	}
	var all []entry
	for i, kvs := range got {
		for _, kv := range kvs {
			all = append(all, entry{kv: kv, node: i})
		}
	}
	slices.SortStableFunc(all, func(a, b entry) int { return compareKV(a.kv, b.kv) })
	var uniq []entry
	for _, e := range all {
		if n := len(uniq); n > 0 && bytes.Equal(uniq[n-1].kv.GetMessageHash(), e.kv.GetMessageHash()) {
			uniq[n-1].count++
			continue
		}
		e.count = 1
		uniq = append(uniq, e)
	}
	if len(uniq) > limit {
		if forward {
			uniq = uniq[:limit]
		} else {
			uniq = uniq[len(uniq)-limit:]
		}
	}
	out := make([]*pb.WakuMessageKeyValue, len(uniq))
	for i, e := range uniq {
		out[i] = e.kv
		if e.count == 1 {
			reps[e.node].Unique++
		}
	}
	return out
}

func compareKV(a, b *pb.WakuMessageKeyValue) int {
	ta, tb := a.GetMessage().GetTimestamp(), b.GetMessage().GetTimestamp()
	switch {
	case ta < tb:
		return -1
	case ta > tb:
		return 1
	}
	return bytes.Compare(a.GetMessageHash(), b.GetMessageHash())
}
