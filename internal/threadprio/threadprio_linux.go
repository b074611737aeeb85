package threadprio

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func mainThread() bool { return unix.Gettid() == unix.Getpid() }

// lower raises the calling thread's nice value by `by`. Linux schedules each thread on its own
// (PRIO_PROCESS with a thread ID), so the process's other threads keep theirs.
func lower(by int) error {
	tid := unix.Gettid()
	// The raw getpriority returns 20 - nice (1..40), so that a valid result is never negative.
	raw, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return fmt.Errorf("threadprio: getpriority: %w", err)
	}
	nice := min(20-raw+by, 19)
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, nice); err != nil {
		return fmt.Errorf("threadprio: nice %d: %w", nice, err)
	}
	return nil
}
