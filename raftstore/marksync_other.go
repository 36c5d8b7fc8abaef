//go:build !unix

package raftstore

// markSyncFlag is 0 where O_DSYNC is unknown: each write is followed by
// an fsync instead.
const markSyncFlag = 0
