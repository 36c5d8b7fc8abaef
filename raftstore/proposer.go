package raftstore

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/failpoint"
)

// The proposer of one shard: group commit in front of raft (docs/adr/0013).
//
// Callers hand in commands without waiting; the proposer encodes them at
// once into the open batch (so callers may reuse their buffers as soon as
// Propose returns), and one flusher goroutine turns batches into raft
// entries. A batch goes out when it is full (BatchMaxCommands or
// BatchMaxBytes) or when its first command has waited BatchMaxDelay, and
// only while fewer than MaxInFlight entries await commit: under load the
// open batch keeps filling while earlier ones are replicated and synced, so
// the batch size grows with the load and one fsync serves many requests.
// A resolver goroutine waits on the entries' futures in log order and calls
// each request's done with its own results.
//
// Every queue is bounded: at most QueueMaxCommands commands wait for the
// flusher (beyond that Propose returns ErrBusy at once), and at most
// MaxInFlight entries wait for raft.

// raftApplier is the part of *raft.Raft the proposer uses; the proposer's
// own tests substitute a fake to control commit timing exactly.
type raftApplier interface {
	Apply(cmd []byte, timeout time.Duration) raft.ApplyFuture
	State() raft.RaftState
	LeaderWithID() (raft.ServerAddress, raft.ServerID)
}

type proposerConfig struct {
	batchMaxCommands int
	batchMaxBytes    int
	batchMaxDelay    time.Duration
	maxInFlight      int
	queueMaxCommands int
	applyTimeout     time.Duration
	expiryCheck      time.Duration
	disk             *diskGuard // the node's disk reserve; nil: none
	// ack, if set, records that results up to an index are about to be
	// acknowledged, and returns once that is durable (marks.go).
	ack func(index uint64) error
}

// batchBufInitial is the least capacity of the open batch's buffer: a few
// dozen typical reserves.
const batchBufInitial = 4 << 10

// The open batch fills the proposer's scratch buffer, which grows to the
// largest batch and is reused; a batch that takes no more commands gets a
// copy of exactly its bytes (detach), which raft keeps in its log cache.
// Giving raft the scratch itself would allocate a buffer sized for the
// largest recent batch per entry, about three times what an entry of a
// busy shard holds, all of it zeroed: a fifth of a loaded node's allocated
// bytes. The copy is a memmove of the entry.
//
// scratchKeep bounds the scratch kept between batches.
const scratchKeep = 1 << 20

// waiter is one request inside a batch: n consecutive commands.
type waiter struct {
	n    int
	one  func(engine.Result, error)   // single-command requests
	many func([]engine.Result, error) // groups
}

type batch struct {
	buf     []byte // entry header (stamped at submit) + encoded commands
	count   int
	waiters []waiter
	started time.Time // arrival of the first command: its deadline is started+BatchMaxDelay
	// sealed: no more commands joined; submitted: handed to raft. With
	// started, where the batch's time went (stages.go).
	sealed, submitted time.Time
}

type flight struct {
	b *batch
	f raft.ApplyFuture
}

// ProposerStats are running counts of one shard's proposer.
type ProposerStats struct {
	Entries  uint64 // raft entries proposed
	Commands uint64 // commands in them
	Busy     uint64 // requests refused with ErrBusy
}

type proposer struct {
	shard   uint16
	r       raftApplier
	floor   func() int64 // last applied batch time: stamps never go below it (nil: none)
	nextDue func() int64 // the engine's next expiry (nil: no expiry timer)
	cfg     proposerConfig
	log     *slog.Logger

	mu      sync.Mutex
	open    *batch   // filling; nil when empty
	sealed  []*batch // full, oldest first, waiting for an in-flight slot
	queued  int      // commands in open and sealed
	closed  bool
	scratch []byte // the next open batch's buffer (detach)

	kick     chan struct{} // capacity 1: the flusher has something new to look at
	slots    chan struct{} // capacity maxInFlight: one token per entry awaiting commit
	flights  chan flight   // capacity maxInFlight: entries for the resolver, in log order
	stop     chan struct{}
	flushed  chan struct{} // closed when the flusher returned
	resolved chan struct{} // closed when the resolver returned

	lastNow  int64                         // flusher only: the last time stamped
	observer atomic.Pointer[EntryObserver] // stages.go; nil: none
	expiring atomic.Bool
	entries  atomic.Uint64
	commands atomic.Uint64
	busy     atomic.Uint64
}

