//go:build !linux

package threadprio

import "errors"

func mainThread() bool { return false }

// lower is Linux-only: elsewhere a nice value applies to the whole process.
func lower(int) error {
	return errors.New("threadprio: a lower thread priority needs Linux's per-thread nice")
}
