//go:build !unix

package bench

import "time"

// processUsage is not available outside Unix: the CPU columns of table 7
// stay empty there.
func processUsage() (cpu time.Duration, maxRSS int64, ok bool) { return 0, 0, false }
