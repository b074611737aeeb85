package main

import (
	"fmt"
	"strings"
)

// memBudget splits a node's resident set at the highest one sampled during a step's load: the
// binary's mapped pages, the Go heap in use, Go heap freed but not yet returned to the kernel,
// the rest of the Go runtime's memory (GC metadata, stacks, profiling buckets), and what is
// left of RssAnon, which Go does not account for (SQLite's page cache in modernc's allocator,
// C libraries, thread stacks). The Go parts come from the Go collector's go_memstats_* on the
// node's /metrics, which both nodes export. Taken only with --pprof: each new peak costs the
// node a scrape.
type memBudget struct {
	RSSKB, FileKB, AnonKB        int
	HeapInuse, HeapHeld, Runtime float64 // bytes
}

// memStats reads the Go part of a budget from a /metrics body; ok is false without go_memstats.
func memStats(body string) (heapInuse, heapHeld, runtime float64, ok bool) {
	v := func(name string) float64 { return sumSeries(body, "go_memstats_"+name+"_bytes") }
	sys, heapSys := v("sys"), v("heap_sys")
	if sys <= 0 || heapSys <= 0 {
		return 0, 0, 0, false
	}
	return v("heap_inuse"), v("heap_idle") - v("heap_released"), sys - heapSys, true
}

// outsideGo is RssAnon less what the Go runtime says it holds. The runtime's figure counts
// mapped memory, some of it never touched, so this errs low.
func (b memBudget) outsideGo() float64 {
	return float64(b.AnonKB)*1024 - b.HeapInuse - b.HeapHeld - b.Runtime
}

const budgetHeader = "| node | size | msg/s | RSS at the peak | binary pages (RssFile) | Go heap in use | Go heap freed, not returned | Go runtime | outside Go |\n" +
	"|---|---:|---:|---:|---:|---:|---:|---:|---:|"

// budgetTable lists the memory budget of every row that has one ("" when none has).
func budgetTable(rows []rateRow) string {
	var b strings.Builder
	for _, r := range rows {
		m := r.Budget
		if m == nil {
			continue
		}
		if b.Len() == 0 {
			b.WriteString(budgetHeader + "\n")
		}
		const mib = 1 << 20
		fmt.Fprintf(&b, "| %s | %d B | %d | %.1f MB | %.1f MB | %.1f MB | %.1f MB | %.1f MB | %.1f MB |\n", r.Kind, r.Size, r.Rate,
			mb(m.RSSKB), mb(m.FileKB), m.HeapInuse/mib, m.HeapHeld/mib, m.Runtime/mib, m.outsideGo()/mib)
	}
	return b.String()
}
