//go:build unix

package raftstore

import "syscall"

// StatfsFree is the default DiskProbe: the bytes of dir's filesystem
// available to unprivileged users (statfs's f_bavail), so that the blocks a
// filesystem keeps for root do not count as room.
func StatfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