func newProposer(shard uint16, r raftApplier, floor, nextDue func() int64, cfg proposerConfig, log *slog.Logger) *proposer {
	p := &proposer{
		shard: shard, r: r, floor: floor, nextDue: nextDue, cfg: cfg, log: log,
		kick:     make(chan struct{}, 1),
		slots:    make(chan struct{}, cfg.maxInFlight),
		flights:  make(chan flight, cfg.maxInFlight),
		stop:     make(chan struct{}),
		flushed:  make(chan struct{}),
		resolved: make(chan struct{}),
	}
	go p.flushLoop()
	go p.resolveLoop()
	return p
}

// propose queues one request of cmds. On error nothing was queued and done
// will not be called; otherwise done is called exactly once, later, from one
// of the proposer's goroutines (or from close), so it must not block.
func (p *proposer) propose(cmds []engine.Command, w waiter) error {
	if len(cmds) == 0 || len(cmds) > p.cfg.batchMaxCommands || cmds[len(cmds)-1].Linked {
		// A trailing Linked would chain into the next caller's command.
		return ErrBadGroup
	}
	w.n = len(cmds)
	if p.r.State() != raft.Leader {
		return notLeader(p.shard, p.r)
	}
	if err := p.cfg.disk.refuse(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.queued+len(cmds) > p.cfg.queueMaxCommands {
		p.busy.Add(1)
		return ErrBusy
	}
	if p.open != nil && p.open.count+len(cmds) > p.cfg.batchMaxCommands {
		p.sealLocked() // a group never splits across entries
	}
	if p.open == nil {
		p.open = p.newBatch(time.Now())
		p.notify()
	}
	b := p.open
	start := len(b.buf)
	var err error
	for i := range cmds {
		if b.buf, err = appendCommand(b.buf, &cmds[i]); err != nil {
			b.buf = b.buf[:start]
			if b.count == 0 {
				p.open = nil
				p.scratch = b.buf[:0]
			}
			return err
		}
	}
	if len(b.buf) > p.cfg.batchMaxBytes && b.count > 0 {
		// Too big to join: move this request's bytes into a batch of its
		// own. The sealed one takes a copy of what comes before them, so
		// they move to the front of the same scratch (overlapping: append
		// moves them as memmove does).
		tail := b.buf[start:]
		b.buf = b.buf[:start]
		p.sealLocked()
		b = p.newBatch(time.Now())
		b.buf = append(b.buf, tail...)
		p.open = b
	}
	b.count += len(cmds)
	b.waiters = append(b.waiters, w)
	p.queued += len(cmds)
	if b.count >= p.cfg.batchMaxCommands || len(b.buf) >= p.cfg.batchMaxBytes {
		p.sealLocked()
	}
	return nil
}

// sealLocked closes the open batch to new commands.
func (p *proposer) sealLocked() {
	if p.open != nil {
		p.open.sealed = time.Now() // once per batch, for its stages
		p.detach(p.open)
		p.sealed = append(p.sealed, p.open)
		p.open = nil
		p.notify()
	}
}

// newBatch returns a new open batch on the scratch buffer (mu held). Its
// record and its waiters' array come from batchPool (recycle): an entry
// of a busy shard carries dozens of requests, whose waiters grew by
// doubling from one.
func (p *proposer) newBatch(started time.Time) *batch {
	buf := p.scratch
	p.scratch = nil
	if cap(buf) < batchBufInitial {
		buf = make([]byte, 0, batchBufInitial)
	}
	b, _ := batchPool.Get().(*batch)
	if b == nil {
		b = &batch{waiters: make([]waiter, 0, 16)}
	}
	// The header's bytes are stamped at submit.
	b.buf, b.started = buf[:entryHeaderLen], started
	return b
}

var batchPool sync.Pool // of *batch, empty (recycle)

// batchKeepWaiters bounds the waiters' array a pooled record keeps.
const batchKeepWaiters = 1024

// recycle hands b back once its waiters were answered: nothing holds it
// any more (its bytes are raft's; they are not kept).
func (p *proposer) recycle(b *batch) {
	clear(b.waiters)
	w := b.waiters[:0]
	if cap(w) > batchKeepWaiters {
		w = nil
	}
	*b = batch{waiters: w}
	batchPool.Put(b)
}

// detach gives b, which takes no more commands, its own copy of its bytes,
// and takes the scratch back for the next open batch (mu held).
func (p *proposer) detach(b *batch) {
	own := slices.Clone(b.buf)
	if cap(b.buf) <= scratchKeep {
		p.scratch = b.buf[:0]
	}
	b.buf = own
}

func (p *proposer) notify() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// readiness reports whether a batch may go out now, or else how long until
// the open one's delay runs out (0: nothing queued).
func (p *proposer) readiness(now time.Time) (ready bool, wait time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sealed) > 0 {
		return true, 0
	}
	if p.open == nil {
		return false, 0
	}
	if age := now.Sub(p.open.started); age < p.cfg.batchMaxDelay {
		return false, p.cfg.batchMaxDelay - age
	}
	return true, 0
}

