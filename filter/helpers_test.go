package filter

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

const testTopic = "/waku/2/rs/1/0"

func envelope(t testing.TB, pubsubTopic, contentTopic string, n int) *message.Envelope {
	t.Helper()
	ts := int64(n + 1)
	e, err := message.NewEnvelope(pubsubTopic, &pb.WakuMessage{
		Payload: []byte(fmt.Sprintf("payload %d", n)), ContentTopic: contentTopic, Timestamp: &ts,
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// recv waits for n envelopes on c; the deadline only stops a hung test.
func recv(t testing.TB, c <-chan *message.Envelope, n int) []*message.Envelope {
	t.Helper()
	var out []*message.Envelope
	deadline := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case e, ok := <-c:
			if !ok {
				t.Fatalf("channel closed after %d of %d messages", len(out), n)
			}
			out = append(out, e)
		case <-deadline:
			t.Fatalf("received %d of %d messages", len(out), n)
		}
	}
	return out
}

// eventually polls cond; the deadline only stops a hung test.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

type countMetrics struct {
	mu       sync.Mutex
	requests map[string]int
	pushed   atomic.Int64
	dropped  map[string]int
	subDrop  map[string]int
}

func newCountMetrics() *countMetrics {
	return &countMetrics{requests: map[string]int{}, dropped: map[string]int{}, subDrop: map[string]int{}}
}

func (m *countMetrics) Request(kind string, status uint32, _ time.Duration) {
	m.mu.Lock()
	m.requests[fmt.Sprintf("%s/%d", kind, status)]++
	m.mu.Unlock()
}
func (m *countMetrics) Pushed() { m.pushed.Add(1) }
func (m *countMetrics) PushDropped(r string) {
	m.mu.Lock()
	m.dropped[r]++
	m.mu.Unlock()
}
func (m *countMetrics) SubscriberDropped(r string) {
	m.mu.Lock()
	m.subDrop[r]++
	m.mu.Unlock()
}
func (m *countMetrics) Subscribers(int) {}
func (m *countMetrics) get(mp map[string]int, k string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return mp[k]
}

func newMsg(ct string, ts int64) *pb.WakuMessage {
	return &pb.WakuMessage{Payload: []byte("x"), ContentTopic: ct, Timestamp: &ts}
}
