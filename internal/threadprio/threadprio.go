// Package threadprio runs background work on an OS thread of lower CPU priority, so that on a
// machine whose cores are all busy the kernel runs everything else first.
package threadprio

import "runtime"

// Go runs f on a new goroutine, locked to an OS thread whose nice value is `by` steps above
// the process's (capped at 19), and passes f why the priority stayed as it was (nil when
// lowered). The thread ends with the goroutine instead of going back to the runtime's pool,
// and threads the runtime starts meanwhile do not inherit the priority (it clones them from
// its template thread while this one is locked). With by ≤ 0, f simply runs on a goroutine.
func Go(by int, f func(unlowered error)) {
	if by <= 0 {
		go f(nil)
		return
	}
	go run(by, f)
}

func run(by int, f func(error)) {
	runtime.LockOSThread() // never unlocked on the lowered thread: it ends with this goroutine
	if mainThread() {
		// The runtime keeps the main thread when its goroutine ends, and tools show the
		// process's priority as the main thread's. Holding it locked here makes the goroutine
		// below run on another thread; the main thread goes back to the pool unchanged.
		done := make(chan struct{})
		go func() {
			defer close(done)
			run(by, f)
		}()
		<-done
		runtime.UnlockOSThread()
		return
	}
	f(lower(by))
}
