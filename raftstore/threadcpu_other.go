//go:build !linux

package raftstore

import "time"

// threadCPU reports false where a thread's CPU time is not read: a
// rebuild's costs are then measured in wall time.
func threadCPU() (time.Duration, bool) { return 0, false }
