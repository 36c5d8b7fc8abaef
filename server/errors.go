package server

import (
	"errors"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/raftstore"
	"github.com/invsys/inv/router"
)

// refusal is a request the server itself declined before any proposal
// (unavailable while draining, busy forwarding ...): the router's error
// with a code, so that one mapping serves both.
type refusal = router.Refusal

var errDraining = &refusal{Code: engine.CodeUnavailable, Msg: "the server is shutting down"}

// codeOf maps an error of a request that was not served to the code its
// ERROR reply carries.
func codeOf(err error) engine.Code {
	if code, ok := router.CodeOf(err); ok {
		return code
	}
	return raftstore.Code(err)
}

// notLeaderOf returns the NOT_LEADER payload for a request refused because
// this node does not lead the shard: the router names the leader's node
// and client address when it knows them (router.NotLeaderError); otherwise
// the hint names no address, and a client asks TOPOLOGY again.
func notLeaderOf(err error) (protocol.NotLeader, bool) {
	var nl *router.NotLeaderError
	if errors.As(err, &nl) {
		return protocol.NotLeader{Shard: nl.Shard, LeaderID: nl.NodeID, LeaderAddr: nl.Addr}, true
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