// take removes the oldest batch from the queue: a sealed one, or else the
// open one with everything it gathered while waiting for a slot. An open
// batch counts as sealed from due, when the flusher found it ready to go
// (its delay run out) and began waiting for a slot.
func (p *proposer) take(due time.Time) *batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b *batch
	if len(p.sealed) > 0 {
		b = p.sealed[0]
		p.sealed[0] = nil
		p.sealed = p.sealed[1:]
	} else if p.open != nil {
		b, p.open = p.open, nil
		b.sealed = due
		p.detach(b)
	}
	if b != nil {
		p.queued -= b.count
	}
	return b
}

func (p *proposer) flushLoop() {
	defer close(p.flushed)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var tick <-chan time.Time
	if p.nextDue != nil && p.cfg.expiryCheck > 0 {
		ticker := time.NewTicker(p.cfg.expiryCheck)
		defer ticker.Stop()
		tick = ticker.C
	}
	// readySince: when the flusher found a batch ready to go, and so began
	// waiting for a slot (zero: none ready since the last take).
	var readySince time.Time
	for {
		now := time.Now()
		if ready, wait := p.readiness(now); !ready {
			var timeout <-chan time.Time
			if wait > 0 {
				timer.Reset(wait)
				timeout = timer.C
			}
			select {
			case <-p.kick:
			case <-timeout:
			case <-tick:
				p.checkExpiry()
			case <-p.stop:
				return
			}
			timer.Stop()
			continue
		}
		if readySince.IsZero() {
			readySince = now
		}
		select {
		case p.slots <- struct{}{}:
		case <-tick:
			p.checkExpiry()
			continue
		case <-p.stop:
			return
		}
		// One clock read stamps the entry and times its submission.
		now = time.Now()
		b := p.take(readySince)
		readySince = time.Time{}
		if b != nil {
			p.submit(b, now)
		} else {
			<-p.slots
		}
	}
}

// submit stamps b with the leader's time (at, read by the caller) and
// hands it to raft. The caller holds an in-flight slot, which the resolver
// returns.
func (p *proposer) submit(b *batch, at time.Time) {
	if p.r.State() != raft.Leader {
		p.fail(b, notLeader(p.shard, p.r))
		<-p.slots
		return
	}
	// The leader's clock, never behind a time already stamped here or
	// applied from an earlier leader: holds expire in log order everywhere.
	b.submitted = at
	now := at.UnixNano()
	if p.floor != nil {
		now = max(now, p.floor())
	}
	now = max(now, p.lastNow)
	p.lastNow = now
	putEntryHeader(b.buf, now, b.count)
	p.entries.Add(1)
	p.commands.Add(uint64(b.count))
	p.cfg.disk.wrote(len(b.buf))
	p.flights <- flight{b: b, f: p.r.Apply(b.buf, p.cfg.applyTimeout)} // never blocks: slots bound it
}

func (p *proposer) resolveLoop() {
	defer close(p.resolved)
	var acks chan answered // the ack stage (proposer_ack.go); nil: none
	if p.cfg.ack != nil {
		acks = make(chan answered, p.cfg.maxInFlight) // each holds a slot: never full
		done := make(chan struct{})
		go p.ackLoop(acks, done)
		defer func() { close(acks); <-done }()
	}
	tick := time.NewTicker(raftDownCheck)
	defer tick.Stop()
	for fl := range p.flights {
		resp, err := p.outcome(fl, tick.C)
		if acks != nil {
			acks <- answered{b: fl.b, resp: resp, err: err}
			continue
		}
		p.reply(fl.b, resp, err)
	}
}

// outcome waits for an entry's future and returns its response, or the
// error its waiters get.
func (p *proposer) outcome(fl flight, tick <-chan time.Time) (*ApplyResponse, error) {
	if err := p.await(fl.f, tick); err != nil {
		return nil, applyError(p.shard, p.r, err)
	}
	resp, _ := fl.f.Response().(*ApplyResponse)
	var err error
	switch {
	case resp == nil:
		err = fmt.Errorf("raftstore: shard %d: entry without a response", p.shard)
	case resp.Err != nil:
		err = fmt.Errorf("raftstore: shard %d: own entry refused: %w", p.shard, resp.Err)
	case len(resp.Results) != fl.b.count:
		err = fmt.Errorf("raftstore: shard %d: %d results for %d commands", p.shard, len(resp.Results), fl.b.count)
	}
	if err != nil {
		p.log.Error("raftstore: proposer", "error", err) // a bug, not an operating condition
		return nil, err
	}
	p.observeEntry(fl.b)
	return resp, nil
}

