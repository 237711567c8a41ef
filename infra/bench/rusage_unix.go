//go:build unix

package bench

import (
	"runtime"
	"syscall"
	"time"
)

// processUsage returns the CPU time (user + system) the bench's process has
// used so far, all threads together, and its peak resident set size in
// bytes (ok false where getrusage does not say).
func processUsage() (cpu time.Duration, maxRSS int64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, false
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	maxRSS = int64(ru.Maxrss) * 1024 // KiB on Linux
	if runtime.GOOS == "darwin" {
		maxRSS = int64(ru.Maxrss) // bytes on macOS
	}
	return cpu, maxRSS, true
}
