//go:build unix

package raftstore

import "syscall"

// markSyncFlag opens the marks file with O_DSYNC: each write is on disk
// when it returns, in one syscall, without the inode's times (fdatasync's
// guarantee, not fsync's).
const markSyncFlag = syscall.O_DSYNC