// reply answers b's waiters and frees its in-flight slot.
func (p *proposer) reply(b *batch, resp *ApplyResponse, err error) {
	if err == nil {
		if fp := failpoint.Err(failpoint.RaftBeforeReply); fp != nil {
			resp, err = nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, fp) // as if the reply were lost
		}
	}
	p.resolve(b, resp, err)
	p.recycle(b)
	<-p.slots
}

// Raft answers every future it has taken, even when it shuts down, except
// one still sitting in its (buffered) apply queue at that moment: that one is
// never answered. So a future is awaited on a helper goroutine while the
// resolver watches raft's state; once raft is down, whatever is not answered
// within raftDownGrace resolves as of unknown outcome (the helper goroutine
// stays blocked on the orphan: at most MaxInFlight of them, once).
const (
	raftDownCheck = 100 * time.Millisecond
	raftDownGrace = time.Second
	// maxAwait bounds the wait for one entry while raft runs: past it the
	// waiters learn that the outcome is unknown (a retry with the same
	// idempotency key settles it).
	maxAwait = 30 * time.Second
)

func (p *proposer) await(f raft.ApplyFuture, tick <-chan time.Time) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	giveUp := time.Now().Add(maxAwait)
	for {
		select {
		case err := <-done:
			return err
		case <-tick:
			if p.r.State() != raft.Shutdown {
				if time.Now().After(giveUp) {
					// Raft is up but has not answered: the entry may yet
					// commit, so its outcome is unknown, and the waiters
					// must not wait forever.
					p.log.Warn("raftstore: entry unanswered; outcome unknown", "shard", p.shard, "waited", maxAwait)
					return ErrOutcomeUnknown
				}
				continue
			}
			select {
			case err := <-done:
				return err
			case <-time.After(raftDownGrace):
				return raft.ErrRaftShutdown
			}
		}
	}
}

// resolve calls every waiter of b with its slice of the results, or err.
func (p *proposer) resolve(b *batch, resp *ApplyResponse, err error) {
	off := 0
	for _, w := range b.waiters {
		var rs []engine.Result
		if resp != nil {
			rs = resp.Results[off : off+w.n : off+w.n]
		}
		off += w.n
		if w.one != nil {
			var r engine.Result
			if rs != nil {
				r = rs[0]
			}
			w.one(r, err)
		} else {
			w.many(rs, err)
		}
	}
}

func (p *proposer) fail(b *batch, err error) { p.resolve(b, nil, err) }

// checkExpiry proposes an OpExpire when the engine has something due and no
// expire is already on its way. Any batch expires what is due before its
// commands run; this one exists for the quiet moments.
func (p *proposer) checkExpiry() {
	// On a full disk expiries wait with every other write: nobody can
	// take the units they would free until writes resume.
	if p.r.State() != raft.Leader || p.expiring.Load() || p.cfg.disk.isFull() {
		return
	}
	if due := p.nextDue(); due == 0 || due > time.Now().UnixNano() {
		return
	}
	p.expiring.Store(true)
	err := p.propose([]engine.Command{{Op: engine.OpExpire}}, waiter{
		one: func(engine.Result, error) { p.expiring.Store(false) },
	})
	if err != nil {
		p.expiring.Store(false)
	}
}

// close stops taking requests, fails those not yet handed to raft with
// ErrClosed, and waits until every entry in flight has resolved (raft must
// still be running for that to be quick).
func (p *proposer) close() {
	p.closeIntake()
	p.waitResolved(0)
}

// closeIntake stops taking requests and fails those not yet handed to raft
// with ErrClosed. Entries in flight keep resolving (waitResolved).
func (p *proposer) closeIntake() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	close(p.stop)
	<-p.flushed

	p.mu.Lock()
	pending := p.sealed
	if p.open != nil {
		pending = append(pending, p.open)
	}
	p.sealed, p.open, p.queued = nil, nil, 0
	p.mu.Unlock()
	for _, b := range pending {
		p.fail(b, ErrClosed)
	}
	close(p.flights)
}

// waitResolved waits until every entry in flight has resolved, or for at
// most d (0: no bound), and reports whether they all did. Call it after
// closeIntake.
func (p *proposer) waitResolved(d time.Duration) bool {
	if d <= 0 {
		<-p.resolved
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.resolved:
		return true
	case <-t.C:
		return false
	}
}

func (p *proposer) stats() ProposerStats {
	return ProposerStats{Entries: p.entries.Load(), Commands: p.commands.Load(), Busy: p.busy.Load()}
}
