package router

import (
	"errors"
	"fmt"

	"github.com/invsys/inv/engine"
)

// Refusal is a request the router declined or could not finish, with the
// engine code its answer carries (timeout: the outcome is unknown).
type Refusal struct {
	Code engine.Code
	Msg  string
}

func (e *Refusal) Error() string { return e.Code.String() + ": " + e.Msg }

// ErrNotHeld: this node holds no replica of the shard. A node answers it
// to another node's SHARD_CALL (code not_held), and the router, meeting it,
// asks the next node that may hold the shard; a client is answered
// unavailable when no node asked held it.
var ErrNotHeld = &Refusal{engine.CodeNotHeld, "this node holds no replica of the shard"}

// NotLeaderError is a refusal because this node does not lead the shard.
// In a cluster NodeID and Addr name the leader's node and client address
// when this node knows them; a client is answered NOT_LEADER with them.
type NotLeaderError struct {
	Shard  uint16
	NodeID uint32 // 0: unknown
	Addr   string // "": unknown (an election, or a node alone)
	Err    error  // the shard's own refusal, if any
}

func (e *NotLeaderError) Error() string {
	if e.Addr != "" {
		return fmt.Sprintf("shard %d: not the leader; the leader is node %d at %s", e.Shard, e.NodeID, e.Addr)
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("shard %d: not the leader; leader unknown", e.Shard)
}

func (e *NotLeaderError) Unwrap() error { return e.Err }

// CodeOf returns the code of an error the router made: a Refusal's code,
// not_leader for a NotLeaderError. ok is false for any other error (the
// shard's own, which its package maps).
func CodeOf(err error) (code engine.Code, ok bool) {
	var rf *Refusal
	if errors.As(err, &rf) {
		return rf.Code, true
	}
	var nl *NotLeaderError
	if errors.As(err, &nl) {
		return engine.CodeNotLeader, true
	}
	return 0, false
}

// Hint turns a shard's not-leader refusal (LeaderHint) into a
// NotLeaderError naming the leader's node when this node knows it; other
// errors pass unchanged. Every error the router hands to a done function
// has been through it; the server uses it for the errors of its own calls
// to shards (membership changes).
func (r *Router) Hint(err error) error {
	if err == nil {
		return nil
	}
	var nl *NotLeaderError
	if errors.As(err, &nl) {
		return err
	}
	var lh LeaderHint
	if !errors.As(err, &lh) {
		return err
	}
	shard, id := lh.LeaderHint()
	return r.leaderHint(shard, id, err)
}

// leaderHint names shard's leader: by id (asking the shard when the
// refusal named none), as the peer table knows it.
func (r *Router) leaderHint(shard uint16, leaderID string, cause error) *NotLeaderError {
	out := &NotLeaderError{Shard: shard, Err: cause}
	if r.peers == nil {
		return out // a node alone: the client asks TOPOLOGY again
	}
	if leaderID == "" {
		if sh := r.shard(int(shard)); sh != nil {
			leaderID = sh.LeaderID()
		}
	}
	if leaderID == "" {
		return out // an election is on
	}
	if node, addr, ok := r.peers.NodeOf(leaderID); ok {
		out.NodeID, out.Addr = node, addr
	}
	return out
}

// unheld reports whether err, a refusal of this node's shard, means this
// node holds no replica of it: a node of a cluster that knows no leader
// for a shard whose group it is not a member of.
func (r *Router) unheld(shard int, err error) bool {
	if errors.Is(err, ErrNotHeld) {
		return true
	}
	var nl *NotLeaderError
	if r.peers == nil || !errors.As(err, &nl) || nl.Addr != "" {
		return false
	}
	sh := r.shard(shard)
	return sh == nil || !sh.IsMember()
}
