package sharding

import (
	"testing"

	"github.com/wakunode/wakunode/message"
)

func FuzzShard(f *testing.F) {
	for _, s := range []string{"/toychat/2/huilong/proto", "/0/a/1/b/c", "/1/a/1/b/c", "x"} {
		f.Add(s, uint16(8))
	}
	f.Fuzz(func(t *testing.T, topic string, n uint16) {
		sh, err := Autosharding{Cluster: 1, NumShards: n}.Shard(topic)
		if err != nil {
			return
		}
		if n == 0 || sh.Index >= n || sh.Cluster != 1 {
			t.Fatalf("Shard(%q, %d) = %v", topic, n, sh)
		}
		if _, err := message.ParseShard(sh.PubsubTopic()); err != nil {
			t.Fatalf("produced unparsable topic %q: %v", sh.PubsubTopic(), err)
		}
	})
}
