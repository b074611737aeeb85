package storesync

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/wakunode/wakunode/internal/testhost"
	"github.com/wakunode/wakunode/message"
)

func benchSize() int {
	if n, err := strconv.Atoi(os.Getenv("WAKU_BENCH_MESSAGES")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// BenchmarkReconcile runs whole reconciliations in memory (codec included, no transfer) of
// two indexes of n IDs over a 1 h window that differ by 1, 1 % and 10 % (half the differences
// on each side) and prints frames, bytes and time.
func BenchmarkReconcile(b *testing.B) {
	n := benchSize()
	for _, diffs := range []int{1, n / 100, n / 10} {
		b.Run(fmt.Sprintf("n=%d/diff=%d", n, diffs), func(b *testing.B) {
			a, c := &Index{}, &Index{}
			step := hour / int64(n+1)
			every := n / diffs
			for i := range n {
				id := ID{Time: vecT0 + int64(i+1)*step, Hash: hashOf(i)}
				switch {
				case i%every != 0 || i/every >= diffs:
					a.Insert(id, tpc, ct)
					c.Insert(id, tpc, ct)
				case (i/every)%2 == 0:
					a.Insert(id, tpc, ct)
				default:
					c.Insert(id, tpc, ct)
				}
			}
			var frames, bytes, found int
			b.ResetTimer()
			for range b.N {
				ca, cc := newSession(a, tpc), newSession(c, tpc)
				frames, bytes = converse(b, ca, cc, vecT0, vecT0+hour)
				found = len(ca.diff.ToSend) + len(cc.diff.ToSend)
			}
			b.ReportMetric(float64(frames), "frames")
			b.ReportMetric(float64(bytes), "bytes")
			b.ReportMetric(float64(found), "found")
		})
	}
}

// BenchmarkIndexMemory reports heap bytes per indexed ID and the cost of one whole-window
// fingerprint.
func BenchmarkIndexMemory(b *testing.B) {
	n := benchSize()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix := &Index{}
	for i := range n {
		ix.Insert(ID{Time: vecT0 + int64(i), Hash: hashOf(i)}, tpc, ct)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	f := ix.newFilter(nil, nil)
	b.ResetTimer()
	for range b.N {
		ix.fingerprint(0, ix.Len(), f)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "B/ID")
	runtime.KeepAlive(ix)
}

// BenchmarkSyncHosts syncs two real hosts with SQLite archives of n messages that differ by
// 1, 1 % and 10 % (half on each side): frames the initiator received, reconciliation bytes, the
// time to the end of the reconciliation and until both archives hold the union.
func BenchmarkSyncHosts(b *testing.B) {
	n := benchSize()
	for _, diffs := range []int{1, n / 100, n / 10} {
		b.Run(fmt.Sprintf("n=%d/diff=%d", n, diffs), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				every := n / diffs
				var common, onlyA, onlyB []*message.Envelope
				for i := range n {
					e := msg(b, tpc, i, time.Minute+time.Duration(i)*(50*time.Minute/time.Duration(n)))
					switch {
					case i%every != 0 || i/every >= diffs:
						common = append(common, e)
					case (i/every)%2 == 0:
						onlyA = append(onlyA, e)
					default:
						onlyB = append(onlyB, e)
					}
				}
				a := newNode(b, Config{}, append(common, onlyA...)...)
				c := newNode(b, Config{}, append(common, onlyB...)...)
				testhost.Connect(b, a.h, c.h)
				b.StartTimer()
				start := time.Now()
				res, err := a.s.Sync(context.Background(), c.h.ID())
				if err != nil {
					b.Fatal(err)
				}
				reconciled := time.Since(start)
				waitCount(b, a.a, int64(n))
				waitCount(b, c.a, int64(n))
				b.ReportMetric(float64(res.Frames), "frames")
				b.ReportMetric(float64(res.Bytes), "bytes")
				b.ReportMetric(float64(reconciled.Milliseconds()), "reconcile-ms")
				b.ReportMetric(float64(time.Since(start).Milliseconds()), "converged-ms")
			}
		})
	}
}
