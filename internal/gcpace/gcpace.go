// Package gcpace bounds how far the Go heap may grow above its live part before the next
// collection. GOGC sets that headroom as a fraction of the live heap; a relay node's live
// heap is mostly pointer-free message payloads kept for gossip, which a collection marks
// almost for free, so a large live heap makes GOGC's headroom large in bytes without making
// collections dear. After each collection the Governor sets the runtime's memory limit to the
// live heap plus a fixed headroom (plus what the runtime holds besides heap objects), so the
// next collection comes that many bytes later at most. The headroom is never less than the
// scannable part of the heap, so a collection marks no more bytes than were allocated since
// the last one: where the heap is mostly pointers (small messages at a high rate, a backlog
// of queued messages) the Governor steps back and GOGC paces the GC as before. The limit
// moves with the live heap at every cycle: a burst that outgrows it costs a few early
// collections until the limit has caught up, not a GC that spins for as long as the heap
// stays large, as under a fixed GOMEMLIMIT.
package gcpace

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// Config says how much headroom the heap gets above its live part.
type Config struct {
	// Headroom is the most the heap may grow above the live heap before a collection, in
	// bytes, unless the scannable heap or MinPercent of the live heap is more.
	Headroom uint64
	// MinPercent floors the headroom at this percentage of the live heap: every collection
	// also sweeps the whole heap, so a large heap is not collected every Headroom bytes.
	MinPercent uint64
	// GCPercent is the GOGC in force (it is not readable without changing it); the headroom
	// never exceeds GCPercent of the live heap, so the Governor only ever collects earlier.
	GCPercent uint64
}

// Governor moves the memory limit after each collection. It runs no goroutine of its own:
// the adjustment is the finalizer of an object that is garbage at every cycle, so it runs on
// the runtime's finalizer goroutine once per collection.
type Governor struct {
	cfg Config
	// ceiling is the memory limit in force at Start (GOMEMLIMIT, or none): never exceeded.
	ceiling int64
	mu      sync.Mutex // orders Stop against a finalizer run in progress
	stopped bool
	runs    atomic.Uint64 // collections acted on
	// samples is only touched by the finalizer goroutine (and Start before arming).
	samples []metrics.Sample
}

const (
	liveHeap     = "/gc/heap/live:bytes"
	scanHeap     = "/gc/scan/heap:bytes"
	totalMapped  = "/memory/classes/total:bytes"
	heapReleased = "/memory/classes/heap/released:bytes"
	heapFree     = "/memory/classes/heap/free:bytes"
	heapObjects  = "/memory/classes/heap/objects:bytes"
)

// tick is the object whose finalizer runs once per collection. It holds a pointer so the
// allocator never packs it into a shared tiny block, whose finalizer could wait indefinitely.
type tick struct{ g *Governor }

// Start arms the Governor; it acts from the next collection on.
func Start(cfg Config) *Governor {
	g := &Governor{cfg: cfg, ceiling: debug.SetMemoryLimit(-1)}
	for _, name := range []string{liveHeap, scanHeap, totalMapped, heapReleased, heapFree, heapObjects} {
		g.samples = append(g.samples, metrics.Sample{Name: name})
	}
	arm(&tick{g: g})
	return g
}

func arm(t *tick) { runtime.SetFinalizer(t, onCollection) }

func onCollection(t *tick) {
	g := t.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	debug.SetMemoryLimit(g.limit())
	g.runs.Add(1)
	arm(t)
}

// limit is the memory limit that lets the heap grow by the headroom over the live heap
// the last collection found.
func (g *Governor) limit() int64 {
	metrics.Read(g.samples)
	v := func(i int) uint64 { return g.samples[i].Value.Uint64() }
	live, scan, total, released, free, objects := v(0), v(1), v(2), v(3), v(4), v(5)
	headroom := max(g.cfg.Headroom, scan, live/100*g.cfg.MinPercent)
	if headroom >= live/100*g.cfg.GCPercent {
		return g.ceiling // GOGC alone collects at least as early
	}
	// The runtime counts against the limit all it has mapped and not released. Of that, what
	// is neither heap objects nor free heap (stacks, metadata, fragmentation) stays as it is.
	var other uint64
	if ready := total - released; ready > free+objects {
		other = ready - free - objects
	}
	goal := live + headroom
	// The runtime aims 3% under the limit's heap goal (at least 1 MiB); give that back.
	want := other + goal + max(goal*3/100, 1<<20)
	if want > math.MaxInt64 || int64(want) > g.ceiling {
		return g.ceiling
	}
	return int64(want)
}

// Stop disarms the Governor and restores the memory limit found at Start. The finalizer may
// still run once more; it then does nothing. A nil Governor (none started) is a no-op.
func (g *Governor) Stop() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	debug.SetMemoryLimit(g.ceiling)
}
