//go:build linux

package xmlscan

import "syscall"

// processCPUNanos returns the user+system CPU time of the process. The
// benchmarks report throughput per CPU second beside the wall-clock figure
// because the build machine is shared: wall time includes time spent
// waiting for a core.
func processCPUNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
