package sds

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/store"
	"github.com/wakunode/wakunode/store/pb"
)

// StoreQuery adapts a store client to Config.Query: one store v3 query by message hashes
// (include_data) fanned out to the given store nodes and merged (store.Client.QueryMulti), so
// a message only one of them holds is still found.
func StoreQuery(c *store.Client, nodes ...peer.ID) func(context.Context, [][]byte) ([]Retrieved, error) {
	return func(ctx context.Context, hashes [][]byte) ([]Retrieved, error) {
		if len(hashes) > store.MaxPageSize {
			hashes = hashes[:store.MaxPageSize] // the rest are asked for on the next round
		}
		limit := uint64(store.MaxPageSize)
		res, err := c.QueryMulti(ctx, nodes, &pb.StoreQueryRequest{MessageHashes: hashes, PaginationLimit: &limit}, len(hashes))
		if err != nil {
			return nil, fmt.Errorf("sds store query: %w", err)
		}
		out := make([]Retrieved, 0, len(res.Messages))
		for _, kv := range res.Messages {
			out = append(out, Retrieved{Payload: kv.GetMessage().GetPayload(), Hash: kv.GetMessageHash()})
		}
		return out, nil
	}
}
