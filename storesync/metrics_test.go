package storesync

import (
	"maps"
	"sync"
)

type countMetrics struct {
	mu sync.Mutex
	n  map[string]int
}

func newCountMetrics() *countMetrics { return &countMetrics{n: map[string]int{}} }

func (m *countMetrics) add(k string, v int) {
	m.mu.Lock()
	m.n[k] += v
	m.mu.Unlock()
}

func (m *countMetrics) get(k string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[k]
}

func (m *countMetrics) snapshot() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.n)
}

func (m *countMetrics) Roundtrips(n int)         { m.add("roundtrips", n) }
func (m *countMetrics) Differences(n int)        { m.add("differences", n) }
func (m *countMetrics) Bytes(p, d string, n int) { m.add("bytes_"+p+"_"+d, n) }
func (m *countMetrics) TransferMessage(d string) { m.add("transfer_msg_"+d, 1) }
func (m *countMetrics) Cached(n int)             { m.mu.Lock(); m.n["cached"] = n; m.mu.Unlock() }
func (m *countMetrics) Dropped(reason string)    { m.add("dropped_"+reason, 1) }
