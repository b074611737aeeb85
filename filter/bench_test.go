package filter

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
)

// BenchmarkFanout pushes b.N messages to FILTER_BENCH_CLIENTS light clients (default 100),
// each its own libp2p host on 127.0.0.1 subscribed through a Client, and reports messages/s
// and pushes/s once every client has every message. 1,000 hosts work
// (FILTER_BENCH_CLIENTS=1000) but are heavy on a shared 2-core machine.
// Run: go test -run XXX -bench Fanout -benchtime 200x ./filter/
func BenchmarkFanout(b *testing.B) {
	clients := 100
	if v, err := strconv.Atoi(os.Getenv("FILTER_BENCH_CLIENTS")); err == nil && v > 0 {
		clients = v
	}
	buf := max(b.N, 256)
	// The service host takes every client's connection: libp2p's default resource limits
	// would reset some of 1,000 (a node caps connections with --max-connections instead).
	sh, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(),
		libp2p.ResourceManager(&network.NullResourceManager{}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sh.Close() })
	s := NewService(sh, Config{QueueSize: buf})
	s.Start()
	b.Cleanup(s.Stop)
	const ct = "/bench/1/fanout/proto"
	subs := make([]*Subscription, clients)
	for i := range subs {
		c := NewClient(testhost.New(b), ClientConfig{BufferSize: buf})
		b.Cleanup(c.Close)
		testhost.Connect(b, c.h, sh)
		ss, err := c.Subscribe(context.Background(), sh.ID(), testTopic, ct)
		if err != nil {
			b.Fatal(err)
		}
		subs[i] = ss
	}
	envs := make([]*message.Envelope, b.N)
	for i := range envs {
		envs[i] = envelope(b, testTopic, ct, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, ss := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range b.N {
				<-ss.C
			}
		}()
	}
	for _, e := range envs {
		s.Push(e)
	}
	wg.Wait()
	b.StopTimer()
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/sec, "msgs/s")
	b.ReportMetric(float64(b.N*clients)/sec, "pushes/s")
}
