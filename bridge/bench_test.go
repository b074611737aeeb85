package bridge

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message/pb"
	"github.com/wakunode/wakunode/wakuv1"
)

// BenchmarkSealV2ToV1 is the PoW the v2 → v1 direction spends per message (TTL 5 s).
//
//	go test -run XXX -bench SealV2ToV1 -benchtime 200x ./bridge/
func BenchmarkSealV2ToV1(b *testing.B) {
	for _, pow := range []float64{0.002, 0.2} {
		for _, size := range []int{256, 1024, 10240} {
			b.Run(fmt.Sprintf("pow=%g/size=%d", pow, size), func(b *testing.B) {
				data := make([]byte, size)
				for i := 0; b.Loop(); i++ {
					binary.BigEndian.PutUint64(data, uint64(i)) // a fresh envelope each time
					e := &wakuv1.Envelope{Expiry: 1700000005, TTL: 5, Topic: topicT, Data: data}
					if err := e.Seal(context.Background(), pow); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkBridgeThroughput runs v1 node A ↔ bridge ↔ v2 node B on loopback. For each
// direction and offered rate it sends 2 s of 256-byte messages and prints how many crossed and
// their latency (A's post or B's publish to the other side's subscription: both hops).
//
//	go test -run XXX -bench BridgeThroughput -benchtime 1x ./bridge/
func BenchmarkBridgeThroughput(b *testing.B) {
	unlimited := func(c *wakuv1.Config) { c.PeerEnvelopeRate = 1e6; c.PeerByteRate = 1 << 30 }
	a, v2 := startV1(b, unlimited), startV2(b)
	r := startRig(b, unlimited)
	connectV1(b, a, r.v1)
	connectV2(b, r.v2, v2)
	subA := a.Subscribe(1 << 16)
	subB := v2.Subscribe(isV1Topic, 1<<16)
	const size = 256
	rates := []int{500, 1000, 2000, 4000, 8000}

	seq := 0 // message index, unique across steps
	postV1 := func(i int) {
		data := make([]byte, size)
		binary.BigEndian.PutUint64(data, uint64(i))
		e := &wakuv1.Envelope{Expiry: uint32(time.Now().Unix()) + 50, TTL: 50, Topic: topicT, Data: data}
		_ = e.Seal(context.Background(), 0.002) // the v1 sender's PoW, not the bridge's
		if err := a.Post(e); err != nil {
			b.Fatal(err)
		}
	}
	publishV2 := func(i int) {
		data := make([]byte, size)
		binary.BigEndian.PutUint64(data, uint64(i))
		ts, v := time.Now().UnixNano(), uint32(1)
		m := &pb.WakuMessage{Payload: data, ContentTopic: ContentTopic(topicT), Version: &v, Timestamp: &ts}
		if _, err := v2.Publish(context.Background(), testPubsubTopic, m); err != nil {
			b.Fatal(err)
		}
	}
	recvB := func(d time.Duration) (int, bool) {
		select {
		case e := <-subB.C:
			return int(binary.BigEndian.Uint64(e.Message.Payload)), true
		case <-time.After(d):
			return 0, false
		}
	}
	recvA := func(d time.Duration) (int, bool) {
		select {
		case e := <-subA.C:
			return int(binary.BigEndian.Uint64(e.Data)), true
		case <-time.After(d):
			return 0, false
		}
	}
	var rows []string
	for b.Loop() {
		for _, d := range []struct {
			name string
			send func(int)
			recv func(time.Duration) (int, bool)
		}{{"v1 → v2", postV1, recvB}, {"v2 → v1", publishV2, recvA}} {
			for _, rate := range rates {
				n := 2 * rate
				got, lat, took := paced(seq, n, rate, d.send, d.recv)
				seq += n
				p := func(q float64) time.Duration {
					if len(lat) == 0 {
						return 0
					}
					return lat[int(float64(len(lat)-1)*q)].Round(10 * time.Microsecond)
				}
				rows = append(rows, fmt.Sprintf("| %s | %d | %.0f | %d/%d | %s | %s | %s |", d.name, rate, float64(n)/took.Seconds(), got, n, p(0.5), p(0.99), p(1)))
			}
		}
	}
	fmt.Printf("\n| direction | offered msg/s | sent msg/s | crossed | p50 | p99 | max |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range rows {
		fmt.Println(row)
	}
	fmt.Printf("bridge drops: queue_full %v, publish_error %v; transfers v1→v2 %v, v2→v1 %v\n",
		dropped(r.br, DropQueueFull), dropped(r.br, DropPublish), transfers(r.br, TransferV1ToV2), transfers(r.br, TransferV2ToV1))
}

// paced sends n messages (indices first…first+n-1) at rate per second and collects the
// latency of each that arrives; it stops waiting 3 s after the last arrival.
func paced(first, n, rate int, send func(int), recv func(time.Duration) (int, bool)) (int, []time.Duration, time.Duration) {
	sent := make([]time.Time, n)
	var mu sync.Mutex
	var lat []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(lat) < n {
			i, ok := recv(3 * time.Second)
			if !ok {
				return
			}
			mu.Lock()
			if i -= first; i >= 0 && i < n && !sent[i].IsZero() {
				lat = append(lat, time.Since(sent[i]))
			}
			mu.Unlock()
		}
	}()
	t := time.NewTicker(time.Second / time.Duration(rate))
	start := time.Now()
	for i := 0; i < n; i++ {
		<-t.C
		mu.Lock()
		sent[i] = time.Now()
		mu.Unlock()
		send(first + i)
	}
	took := time.Since(start)
	t.Stop()
	<-done
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	return len(lat), lat, took
}
