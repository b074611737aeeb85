package lightpush

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/wakunode/wakunode/internal/testhost"
)

// BenchmarkPushV3 measures lightpush v3 requests/s end to end between two hosts on
// 127.0.0.1 (new stream, request, publish into a fake relay, response), 4 pushes in flight.
// Run: go test -run XXX -bench PushV3 -benchtime 2000x ./lightpush/
func BenchmarkPushV3(b *testing.B) {
	sh := startService(b, Config{Publisher: &fakeRelay{peers: 1}, Validator: static})
	ch := testhost.New(b)
	if err := ch.Connect(context.Background(), peer.AddrInfo{ID: sh.ID(), Addrs: sh.Addrs()}); err != nil {
		b.Fatal(err)
	}
	c := NewClient(ch)
	m := msg("/t/1/ok/proto", 1024)
	b.SetParallelism(2) // 2 × GOMAXPROCS goroutines
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Push(context.Background(), sh.ID(), served, m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
