package metadata

import (
	"context"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/enr"
)

func TestCheckerPolicy(t *testing.T) {
	const p = peer.ID("remote")
	queryErr := errors.New("stream reset")
	for _, tc := range []struct {
		name       string
		known      *Info // what the peer sent in its own request
		queried    Info  // what a query returns
		queryFails bool
		relay      bool
		wantErr    error
		wantQuery  bool
		wantShards *enr.RelayShards
	}{
		{name: "relay peer of our cluster", queried: Info{Cluster: 16, HasCluster: true, Shards: []uint32{3, 5000}}, relay: true,
			wantQuery: true, wantShards: &enr.RelayShards{Cluster: 16, Shards: []uint16{3}}, wantErr: ErrInvalidShard},
		{name: "own request spares the query", known: &Info{Cluster: 16, HasCluster: true, Shards: []uint32{1}}, relay: true,
			wantShards: &enr.RelayShards{Cluster: 16, Shards: []uint16{1}}},
		{name: "request without cluster is queried", known: &Info{}, queried: Info{Cluster: 16, HasCluster: true, Shards: []uint32{2}},
			relay: true, wantQuery: true, wantShards: &enr.RelayShards{Cluster: 16, Shards: []uint16{2}}},
		{name: "other cluster", queried: Info{Cluster: 17, HasCluster: true, Shards: []uint32{3}}, relay: true,
			wantQuery: true, wantShards: &enr.RelayShards{Cluster: 17, Shards: []uint16{3}}, wantErr: ErrClusterMismatch},
		{name: "relay peer without shards", queried: Info{Cluster: 16, HasCluster: true}, relay: true, wantQuery: true, wantErr: ErrNoShards},
		{name: "light client without shards kept", queried: Info{Cluster: 16, HasCluster: true}, wantQuery: true},
		{name: "no cluster", queried: Info{}, wantQuery: true, wantErr: ErrNoCluster},
		{name: "query fails", queryFails: true, wantQuery: true, wantErr: queryErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			queried, recorded := false, false
			var gotShards *enr.RelayShards
			c := Checker{
				Cluster: 16,
				Known: func(peer.ID) (Info, bool) {
					if tc.known == nil {
						return Info{}, false
					}
					return *tc.known, true
				},
				Query: func(context.Context, peer.ID) (Info, error) {
					queried = true
					if tc.queryFails {
						return Info{}, queryErr
					}
					return tc.queried, nil
				},
				Record: func(_ peer.ID, _ Info, rs *enr.RelayShards) { recorded, gotShards = true, rs },
			}
			err := c.Check(context.Background(), p, tc.relay)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if queried != tc.wantQuery {
				t.Fatalf("queried %v, want %v", queried, tc.wantQuery)
			}
			if recorded == tc.queryFails {
				t.Fatalf("recorded %v after a query that failed=%v", recorded, tc.queryFails)
			}
			if (gotShards == nil) != (tc.wantShards == nil) ||
				(gotShards != nil && (gotShards.Cluster != tc.wantShards.Cluster || len(gotShards.Shards) != len(tc.wantShards.Shards) || gotShards.Shards[0] != tc.wantShards.Shards[0])) {
				t.Fatalf("recorded shards %+v, want %+v", gotShards, tc.wantShards)
			}
		})
	}
}
