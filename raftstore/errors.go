package raftstore

import (
	"errors"
	"fmt"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
)

// Errors of a proposal. Each says whether the commands may have been
// applied, which decides what a client may do next:
//
//	ErrBusy, ErrNotLeader, ErrClosed, ErrBadGroup,
//	ErrFieldTooLarge, ErrDiskFull not applied: retry (elsewhere, later) or fix
//	ErrOutcomeUnknown             may or may not have been applied: retry
//	                              with the same idempotency key
var (
	// ErrBusy: the shard's proposal queue is full. Nothing was queued.
	ErrBusy = errors.New("raftstore: shard busy")
	// ErrNotLeader: this node does not lead the shard. Errors carrying the
	// leader's address are *NotLeaderError, which matches ErrNotLeader.
	ErrNotLeader = errors.New("raftstore: not the shard's leader")
	// ErrClosed: the shard is shutting down; the proposal was not sent.
	ErrClosed = errors.New("raftstore: shard closed")
	// ErrBadGroup: a proposal whose linked chain would run into another
	// caller's commands, or with more commands than one batch holds.
	ErrBadGroup = errors.New("raftstore: malformed command group")
	// ErrDiskFull: the free space of the node's data folder is below its
	// reserve (diskguard.go); writes are refused until space returns.
	ErrDiskFull = errors.New("raftstore: disk full: free space below the reserve; writes refused until space is freed")
	// ErrOutcomeUnknown: the batch reached raft but its fate is unknown
	// (leadership lost before commit, or shutdown while in flight).
	ErrOutcomeUnknown = errors.New("raftstore: proposal outcome unknown")
)

// NotLeaderError names the shard's leader when this node knows it.
type NotLeaderError struct {
	Shard      uint16
	LeaderAddr raft.ServerAddress // empty if unknown (an election is on)
	LeaderID   raft.ServerID
}

func (e *NotLeaderError) Error() string {
	if e.LeaderAddr == "" {
		return fmt.Sprintf("raftstore: shard %d: not the leader; leader unknown", e.Shard)
	}
	return fmt.Sprintf("raftstore: shard %d: not the leader; leader is %s at %s", e.Shard, e.LeaderID, e.LeaderAddr)
}

// Is makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// Code maps a proposal error to the project's code table, for the wire.
func Code(err error) engine.Code {
	switch {
	case err == nil:
		return engine.OK
	case errors.Is(err, ErrBusy):
		return engine.CodeBusy
	case errors.Is(err, ErrNotLeader):
		return engine.CodeNotLeader
	case errors.Is(err, ErrClosed):
		return engine.CodeUnavailable
	case errors.Is(err, ErrDiskFull):
		return engine.CodeDiskFull
	case errors.Is(err, ErrOutcomeUnknown):
		return engine.CodeTimeout
	case errors.Is(err, ErrFieldTooLarge):
		return engine.CodeTooLarge
	case errors.Is(err, ErrBadGroup):
		return engine.CodeBadRequest
	default:
		return engine.CodeInternal
	}
}

// applyError turns the error of a raft ApplyFuture into one of ours.
func applyError(shard uint16, r raftApplier, err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		// Refused before it entered the log: never applied.
		return notLeader(shard, r)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		// Never entered raft's queue: not applied.
		return fmt.Errorf("%w: %v", ErrBusy, err)
	default:
		// ErrLeadershipLost, ErrRaftShutdown, ...: the entry may be in the
		// log and commit later under the next leader.
		return fmt.Errorf("%w: shard %d: %v", ErrOutcomeUnknown, shard, err)
	}
}

func notLeader(shard uint16, r raftApplier) error {
	addr, id := r.LeaderWithID()
	return &NotLeaderError{Shard: shard, LeaderAddr: addr, LeaderID: id}
}
