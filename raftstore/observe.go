package raftstore

import "time"

// ApplyObserver is told about each round of committed entries a shard's FSM
// applies: how long the round took (decoding, the engine, the change feed),
// and the number of commands of each entry it applied, in order. It runs on
// the shard's FSM goroutine, between rounds: it must be quick and must not
// block, and it must not keep commandsPerEntry, which is reused.
type ApplyObserver func(shard uint16, took time.Duration, commandsPerEntry []int)

// SetApplyObserver makes o observe every later apply round (nil: none). A
// server sets it once the node is open, for its metrics.
func (f *FSM) SetApplyObserver(o ApplyObserver) {
	if o == nil {
		f.observer.Store(nil)
		return
	}
	f.observer.Store(&o)
}

// observeRound tells the observer, if any, about a round that began at start.
func (f *FSM) observeRound(start time.Time) {
	if o := f.observer.Load(); o != nil {
		(*o)(f.shard, time.Since(start), f.roundCommands)
	}
	f.roundCommands = f.roundCommands[:0]
}
