//go:build !unix

package raftstore

import "errors"

// StatfsFree is the default DiskProbe; this platform has no statfs, so a
// node here needs Options.DiskReserveBytes < 0 or a DiskProbe of its own.
func StatfsFree(string) (uint64, error) {
	return 0, errors.New("raftstore: free space cannot be read on this platform")
}
