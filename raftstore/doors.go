package raftstore

import (
	"crypto/sha256"
	"strconv"

	"github.com/invsys/inv/engine"
)

// Named doors to what the server and the router need of a shard's raft
// group and state machine, so that they never reach through Raft() or
// FSM(): each says what it answers, and the shard keeps how.

// LeaderID returns the raft server id of the shard's leader, "" if unknown
// (an election is on, or this node is not a member of the group).
func (s *Shard) LeaderID() string {
	_, id := s.raft.LeaderWithID()
	return string(id)
}

// Term returns the shard group's current raft term as this node knows it.
func (s *Shard) Term() uint64 { return s.raft.CurrentTerm() }

// CommitIndex returns the highest raft index this node knows committed.
func (s *Shard) CommitIndex() uint64 {
	n, _ := strconv.ParseUint(s.raft.Stats()["commit_index"], 10, 64)
	return n
}

// RaftStats returns raft's own figures for the shard (state, indexes, ...),
// for metrics.
func (s *Shard) RaftStats() map[string]string { return s.raft.Stats() }

// ConfigurationIndex returns the raft index of the shard group's latest
// configuration, or an error when it cannot be read.
func (s *Shard) ConfigurationIndex() (uint64, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return 0, s.readError(err)
	}
	return f.Index(), nil
}

// OutboxPending returns the destinations of the shard's undelivered outbox
// messages (docs/adr/0070): its leader delivers them.
func (s *Shard) OutboxPending() []engine.OutboxQueue { return s.fsm.OutboxPending() }

// Outbox returns up to max undelivered messages to shard to, oldest first.
func (s *Shard) Outbox(to uint16, max int) []engine.Message { return s.fsm.Outbox(to, max) }

// SetOutboxHook makes hook run whenever an apply appends outbox messages
// (FSM.SetOutboxHook): the node's deliverer wakes then.
func (s *Shard) SetOutboxHook(hook func()) { s.fsm.SetOutboxHook(hook) }

// Peek reads an item's available units and its SKU's limit from this
// node's applied state, allocating nothing (the coordinator of a limited
// reserve decides by it, docs/adr/0070).
func (s *Shard) Peek(sku, store []byte) (available, limit int64, ok bool) {
	return s.fsm.Peek(sku, store)
}

// ClaimsDue lists up to max pending claims whose deadline is at or before
// until: the home's sweep settles them.
func (s *Shard) ClaimsDue(until int64, max int) []engine.DueClaim { return s.fsm.ClaimsDue(until, max) }

// ProvisionalDue lists up to max provisional holds whose deadline is at or
// before until: the item shard's sweep resolves them.
func (s *Shard) ProvisionalDue(until int64, max int) []engine.DueHold {
	return s.fsm.ProvisionalDue(until, max)
}

// StateHash returns the sha256 of the shard's engine state and the raft
// index it was applied up to: every replica that applied the same index
// has the same hash.
func (s *Shard) StateHash() (applied uint64, sum [sha256.Size]byte, err error) {
	h := sha256.New()
	// StateBytes holds the FSM's lock: the applied index read before and
	// after brackets the state that was hashed.
	for {
		before := s.fsm.AppliedIndex()
		if err := s.fsm.StateBytes(h); err != nil {
			return 0, sum, err
		}
		if after := s.fsm.AppliedIndex(); after == before {
			h.Sum(sum[:0])
			return after, sum, nil
		}
		h.Reset()
	}
}

// SnapshotStats returns the shard's snapshot and restore counts.
func (s *Shard) SnapshotStats() SnapshotStats { return s.fsm.SnapshotStats() }

// SetApplyObserver makes o observe the shard's apply rounds (nil: none).
func (s *Shard) SetApplyObserver(o ApplyObserver) { s.fsm.SetApplyObserver(o) }

// SetSnapshotObserver makes o observe the shard's snapshots and restores.
func (s *Shard) SetSnapshotObserver(o SnapshotObserver) { s.fsm.SetSnapshotObserver(o) }

// LeaderHint returns the shard and the leader's raft id ("" if unknown):
// how a router that knows nothing of raft reads this refusal.
func (e *NotLeaderError) LeaderHint() (shard uint16, leaderID string) {
	return e.Shard, string(e.LeaderID)
}
