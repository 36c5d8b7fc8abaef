package raftstore

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// The disk reserve (docs/adr/0015). Pebble cannot survive a full disk: a
// failed WAL write is a fatal commit error, and a store reopened on a full
// disk retries the flush of its recovered WAL forever. So a node keeps a
// reserve of free space in its data folder's filesystem that writes never
// eat: below it the proposers refuse new writes with ErrDiskFull (reads go
// on), a follower refuses the leader's appends, and when space returns
// writes resume by themselves. The reserve is what Pebble's own work needs
// meanwhile (flushes, compactions, a new WAL), what the entries already
// accepted need, and what a restart needs.
//
// Free space is read with statfs on a timer and whenever the proposals
// since the last reading add up to a share of the reserve: one syscall per
// DiskCheckInterval or per reserve/diskProbeDivisor bytes proposed, never
// one per request. A proposal only loads an atomic flag.

// DiskProbe returns the bytes free (to unprivileged users) in the
// filesystem of dir. Tests inject their own.
type DiskProbe func(dir string) (uint64, error)

// Defaults and bounds of the disk reserve.
const (
	// DefaultDiskReserveBytes is the free space kept in reserve: with the
	// default 32 MiB memtable, Pebble preallocates about 35 MiB per new WAL
	// and flushes up to a memtable per flush; compactions rewrite up to a
	// few hundred MiB at once; a raft snapshot being written sits beside
	// the retained ones; and every proposer may have MaxInFlight entries of
	// up to BatchMaxBytes accepted. 1 GiB covers all of them with room and
	// is a small share of a server's disk.
	DefaultDiskReserveBytes = 1 << 30
	// DefaultDiskCheckInterval is how often free space is read when little
	// is written: a statfs is a microsecond.
	DefaultDiskCheckInterval = time.Second
	// diskResumeDivisor sets the margin above the reserve at which writes
	// resume (reserve/4): near the edge a few writes and a compaction
	// would otherwise flip the state, and log it, on every check.
	diskResumeDivisor = 4
	// diskProbeDivisor: free space is read again as soon as proposals of
	// reserve/diskProbeDivisor bytes went out since the last reading, so a
	// burst between two ticks eats at most that share of the reserve.
	diskProbeDivisor = 16
	// diskStartMemTables is the free space, in memtables, that opening the
	// store needs: the flush of the recovered WAL (up to a memtable), a new
	// preallocated WAL (a memtable and a tenth) and the manifest. Below it
	// OpenNode refuses to start instead of letting Pebble retry the flush.
	diskStartMemTables = 3
)

// DiskStatus is the node's disk reserve as last read.
type DiskStatus struct {
	Enabled      bool   // false: the reserve is off (Options.DiskReserveBytes < 0)
	Full         bool   // free space is below the reserve: writes are refused
	FreeBytes    uint64 // at the last reading
	ReserveBytes uint64
	Refused      uint64 // writes refused because of it since the node started
}

// diskGuard keeps the node's disk reserve. A nil guard (reserve off)
// refuses nothing.
type diskGuard struct {
	dir        string
	reserve    uint64
	resumeAt   uint64 // free bytes at which a full disk accepts writes again
	probeBytes int64  // bytes proposed between two readings at most
	probe      DiskProbe
	log        *slog.Logger

	full    atomic.Bool
	free    atomic.Uint64
	refused atomic.Uint64
	written atomic.Int64 // bytes proposed since the last reading

	kick    chan struct{} // capacity 1: read free space now
	stop    chan struct{}
	done    chan struct{}
	started bool

	failing      bool   // checker only: the last reading failed
	refusedSince uint64 // checker only: refused at the moment the disk became full
}

