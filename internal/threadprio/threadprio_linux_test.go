package threadprio

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const by = 7

// init keeps TestMain on the main thread, where it runs the main-thread case.
func init() { runtime.LockOSThread() }

// onMain is what run did when called on the main thread (TestMain).
var onMain struct {
	ran           bool
	tid, niceInF  int
	err           error
	niceMainAfter int
}

func TestMain(m *testing.M) {
	if mainThread() {
		run(by, func(err error) {
			onMain.tid, onMain.err = unix.Gettid(), err
			onMain.niceInF, _ = niceOf(onMain.tid)
		})
		onMain.niceMainAfter, _ = niceOf(unix.Getpid())
		onMain.ran = true
	}
	os.Exit(m.Run())
}

// The work runs on a thread of its own at the lower priority while every other thread keeps
// the process's, and that thread is gone once the work returned.
func TestGoLowersOnlyItsOwnThread(t *testing.T) {
	base := baseNice(t)
	if onMain.ran { // TestMain's lowered thread ends after its work did, maybe not yet
		waitGone(t, onMain.tid)
	}
	type started struct {
		tid int
		err error
	}
	start, release := make(chan started, 1), make(chan struct{})
	Go(by, func(err error) {
		start <- started{unix.Gettid(), err}
		<-release
	})
	s := <-start
	if s.err != nil {
		t.Fatal(s.err)
	}
	if s.tid == unix.Getpid() {
		t.Fatal("the work runs on the main thread")
	}
	nices := threadNices(t)
	if got := nices[s.tid]; got != min(base+by, 19) {
		t.Fatalf("the work's thread runs at nice %d, want %d", got, min(base+by, 19))
	}
	for tid, n := range nices {
		if tid != s.tid && n != base {
			t.Fatalf("thread %d runs at nice %d, want the process's %d", tid, n, base)
		}
	}
	close(release)
	waitGone(t, s.tid)
}

// waitGone waits until thread tid has ended (it does shortly after its goroutine).
func waitGone(t *testing.T, tid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, alive := threadNices(t)[tid]; !alive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %d still there after its work returned", tid)
		}
	}
}

// On the main thread the work moves to another thread, and the main thread keeps the
// process's priority (the runtime keeps it, and ps shows it as the process's).
func TestMainThreadIsNotLowered(t *testing.T) {
	if !onMain.ran {
		t.Skip("TestMain did not run on the main thread")
	}
	base := baseNice(t)
	if onMain.err != nil {
		t.Fatal(onMain.err)
	}
	if onMain.tid == unix.Getpid() {
		t.Fatal("the work ran on the main thread")
	}
	if onMain.niceInF != min(base+by, 19) || onMain.niceMainAfter != base {
		t.Fatalf("nice in the work %d (want %d), of the main thread after %d (want %d)",
			onMain.niceInF, min(base+by, 19), onMain.niceMainAfter, base)
	}
}

func TestZeroDoesNotLock(t *testing.T) {
	base := baseNice(t)
	done := make(chan int, 1)
	Go(0, func(err error) {
		if err != nil {
			t.Error(err)
		}
		n, _ := niceOf(unix.Gettid())
		done <- n
	})
	if n := <-done; n != base {
		t.Fatalf("nice %d, want the process's %d", n, base)
	}
}

func baseNice(t *testing.T) int {
	t.Helper()
	base, ok := niceOf(unix.Getpid())
	if !ok {
		t.Fatal("no nice value for the main thread")
	}
	if base+by > 19 {
		t.Skip("the test process already runs near the lowest priority")
	}
	return base
}

// threadNices maps each of the process's threads to its nice value.
func threadNices(t *testing.T) map[int]int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int{}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if n, ok := niceOf(tid); ok { // a thread may end meanwhile
			out[tid] = n
		}
	}
	return out
}

// niceOf is thread tid's nice value (getpriority returns 20 - nice); false once it ended.
func niceOf(tid int) (int, bool) {
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	return 20 - raw, err == nil
}
