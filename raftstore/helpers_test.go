// Helpers shared by the package's tests: a logger and a Pebble file system
// that counts WAL syncs (used to prove that one fsync covers many shards'
// appends). They prove nothing by themselves.
package raftstore

import (
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// testLogger logs to stderr at the level named by INV_TEST_LOG (debug, info,
// warn, error; default: nothing) so that a run stays quiet (the cluster tests
// make raft log errors on purpose, by stopping nodes) and a failing one can
// be rerun with the raft chatter on. It writes to stderr, not
// t.Log, because raft's goroutines may log a shutdown message after the test
// function returned.
func testLogger(testing.TB) *slog.Logger {
	level := slog.LevelError + 4 // above every record raft or we write
	switch strings.ToLower(os.Getenv("INV_TEST_LOG")) {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// syncCountingFS wraps a vfs.FS and counts the syncs of WAL files (*.log).
type syncCountingFS struct {
	vfs.FS
	walSyncs atomic.Int64
}

func (fs *syncCountingFS) wrap(f vfs.File, name string, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &syncCountingFile{File: f, n: &fs.walSyncs}, nil
}

func (fs *syncCountingFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return fs.wrap(f, name, err)
}

func (fs *syncCountingFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, c)
	return fs.wrap(f, newname, err)
}

type syncCountingFile struct {
	vfs.File
	n *atomic.Int64
}

func (f *syncCountingFile) Sync() error     { f.n.Add(1); return f.File.Sync() }
func (f *syncCountingFile) SyncData() error { f.n.Add(1); return f.File.SyncData() }
func (f *syncCountingFile) SyncTo(length int64) (bool, error) {
	f.n.Add(1)
	return f.File.SyncTo(length)
}

// within receives from ch, failing the test if nothing comes within a
// minute: a lost answer fails with its name instead of hanging the run.
func within[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("%s: nothing within a minute", what)
		panic("unreachable")
	}
}
