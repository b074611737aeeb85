package archive

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// With WriterNice the writer runs on a thread of lower priority (internal/threadprio), which
// is gone after Close.
func TestWriterRunsNiced(t *testing.T) {
	nice := func(tid int) int {
		raw, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
		if err != nil {
			return -100 // the thread ended
		}
		return 20 - raw
	}
	base := nice(unix.Getpid())
	if base+3 > 19 {
		t.Skip("the test process already runs near the lowest priority")
	}
	lowered := func() (tids []int) {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			if tid, _ := strconv.Atoi(task.Name()); nice(tid) == base+3 {
				tids = append(tids, tid)
			}
		}
		return tids
	}
	a := open(t, "sqlite://"+filepath.Join(t.TempDir(), "store.sqlite3"), func(c *Config) { c.WriterNice = 3 })
	insertAll(t, a, env(t, "/waku/2/rs/0/0", "/a/1/b/proto", testNow.UnixNano(), "x"))
	if got := lowered(); len(got) != 1 {
		t.Fatalf("threads at nice %d: %v, want the writer's alone", base+3, got)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(lowered()) > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("threads at nice %d after Close: %v", base+3, lowered())
		}
	}
}
