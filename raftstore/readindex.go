package raftstore

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Linearizable reads without a log entry (docs/adr/0033): the leader notes
// its commit index, confirms with a round of heartbeats that a majority
// still follows it (raft's VerifyLeader), then waits until its state
// machine has applied that index. A read served after that sees every
// write committed before the read arrived, and a deposed leader, which
// cannot gather the majority, refuses instead of answering from old state.
//
// The commit index is only trustworthy once the leader has committed an
// entry of its own term: until then it may trail what the previous leader
// committed. When the entry at the commit index is of an older term, the
// leader first commits a barrier (one log entry per term at most).
//
// Reads that arrive while a round is running wait for the next round, so
// that each round's commit index is read after its reads arrived; a round
// serves every read that waited for it, and costs one heartbeat round.

// readIndexer gathers the reads waiting for a round.
type readIndexer struct {
	term    atomic.Uint64 // a term in which this node committed an entry as leader
	mu      sync.Mutex
	waiting []func(error)
	running bool
}

// readIndexPoll is how often a round checks whether the state machine has
// caught up with the commit index it noted.
const readIndexPoll = 100 * time.Microsecond

// ReadIndex calls done (on its own goroutine) once a read of this node's
// state would be linearizable: nil after a confirmed round, or the reason
// it is not (*NotLeaderError on a follower or a deposed leader, ErrClosed,
// ErrBusy when the state machine did not catch up within the apply
// timeout). done must not block for long: it holds up the next round.
func (s *Shard) ReadIndex(done func(error)) {
	ri := &s.ri
	ri.mu.Lock()
	ri.waiting = append(ri.waiting, done)
	if ri.running {
		ri.mu.Unlock()
		return
	}
	ri.running = true
	ri.mu.Unlock()
	go s.readIndexRounds()
}

func (s *Shard) readIndexRounds() {
	ri := &s.ri
	for {
		ri.mu.Lock()
		batch := ri.waiting
		ri.waiting = nil
		if len(batch) == 0 {
			ri.running = false
			ri.mu.Unlock()
			return
		}
		ri.mu.Unlock()
		err := s.readIndex(s.readTimeout)
		for _, done := range batch {
			done(err)
		}
	}
}

// readIndex runs one round (see the top of the file).
func (s *Shard) readIndex(timeout time.Duration) error {
	if s.raft.State() != raft.Leader {
		return notLeader(s.id, s.raft)
	}
	term := s.raft.CurrentTerm()
	commit := s.raft.CommitIndex()
	if s.ri.term.Load() != term {
		if !s.committedInTerm(commit, term) {
			if err := s.raft.Barrier(timeout).Error(); err != nil {
				return s.readError(err)
			}
			commit = s.raft.CommitIndex()
		}
		// From now on in this term the commit index is trustworthy.
		s.ri.term.Store(term)
	}
	if err := s.raft.VerifyLeader().Error(); err != nil {
		return s.readError(err)
	}
	if s.raft.CurrentTerm() != term {
		return notLeader(s.id, s.raft)
	}
	return s.waitApplied(commit, time.Now().Add(timeout))
}

// committedInTerm reports whether the entry at index is of term.
func (s *Shard) committedInTerm(index, term uint64) bool {
	if index == 0 {
		return false
	}
	var l raft.Log
	if err := s.logs.GetLog(index, &l); err != nil {
		return false
	}
	return l.Term == term
}

// waitApplied waits until the state machine reflects every entry up to
// index. Raft hands the state machine only commands and configuration
// entries, so when raft has applied index but the state machine stops
// short, the entries in between must all be of the kinds it never sees
// (a leader's no-op, a barrier).
func (s *Shard) waitApplied(index uint64, deadline time.Time) error {
	for {
		fa := s.fsm.AppliedIndex()
		if fa >= index {
			return nil
		}
		if s.raft.AppliedIndex() >= index && s.noStateEntries(fa+1, index) {
			return nil
		}
		if s.raft.State() == raft.Shutdown {
			return ErrClosed
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: shard %d: applied index %d did not reach %d in time", ErrBusy, s.id, fa, index)
		}
		time.Sleep(readIndexPoll)
	}
}

// noStateEntries reports whether no entry in [from, to] reaches the state
// machine (false if one cannot be read).
func (s *Shard) noStateEntries(from, to uint64) bool {
	var l raft.Log
	for i := from; i <= to; i++ {
		if err := s.logs.GetLog(i, &l); err != nil {
			return false
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return false
		}
	}
	return true
}

// readError turns a raft error of a read round into one of ours.
func (s *Shard) readError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return notLeader(s.id, s.raft)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %v", ErrBusy, err)
	}
	return fmt.Errorf("raftstore: shard %d: read index: %w", s.id, err)
}
