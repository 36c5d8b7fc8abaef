// Package engine is the reservation state machine of one shard: items,
// pickup windows, customers, reservations and their expiry.
//
// It is pure and deterministic: no goroutines, no wall clock, no randomness,
// no I/O. Time comes in with every batch (Apply's now, stamped by the raft
// leader); reservation ids come from a per-shard counter. The same batches
// give the same results, events and snapshot bytes on every replica.
//
// It imports the standard library only.
package engine

import (
	"io"
)

// Engine is one shard's state. It is not safe for concurrent use: the caller
// (the raft FSM) applies batches one at a time.
type Engine struct {
	cfg Config
	st  state
}

// New returns an empty engine.
func New(cfg Config) *Engine {
	e := &Engine{cfg: cfg.WithDefaults()}
	e.st.init(&e.cfg)
	return e
}

// Config returns the engine's configuration (with defaults applied).
func (e *Engine) Config() Config { return e.cfg }

// Apply runs a batch of commands at time now (Unix nanoseconds) and returns
// one result per command and the events of every state change, in order.
// Both slices are owned by the engine and valid until the next call.
//
// Before the commands run, every hold whose TTL has passed and every
// confirmed reservation whose pickup deadline has passed by now expires, and
// idempotency keys older than the retention are dropped. A now earlier than
// the last batch's time is treated as that time: the engine's clock never
// goes backwards.
func (e *Engine) Apply(now int64, cmds []Command) ([]Result, []Event) {
	e.st.results = e.st.results[:0]
	return e.st.apply(now, cmds)
}

// ApplyAppend is Apply with the results appended to dst, as append does:
// they are the caller's, so one who keeps them past the next call needs
// no copy. The events are the engine's, as Apply's.
func (e *Engine) ApplyAppend(now int64, cmds []Command, dst []Result) ([]Result, []Event) {
	own := e.st.results
	e.st.results = dst
	results, events := e.st.apply(now, cmds)
	e.st.results = own[:0]
	return results, events
}

// Read serves one read-only command (Op.ReadOnly) from the current state
// without changing it. Mutating ops get CodeBadRequest.
func (e *Engine) Read(cmd *Command) Result { return e.st.read(cmd) }

// Now returns the time of the last applied batch.
func (e *Engine) Now() int64 { return e.st.now }

// NextDue returns the earliest time at which something expires (a hold, a
// pickup deadline), or 0 if nothing is pending. The leader's timer uses it
// to propose an OpExpire batch on time.
func (e *Engine) NextDue() int64 { return e.st.nextDue() }

// Stats returns counts for metrics.
func (e *Engine) Stats() Stats { return e.st.stats }

// Stats are running counts kept by the engine (cheap to read).
type Stats struct {
	Items           int64
	Customers       int64
	ActiveHolds     int64 // reservations in HELD
	AwaitingPickup  int64 // reservations in CONFIRMED
	Reservations    int64 // reservations kept (active and finished)
	IdempotencyKeys int64
	Outcomes        [8]int64 // reservations that reached each State (index State)
	// Refusals counts refusals by Code (domain codes only), by their
	// reason: a pickup by code alone whose code is another store's counts
	// under CodeWrongStore though it is answered CodeBadCode. Every
	// domain code (below 64) has its place; the snapshot's core keeps the
	// first 32 and the marks section the rest (snapshot_marks.go).
	Refusals [64]int64
}

// Snapshot writes the whole state to w. The same state always gives the same bytes.
func (e *Engine) Snapshot(w io.Writer) error { return e.st.snapshot(w) }

// Restore reads a state written by Snapshot. The input is untrusted: any
// malformed input gives an error, never a panic, and allocation is bounded
// by the input's length.
func Restore(cfg Config, r io.Reader) (*Engine, error) { return RestoreInto(cfg, r, nil) }

// RestoreInto is Restore reading the snapshot's bytes into *buf, grown as
// needed and left there for the caller's next restore (nil: a buffer of
// its own). A node opening its shards one after another reads each into
// the same memory instead of taking tens of MB anew from the OS for each
// (a page fault a page), and copying it again at every doubling. The
// engine keeps nothing of the buffer.
func RestoreInto(cfg Config, r io.Reader, buf *[]byte) (*Engine, error) {
	e := New(cfg)
	if err := e.st.restore(r, buf); err != nil {
		return nil, err
	}
	return e, nil
}
