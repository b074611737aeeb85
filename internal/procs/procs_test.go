package procs

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeRuntime records what the Governor asks of the runtime.
type fakeRuntime struct {
	mu             sync.Mutex
	cur, def, cpus int
	history        []int // every GOMAXPROCS set or reset to
}

func (f *fakeRuntime) runtime() Runtime {
	return Runtime{
		Get: func() int { f.mu.Lock(); defer f.mu.Unlock(); return f.cur },
		Set: func(n int) { f.mu.Lock(); defer f.mu.Unlock(); f.cur = n; f.history = append(f.history, n) },
		Reset: func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.cur = f.def
			f.history = append(f.history, f.def)
		},
		NumCPU: func() int { return f.cpus },
	}
}

func (f *fakeRuntime) procs() int { f.mu.Lock(); defer f.mu.Unlock(); return f.cur }

func noEnv(string) string { return "" }

func newFake(t *testing.T, def, cpus int) (*Governor, *fakeRuntime) {
	t.Helper()
	f := &fakeRuntime{cur: def, def: def, cpus: cpus}
	return New(Config{Runtime: f.runtime()}, noEnv), f
}

func TestLightLoadRunsOneP(t *testing.T) {
	g, f := newFake(t, 2, 2)
	for i := range DefaultLightAfter - 1 {
		g.Observe(0.01)
		if f.procs() != 2 {
			t.Fatalf("after %d light intervals: GOMAXPROCS %d, want 2 until %d in a row", i+1, f.procs(), DefaultLightAfter)
		}
	}
	g.Observe(0.01)
	if f.procs() != 1 {
		t.Fatalf("after %d light intervals: GOMAXPROCS %d, want 1", DefaultLightAfter, f.procs())
	}
	g.Observe(0.08) // between the thresholds: stays as it is
	if f.procs() != 1 {
		t.Fatalf("at 0.08 cores while light: GOMAXPROCS %d, want 1", f.procs())
	}
	g.Observe(0.5)
	if f.procs() != 2 {
		t.Fatalf("at 0.5 cores: GOMAXPROCS %d, want the default 2 back", f.procs())
	}
	// A run interrupted by load starts over.
	g.Observe(0.01)
	g.Observe(0.08)
	for range DefaultLightAfter - 1 {
		g.Observe(0.01)
	}
	if f.procs() != 2 {
		t.Fatalf("a light run broken by 0.08 cores counted on: GOMAXPROCS %d", f.procs())
	}
}

func TestWriterBusyAddsOneP(t *testing.T) {
	g, f := newFake(t, 2, 2)
	g.WriterBusy(true)
	if f.procs() != 3 {
		t.Fatalf("busy: GOMAXPROCS %d, want 3", f.procs())
	}
	g.WriterBusy(false)
	if f.procs() != 2 {
		t.Fatalf("after the spell: GOMAXPROCS %d, want the default 2", f.procs())
	}
	// Light, then busy, then not: one P, CPUs + 1, one P again.
	for range DefaultLightAfter {
		g.Observe(0)
	}
	g.WriterBusy(true)
	g.WriterBusy(false)
	if want := []int{3, 2, 1, 3, 1}; !slices.Equal(f.history, want) {
		t.Fatalf("GOMAXPROCS went %v, want %v", f.history, want)
	}
	g.Stop()
	if f.procs() != 2 {
		t.Fatalf("after Stop: GOMAXPROCS %d, want the default 2", f.procs())
	}
}

func TestQuotasAndOperatorsLeftAlone(t *testing.T) {
	if New(Config{}, func(k string) string { return map[string]string{"GOMAXPROCS": "4"}[k] }) != nil {
		t.Fatal("a GOMAXPROCS the operator set got a Governor")
	}
	var none *Governor // what New returns then: every method is a no-op
	none.Start()
	none.WriterBusy(true)
	none.Observe(0)
	none.Stop()

	g, f := newFake(t, 1, 4) // a cgroup quota of one CPU
	g.WriterBusy(true)
	for range DefaultLightAfter {
		g.Observe(0)
	}
	g.WriterBusy(false)
	if f.procs() != 1 || len(f.history) != 0 {
		t.Fatalf("under a quota of 1 of 4 CPUs: GOMAXPROCS %d (went %v), want 1 untouched", f.procs(), f.history)
	}
}

// The loop measures the process's CPU time: an idle process goes to one P, a busy one back to
// the default, and Stop restores it and ends the goroutine.
func TestLoopFollowsCPUTime(t *testing.T) {
	f := &fakeRuntime{cur: 4, def: 4, cpus: 4}
	var mu sync.Mutex
	var cpu time.Duration
	g := New(Config{Interval: 5 * time.Millisecond, Runtime: f.runtime(), CPUTime: func() (time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		return cpu, nil
	}}, noEnv)
	before := runtime.NumGoroutine()
	g.Start()
	waitProcs(t, f, 1)
	mu.Lock()
	cpu += time.Hour // far above HeavyAbove over any interval
	mu.Unlock()
	waitProcs(t, f, 4)
	g.Stop()
	if f.procs() != 4 {
		t.Fatalf("after Stop: GOMAXPROCS %d", f.procs())
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after Stop, %d before Start", n, before)
	}
}

// When the CPU time cannot be read any more, a light node goes back to the default and stays.
func TestLoopWithoutCPUTimeKeepsTheDefault(t *testing.T) {
	f := &fakeRuntime{cur: 2, def: 2, cpus: 2}
	var mu sync.Mutex
	var failing bool
	g := New(Config{Interval: 5 * time.Millisecond, Runtime: f.runtime(), CPUTime: func() (time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return 0, errors.New("no clock")
		}
		return 0, nil
	}}, noEnv)
	g.Start()
	defer g.Stop()
	waitProcs(t, f, 1)
	mu.Lock()
	failing = true
	mu.Unlock()
	waitProcs(t, f, 2)
	<-g.done // the loop has ended: nothing sets one P again
	if f.procs() != 2 {
		t.Fatalf("after the clock failed: GOMAXPROCS %d, want the default 2", f.procs())
	}
}

func TestProcessCPUAdvances(t *testing.T) {
	a, err := processCPU()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) { // burn CPU until the clock moves
		if b, _ := processCPU(); b > a {
			return
		}
	}
	t.Fatal("the process's CPU time did not advance while spinning")
}

func waitProcs(t *testing.T, f *fakeRuntime, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.procs() != want {
		if time.Now().After(deadline) {
			t.Fatalf("GOMAXPROCS %d, want %d", f.procs(), want)
		}
		time.Sleep(time.Millisecond)
	}
}
