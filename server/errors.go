package server

import (
	"errors"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/raftstore"
)

// refusal is a request the server itself declined before any proposal
// (unavailable while draining, an id no shard issued ...).
type refusal struct {
	code engine.Code
	msg  string
}

func (r *refusal) Error() string { return r.code.String() + ": " + r.msg }

var (
	errDraining = &refusal{engine.CodeUnavailable, "the server is shutting down"}
	errNoShard  = &refusal{engine.CodeInternal, "no such shard on this node"}
)

// codeOf maps an error of a request that was not served to the code its
// ERROR reply carries.
func codeOf(err error) engine.Code {
	var r *refusal
	if errors.As(err, &r) {
		return r.code
	}
	return raftstore.Code(err)
}

// notLeaderOf returns the NOT_LEADER payload for a proposal refused because
// this node does not lead the shard. The raft address in a raftstore error
// is the leader's raft listener, not its client address: in a cluster the
// server first turns it into a leaderHint naming the leader's client
// address (cluster.go); otherwise the hint names no address, and a client
// asks TOPOLOGY again.
func notLeaderOf(err error) (protocol.NotLeader, bool) {
	var h *leaderHint
	if errors.As(err, &h) { // a cluster node names the leader's client address (cluster.go)
		return protocol.NotLeader{Shard: h.nle.Shard, LeaderID: h.nodeID, LeaderAddr: h.addr}, true
	}
	var nle *raftstore.NotLeaderError
	if errors.As(err, &nle) {
		return protocol.NotLeader{Shard: nle.Shard}, true
	}
	return protocol.NotLeader{}, false
}

// resultCode is the label a request's outcome is counted under.
func resultCode(r *engine.Result, err error) engine.Code {
	if err != nil {
		return codeOf(err)
	}
	return r.Code
}