// openDiskGuard reads the free space of o.Dir once and returns the node's
// guard, or nil when the reserve is off. It refuses to start a node whose
// filesystem lacks what opening the store needs.
func openDiskGuard(o *Options) (*diskGuard, error) {
	if o.DiskReserveBytes < 0 {
		return nil, nil
	}
	reserve := uint64(o.DiskReserveBytes)
	g := &diskGuard{
		dir: o.Dir, reserve: reserve, resumeAt: reserve + reserve/diskResumeDivisor,
		probeBytes: max(int64(reserve/diskProbeDivisor), 1),
		probe:      o.DiskFree, log: o.Logger.With("component", "disk"),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	free, err := g.probe(g.dir)
	if err != nil {
		return nil, fmt.Errorf("raftstore: free space of %s: %w", g.dir, err)
	}
	if need := diskStartBytes(o); free < need {
		return nil, fmt.Errorf("raftstore: %s has %s free, below the %s needed to open the store "+
			"(a flush of the recovered log and a new write-ahead log); free space and start again",
			g.dir, mib(free), mib(need))
	}
	g.update(free)
	return g, nil
}

// diskStartBytes is the free space opening the store needs.
func diskStartBytes(o *Options) uint64 {
	mem := o.Store.MemTableBytes
	if mem == 0 {
		mem = DefaultStoreMemTableBytes
	}
	return diskStartMemTables * mem
}

// start runs the periodic reading until close.
func (g *diskGuard) start(interval time.Duration) {
	if g == nil {
		return
	}
	g.started = true
	go func() {
		defer close(g.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-g.kick:
			case <-g.stop:
				return
			}
			g.read()
		}
	}()
}

// close stops the reading; the guard keeps its last state.
func (g *diskGuard) close() {
	if g == nil || !g.started {
		return
	}
	close(g.stop)
	<-g.done
}

// read reads free space once; a failed reading keeps the last state.
func (g *diskGuard) read() {
	g.written.Store(0)
	free, err := g.probe(g.dir)
	if err != nil {
		if !g.failing {
			g.failing = true
			g.log.Error("cannot read free space; keeping the last state", "dir", g.dir, "error", err)
		}
		return
	}
	if g.failing {
		g.failing = false
		g.log.Info("free space readable again", "dir", g.dir, "free_bytes", free)
	}
	g.update(free)
}

// update moves the state by a reading: full below the reserve, back at
// resumeAt, one log line per change.
func (g *diskGuard) update(free uint64) {
	g.free.Store(free)
	switch full := g.full.Load(); {
	case !full && free < g.reserve:
		g.refusedSince = g.refused.Load()
		g.full.Store(true)
		g.log.Warn("disk full: refusing writes until free space is back above the reserve; reads go on",
			"dir", g.dir, "free_bytes", free, "reserve_bytes", g.reserve, "resume_bytes", g.resumeAt)
	case full && free >= g.resumeAt:
		g.full.Store(false)
		g.log.Info("disk space back: accepting writes", "dir", g.dir, "free_bytes", free,
			"refused_while_full", g.refused.Load()-g.refusedSince)
	}
}

// isFull reports whether writes are refused now.
func (g *diskGuard) isFull() bool { return g != nil && g.full.Load() }

// refuse returns ErrDiskFull, counted, when writes are refused now.
func (g *diskGuard) refuse() error {
	if !g.isFull() {
		return nil
	}
	g.refused.Add(1)
	return ErrDiskFull
}

// wrote counts n bytes proposed and asks for a reading once they add up to
// probeBytes.
func (g *diskGuard) wrote(n int) {
	if g == nil {
		return
	}
	if g.written.Add(int64(n)) >= g.probeBytes {
		select {
		case g.kick <- struct{}{}:
		default:
		}
	}
}

func (g *diskGuard) status() DiskStatus {
	if g == nil {
		return DiskStatus{}
	}
	return DiskStatus{Enabled: true, Full: g.full.Load(), FreeBytes: g.free.Load(),
		ReserveBytes: g.reserve, Refused: g.refused.Load()}
}

// mib formats a byte count for a message.
func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
