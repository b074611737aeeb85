package metadata

import (
	"errors"
	"testing"
)

func TestVerify(t *testing.T) {
	cases := []struct {
		name  string
		info  Info
		relay bool
		want  error
		text  string
	}{
		{"relay ok", Info{Cluster: 1, HasCluster: true, Shards: []uint32{0, 7}}, true, nil, ""},
		{"light, no shards", Info{Cluster: 1, HasCluster: true}, false, nil, ""},
		{"light, different shards", Info{Cluster: 1, HasCluster: true, Shards: []uint32{500}}, false, nil, ""},
		{"shard 1023", Info{Cluster: 1, HasCluster: true, Shards: []uint32{1023}}, true, nil, ""},
		{"no cluster", Info{Shards: []uint32{0}}, true, ErrNoCluster, "empty cluster-id reported"},
		{"no cluster, light", Info{}, false, ErrNoCluster, "empty cluster-id reported"},
		{"cluster 0 sent explicitly", Info{Cluster: 0, HasCluster: true, Shards: []uint32{0}}, true, ErrClusterMismatch, "different clusterId reported: 1 vs 0"},
		{"other cluster", Info{Cluster: 16, HasCluster: true, Shards: []uint32{0}}, true, ErrClusterMismatch, "different clusterId reported: 1 vs 16"},
		{"cluster beyond uint16", Info{Cluster: 65537, HasCluster: true, Shards: []uint32{0}}, true, ErrClusterMismatch, "different clusterId reported: 1 vs 65537"},
		{"relay, no shards", Info{Cluster: 1, HasCluster: true}, true, ErrNoShards, ""},
		{"relay, shard 1024", Info{Cluster: 1, HasCluster: true, Shards: []uint32{3, 1024}}, true, ErrInvalidShard, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(1, c.info, c.relay)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
			if c.text != "" && err.Error() != c.text {
				t.Fatalf("message %q, want %q", err.Error(), c.text)
			}
		})
	}
}
