package main

import "runtime"

// procs is the runtime's GOMAXPROCS control (fields so that tests can stand in for it).
type procs struct {
	get     func() int // the GOMAXPROCS in force
	set     func(int)
	reset   func() // back to the runtime's default, which follows CPU and cgroup limits
	numCPU  func() int
	logBusy func(busy bool, procs int)
}

func runtimeProcs(logBusy func(bool, int)) procs {
	return procs{get: func() int { return runtime.GOMAXPROCS(0) }, set: func(n int) { runtime.GOMAXPROCS(n) },
		reset: runtime.SetDefaultGOMAXPROCS, numCPU: runtime.NumCPU, logBusy: logBusy}
}

// writerProcs is the archive writer's busy hook (archive.Config.Busy): while the writer commits
// most of the time, the node runs one scheduler P more than the CPUs. The writer's thread holds
// a P whenever it runs; while the kernel runs other threads first (a writer of lower priority,
// --store-writer-nice, or just a full machine) that P sits idle and relaying is a core short.
// With one P more, the kernel alone decides between them. A fixed extra P cost 15 % more CPU at
// 1,000 msg/s (docs/benchmarks-history.md, session 14), so outside a busy spell the runtime's
// default is back. Nil (GOMAXPROCS left alone) when the operator set GOMAXPROCS.
func writerProcs(getenv func(string) string, p procs) func(bool) {
	if getenv("GOMAXPROCS") != "" {
		return nil
	}
	raised := false // the hook runs on the archive writer's goroutine only
	return func(busy bool) {
		if !busy {
			if raised {
				raised = false
				p.reset()
				p.logBusy(false, p.get())
			}
			return
		}
		// A default below the CPUs is a cgroup quota, which throttles a process that runs more
		// threads than it allows: leave that one alone.
		if n := p.get(); n == p.numCPU() {
			raised = true
			p.set(n + 1)
			p.logBusy(true, n+1)
		}
	}
}
