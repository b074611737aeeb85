package main

import (
	"slices"
	"testing"
)

// fakeProcs records what writerProcs asks of the runtime.
type fakeProcs struct {
	cur, def, cpus int
	logged         []int
}

func (f *fakeProcs) procs() procs {
	return procs{get: func() int { return f.cur }, set: func(n int) { f.cur = n }, reset: func() { f.cur = f.def },
		numCPU: func() int { return f.cpus }, logBusy: func(_ bool, n int) { f.logged = append(f.logged, n) }}
}

func TestWriterProcsAddsOnePWhileBusy(t *testing.T) {
	f := &fakeProcs{cur: 2, def: 2, cpus: 2}
	hook := writerProcs(func(string) string { return "" }, f.procs())
	hook(true)
	if f.cur != 3 {
		t.Fatalf("busy: GOMAXPROCS %d, want 3", f.cur)
	}
	hook(false)
	if f.cur != 2 {
		t.Fatalf("after the spell: GOMAXPROCS %d, want the default 2", f.cur)
	}
	if !slices.Equal(f.logged, []int{3, 2}) {
		t.Fatalf("logged %v, want [3 2]", f.logged)
	}
}

func TestWriterProcsLeavesQuotasAndOperatorsAlone(t *testing.T) {
	if writerProcs(func(k string) string { return map[string]string{"GOMAXPROCS": "4"}[k] }, (&fakeProcs{}).procs()) != nil {
		t.Fatal("a GOMAXPROCS the operator set got a busy hook")
	}
	f := &fakeProcs{cur: 1, def: 1, cpus: 4} // a cgroup quota of one CPU
	hook := writerProcs(func(string) string { return "" }, f.procs())
	hook(true)
	f.def = 2 // the quota was raised meanwhile: the runtime follows it, not the hook
	hook(false)
	if f.cur != 1 || len(f.logged) != 0 {
		t.Fatalf("under a quota of 1 of 4 CPUs: GOMAXPROCS %d (logged %v), want 1 untouched", f.cur, f.logged)
	}
}
