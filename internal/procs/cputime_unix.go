//go:build unix

package procs

import (
	"fmt"
	"syscall"
	"time"
)

// processCPU is the user and system time of the whole process. getrusage is a raw syscall in
// Go: it does not wake the runtime's sysmon as a blocking one would.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
