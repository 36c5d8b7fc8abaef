package raftstore

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// StoreOptions configure the node's Pebble instance.
type StoreOptions struct {
	// FS is the file system Pebble writes to; nil means the OS. Tests pass an
	// in-memory, crashable or sync-counting one.
	FS vfs.FS
	// Logger receives Pebble's messages; nil means slog.Default().
	Logger *slog.Logger
	// CacheBytes is the block cache size (default 32 MiB). Raft reads recent
	// entries from its own LogCache, so Pebble's cache mostly serves
	// followers catching up.
	CacheBytes int64
	// MemTableBytes is the memtable size (default 32 MiB).
	MemTableBytes uint64
}

// Defaults of StoreOptions.
const (
	DefaultStoreCacheBytes    = 32 << 20
	DefaultStoreMemTableBytes = 32 << 20
)

// Store is the node's one Pebble instance, shared by the log and stable
// stores of every shard group. Sharing it is the point: Pebble's commit
// pipeline merges the WAL syncs of concurrent commits, so the appends of many
// shards that arrive together are made durable by one fsync (docs/adr/0010).
type Store struct {
	db     *pebble.DB
	dir    string
	log    *slog.Logger
	firsts logFirsts // each shard's first log index, shared by its views (logfirst.go)
}

// Open opens (or creates) the Pebble instance in dir.
func Open(dir string, opts StoreOptions) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = DefaultStoreCacheBytes
	}
	if opts.MemTableBytes == 0 {
		opts.MemTableBytes = DefaultStoreMemTableBytes
	}
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref() // the DB holds its own reference
	po := &pebble.Options{
		FS:                 opts.FS,
		Cache:              cache,
		MemTableSize:       opts.MemTableBytes,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleLogger{logger.With("component", "pebble")},
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("raftstore: open pebble in %s: %w", dir, err)
	}
	return &Store{db: db, dir: dir, log: logger}, nil
}

// Shard returns the log and stable store of one shard group. Views are
// cheap; any number may exist for the same shard, and they share its one
// piece of state, the cached first log index (logfirst.go).
func (s *Store) Shard(id uint16) *ShardStore {
	return &ShardStore{db: s.db, shard: id, first: s.firsts.of(id)}
}

// DB returns the Pebble instance (for metrics and tests).
func (s *Store) DB() *pebble.DB { return s.db }

// Close flushes nothing (every write was synced) and closes Pebble. Every
// raft group using the store must be shut down first.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("raftstore: close pebble: %w", err)
	}
	return nil
}

// pebbleLogger adapts Pebble's printf-style logger to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...)) // Pebble's info is routine compaction chatter
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}

// Fatalf is called by Pebble on unrecoverable corruption. Pebble expects the
// process to stop; a node that cannot trust its log must not keep voting.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error("fatal: " + fmt.Sprintf(format, args...))
	os.Exit(1)
}

// isNotFound reports Pebble's not-found error.
func isNotFound(err error) bool { return errors.Is(err, pebble.ErrNotFound) }
