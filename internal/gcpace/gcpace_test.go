package gcpace

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

const mib = 1 << 20

// Test allocations live in package variables, where the compiler cannot see through them.
var (
	sink    [][]byte
	slots   [][]*byte
	garbage []byte
)

func readUint(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// start runs a Governor under a known GOGC and undoes everything when the test ends.
func start(t *testing.T, cfg Config) *Governor {
	t.Helper()
	oldPct := debug.SetGCPercent(int(cfg.GCPercent))
	g := Start(cfg)
	t.Cleanup(func() {
		g.Stop()
		debug.SetGCPercent(oldPct)
		sink, slots = nil, nil
		runtime.GC()
	})
	return g
}

// collectUntilRun collects until the Governor has acted on a collection that began after
// this call (the finalizer runs asynchronously, after the collection that queued it).
func collectUntilRun(t *testing.T, g *Governor) {
	t.Helper()
	want := g.runs.Load() + 2
	deadline := time.Now().Add(10 * time.Second)
	for g.runs.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("governor ran %d times, want %d: its finalizer is not re-armed", g.runs.Load(), want)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// probe returns a channel closed once an object that is already garbage has been finalized.
func probe() <-chan struct{} {
	ran := make(chan struct{})
	runtime.SetFinalizer(&tick{}, func(*tick) { close(ran) })
	return ran
}

// churn allocates n bytes that are garbage at once and returns the collections it took.
func churn(n int) uint64 {
	before := readUint("/gc/cycles/total:gc-cycles")
	for range n / (64 << 10) {
		garbage = make([]byte, 64<<10) // each replaces the last
	}
	return readUint("/gc/cycles/total:gc-cycles") - before
}

// growPointers keeps n bytes of pointer slots live: heap the collector has to scan.
func growPointers(n int) {
	for range n / mib {
		slots = append(slots, make([]*byte, mib/8))
	}
}

func grow(n int, chunk int) {
	for range n / chunk {
		sink = append(sink, make([]byte, chunk))
	}
}

func TestLimitFollowsTheLiveHeap(t *testing.T) {
	g := start(t, Config{Headroom: 8 * mib, MinPercent: 5, GCPercent: 50})

	// A small live heap: GOGC 50's headroom is under 8 MiB, so no limit is set.
	collectUntilRun(t, g)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit with a small live heap = %d MiB, want none (GOGC collects earlier)", got/mib)
	}

	// 96 MiB live: GOGC 50 would let the heap reach ~144 MiB; the Governor caps the goal at
	// live + 8 MiB (+3% that the runtime keeps back).
	grow(96*mib, mib)
	collectUntilRun(t, g)
	live := readUint(liveHeap)
	limit := uint64(debug.SetMemoryLimit(-1))
	if limit < live+8*mib || limit > live+8*mib+64*mib {
		t.Fatalf("limit = %d MiB with a live heap of %d MiB, want live + 8 MiB + the runtime's non-heap memory", limit/mib, live/mib)
	}
	runtime.GC()
	if goal := readUint("/gc/heap/goal:bytes"); goal > live+12*mib {
		t.Fatalf("heap goal = %d MiB with %d MiB live, want at most live + 8 MiB (+3%%)", goal/mib, live/mib)
	}
}

func TestHeadroomCoversTheScannableHeap(t *testing.T) {
	g := start(t, Config{Headroom: 8 * mib, MinPercent: 5, GCPercent: 50})
	grow(96*mib, mib)
	growPointers(32 * mib) // 128 MiB live, a quarter of it pointers
	collectUntilRun(t, g)
	live, scan := readUint(liveHeap), readUint(scanHeap)
	limit := uint64(debug.SetMemoryLimit(-1))
	if scan < 30*mib || limit < live+scan || limit > live+scan+64*mib {
		t.Fatalf("limit = %d MiB with %d MiB live, %d MiB of it scannable; want live + scannable + the runtime's non-heap memory", limit/mib, live/mib, scan/mib)
	}

	growPointers(96 * mib) // now half the heap is pointers: GOGC 50's headroom is no larger
	collectUntilRun(t, g)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit = %d MiB with half the heap scannable, want none (GOGC alone)", got/mib)
	}
}

