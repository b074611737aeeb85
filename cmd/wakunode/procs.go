package main

import "github.com/wakunode/wakunode/node"

// writerProcs is the GOMAXPROCS for a node whose store writer runs at a lower priority
// (--store-writer-nice), or 0 to leave the runtime's. The writer's thread holds one of Go's
// Ps whenever it runs; while the kernel runs other threads first (the point of the lower
// priority) that P sits idle, and relaying is left a core short. With one P more than the
// cores, the kernel alone decides between the writer and the rest (docs/benchmarks.md,
// "Fourteenth session"). Left alone: a GOMAXPROCS the operator set, and a runtime value below
// the CPUs (a cgroup quota, which throttles a process that runs more threads than it allows).
func writerProcs(store node.StoreConfig, goos string, getenv func(string) string, procs, cpus int) int {
	if goos != "linux" || !store.Enabled || store.WriterNice <= 0 || getenv("GOMAXPROCS") != "" || procs != cpus {
		return 0
	}
	return procs + 1
}
