package message

import (
	"runtime"
	"testing"
	"time"
)

func TestRecentHashes(t *testing.T) {
	now := time.Unix(1000, 0)
	r := NewRecentHashes(2, time.Minute)
	h := func(i byte) Hash { return Hash{i} }
	if !r.Add(h(1), now) || r.Add(h(1), now) {
		t.Fatal("second add of the same hash is new")
	}
	if !r.Add(h(1), now.Add(2*time.Minute)) {
		t.Fatal("hash still seen after its ttl")
	}
	r.Add(h(2), now)
	r.Add(h(3), now) // pushes out the oldest slot
	if r.Len() > 2 {
		t.Fatalf("%d hashes held, bound 2", r.Len())
	}
	// Hashes that differ only past the 8-byte key are one entry: the key is all that is kept.
	var a, b Hash
	a[31], b[31] = 1, 2
	if !r.Add(a, now) || r.Add(b, now) {
		t.Fatal("the key is the first 8 bytes")
	}
	hasAt := NewRecentHashes(4, time.Minute)
	if hasAt.Has(h(7), now) {
		t.Fatal("Has of a hash never added")
	}
	hasAt.Add(h(7), now)
	// Has at +30 s must not renew the hash (Add does), so it is gone at +1 min +1 ns.
	if !hasAt.Has(h(7), now.Add(30*time.Second)) || !hasAt.Has(h(7), now.Add(time.Minute)) ||
		hasAt.Has(h(7), now.Add(time.Minute+1)) {
		t.Fatal("Has must hold a hash for its ttl from Add, and no longer")
	}
	forever := NewRecentHashes(4, 0)
	if !forever.Add(h(1), now) || forever.Add(h(1), now.Add(time.Hour)) {
		t.Fatal("ttl 0 forgets")
	}
}

// BenchmarkRecentHashesGC is the garbage collector's cost of relay's full duplicate set
// (65,536 hashes): one forced collection per op with the set live. It also reports the set's
// heap bytes per hash.
func BenchmarkRecentHashesGC(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := NewRecentHashes(1<<16, time.Minute)
	now := time.Now()
	for i := range 1 << 16 {
		var h Hash
		h[0], h[1], h[2] = byte(i), byte(i>>8), 1
		r.Add(h, now)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportAllocs()
	for b.Loop() {
		runtime.GC()
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<16), "heapB/hash")
	runtime.KeepAlive(r)
}