func TestHeadroomSetsTheCollectionRate(t *testing.T) {
	g := start(t, Config{Headroom: 8 * mib, MinPercent: 5, GCPercent: 50})
	grow(96*mib, mib)
	collectUntilRun(t, g)

	// 512 MiB of garbage over a steady 96 MiB live heap: GOGC 50 alone collects about every
	// 48 MiB (~11 times); with 8 MiB of headroom about 64 times, fewer on a busy machine (a
	// collection starved of CPU lets more be allocated while it marks: 30-70 under -race with
	// the cores busy). Near GOGC's count means the limit did not bind; far more means the GC
	// ran back to back.
	cycles := churn(512 * mib)
	t.Logf("%d collections", cycles)
	if cycles < 22 || cycles > 160 {
		t.Fatalf("%d collections for 512 MiB of garbage with 8 MiB of headroom, want about 64", cycles)
	}
}

func TestBurstDoesNotSpin(t *testing.T) {
	g := start(t, Config{Headroom: 4 * mib, MinPercent: 10, GCPercent: 50})
	grow(48*mib, mib)
	collectUntilRun(t, g) // the limit now sits near 48 + 4 MiB

	// The live heap jumps to 48 + 256 MiB, far past the limit. A limit that stayed there would
	// make every collection end over it, so the GC would run back to back for as long as the
	// heap stays this large. The Governor raises it to the new live heap + 10%.
	grow(256*mib, 256<<10)
	collectUntilRun(t, g)
	live, limit := readUint(liveHeap), uint64(debug.SetMemoryLimit(-1))
	if limit < live+live/10 {
		t.Fatalf("limit %d MiB after the burst, want at least the live heap (%d MiB) + 10%%", limit/mib, live/mib)
	}
	cycles := churn(512 * mib)
	t.Logf("%d collections, limit %d live %d", cycles, limit>>20, live>>20)
	if cycles > 40 {
		t.Fatalf("%d collections for 512 MiB of garbage over %d MiB live with 10%% headroom, want about 17", cycles, live/mib)
	}
}

func TestStopRestoresTheLimit(t *testing.T) {
	old := debug.SetMemoryLimit(512 * mib) // as if GOMEMLIMIT were set
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	g := start(t, Config{Headroom: 1 * mib, MinPercent: 1, GCPercent: 50})
	grow(600*mib, 4*mib)
	collectUntilRun(t, g)
	if got := debug.SetMemoryLimit(-1); got != 512*mib {
		t.Fatalf("limit = %d MiB with 600 MiB live, want the operator's 512 MiB (never raised)", got/mib)
	}
	sink = nil
	grow(64*mib, mib)
	collectUntilRun(t, g)
	if got := debug.SetMemoryLimit(-1); got >= 512*mib {
		t.Fatalf("limit = %d MiB with 64 MiB live and 1 MiB headroom, want it lowered", got/mib)
	}
	g.Stop()
	if got := debug.SetMemoryLimit(-1); got != 512*mib {
		t.Fatalf("limit after Stop = %d MiB, want the 512 MiB found at Start", got/mib)
	}
	// Two more rounds of finalizers: the Governor's tick, were it still armed, would run in them.
	runs := g.runs.Load()
	for range 2 {
		ran := probe()
		for waiting := true; waiting; {
			runtime.GC()
			select {
			case <-ran:
				waiting = false
			case <-time.After(time.Millisecond):
			}
		}
	}
	if g.runs.Load() != runs || debug.SetMemoryLimit(-1) != 512*mib {
		t.Fatal("the Governor acted after Stop")
	}
}
