//go:build linux

package raftstore

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time the calling thread has used, and true; the
// caller holds its thread (runtime.LockOSThread) between two readings.
// A rebuild's restore and replay are measured so (rebuildCost): on a
// busy node their wall time says more of the other work than of theirs.
func threadCPU() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
