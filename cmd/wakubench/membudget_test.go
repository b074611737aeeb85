package main

import (
	"strings"
	"testing"
)

// TestMemStatsSplitsTheGoRuntime reads the Go collector's gauges as client_golang writes them
// and splits the anonymous memory: heap in use, heap freed but not returned (idle − released),
// the runtime's non-heap memory (sys − heap_sys), and the remainder outside Go.
func TestMemStatsSplitsTheGoRuntime(t *testing.T) {
	const mib = 1 << 20
	body := strings.Join([]string{
		"# HELP go_memstats_heap_inuse_bytes Number of heap bytes that are in use.",
		"# TYPE go_memstats_heap_inuse_bytes gauge",
		"go_memstats_heap_inuse_bytes 7.3e+07",
		"go_memstats_heap_idle_bytes 3e+07",
		"go_memstats_heap_released_bytes 1.4e+07",
		"go_memstats_heap_sys_bytes 1.03e+08",
		"go_memstats_sys_bytes 1.1e+08",
		"go_memstats_stack_sys_bytes 1e+06",
	}, "\n")
	heap, held, rt, ok := memStats(body)
	if !ok || heap != 73e6 || held != 16e6 || rt != 7e6 {
		t.Fatalf("memStats = %g, %g, %g, %v; want 73e6, 16e6, 7e6, true", heap, held, rt, ok)
	}
	b := memBudget{RSSKB: 130 << 10, FileKB: 30 << 10, AnonKB: 100 << 10, HeapInuse: heap, HeapHeld: held, Runtime: rt}
	if got, want := b.outsideGo(), float64(100*mib)-96e6; got != want {
		t.Fatalf("outsideGo = %g, want %g", got, want)
	}
	if _, _, _, ok := memStats("waku_version 1\n"); ok {
		t.Fatal("memStats without go_memstats reported ok")
	}
	tab := budgetTable([]rateRow{{Kind: kindOurs, Size: 10240, Rate: 1000, Budget: &b}, {Kind: kindGoWaku, Size: 10240, Rate: 1000}})
	if want := "| wakunode | 10240 B | 1000 | 130.0 MB | 30.0 MB | 69.6 MB | 15.3 MB | 6.7 MB | 8.4 MB |"; !strings.Contains(tab, want) || strings.Count(tab, "\n") != 3 {
		t.Fatalf("budget table:\n%s\nwant the header and one row:\n%s", tab, want)
	}
}
