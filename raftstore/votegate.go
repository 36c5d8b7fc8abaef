package raftstore

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// The vote gate of a shard that lost log entries this node had reported
// durable (recovery.go, docs/adr/0016). Raft's safety rests on every voter
// keeping what it acknowledged: a voter that forgot entries could elect a
// candidate that lacks them, and a committed entry would be overwritten.
// hashicorp/raft has no way to make a voter abstain, and it grants votes
// whatever its own suffrage, so the gate sits in the shard's transport:
//
//   - a vote or pre-vote request is answered by the gate itself, refused,
//     unless the candidate's log is at least as up to date as the mark
//     (the term and index of the last entry this node had), the rule raft
//     would apply had the entries not been lost; then raft decides;
//   - this node asks for no votes (its requests fail), so it never leads
//     with a log shorter than what it acknowledged, and it refuses a
//     leader's TimeoutNow (a leadership transfer to it);
//   - everything else passes: the node follows the leader, catches up from
//     its log or a snapshot, and serves stale reads meanwhile.
//
// The gate opens for good once the log is back at the mark, or holds an
// entry of a later term than the mark's: that entry came from a leader
// elected after the lost entries, whose log (by raft's leader completeness)
// holds every one of them that was committed, and which this log now
// matches up to it.

// errVoteWithheld fails the vote requests of a gated shard.
var errVoteWithheld = errors.New("raftstore: vote withheld until the log is back to what this node acknowledged")

// voteGateCheck is how often a closed gate looks whether the log caught up.
const voteGateCheck = 100 * time.Millisecond

type voteGate struct {
	*guardedTransport // every other method passes through (pipelines guarded)

	shard       uint16
	index, term uint64 // the mark: the log must get back to here
	log         *slog.Logger

	position atomic.Pointer[func() (index, term uint64)] // the log's last entry; nil until raft runs
	open     atomic.Bool
	rpcs     chan raft.RPC
	stop     chan struct{}
	stopOnce sync.Once
}

// newVoteGate wraps trans for a shard that lost entries up to (index, term).
func newVoteGate(trans *guardedTransport, shard uint16, index, term uint64, log *slog.Logger) *voteGate {
	g := &voteGate{guardedTransport: trans, shard: shard, index: index, term: term, log: log,
		rpcs: make(chan raft.RPC), stop: make(chan struct{})}
	go g.forward()
	return g
}

// start gives the gate the log's position once raft runs, and watches it.
func (g *voteGate) start(position func() (index, term uint64)) {
	g.position.Store(&position)
	go func() {
		t := time.NewTicker(voteGateCheck)
		defer t.Stop()
		for !g.isOpen() {
			select {
			case <-t.C:
			case <-g.stop:
				return
			}
		}
	}()
}

// isOpen reports whether the gate opened, opening it (with one log line)
// when the log has caught up.
func (g *voteGate) isOpen() bool {
	if g.open.Load() {
		return true
	}
	p := g.position.Load()
	if p == nil {
		return false
	}
	index, term := (*p)()
	if index < g.index && (g.term == 0 || term <= g.term) {
		return false
	}
	if g.open.CompareAndSwap(false, true) {
		g.log.Info("log caught up with what this node acknowledged: voting again",
			"shard", g.shard, "index", index, "term", term, "mark_index", g.index, "mark_term", g.term)
	}
	return true
}

// upToDate reports whether a candidate's last entry is at least the mark,
// by raft's comparison (term first, then index).
func (g *voteGate) upToDate(lastTerm, lastIndex uint64) bool {
	return lastTerm > g.term || lastTerm == g.term && lastIndex >= g.index
}

// Consumer is what raft reads its RPCs from: the transport's, through the gate.
func (g *voteGate) Consumer() <-chan raft.RPC { return g.rpcs }

func (g *voteGate) forward() {
	in := g.NetworkTransport.Consumer()
	for {
		var rpc raft.RPC
		select {
		case rpc = <-in:
		case <-g.stop:
			return
		}
		if g.answer(rpc) {
			continue
		}
		select {
		case g.rpcs <- rpc:
		case <-g.stop:
			return
		}
	}
}

// answer answers rpc itself when the gate is closed and rpc is a vote,
// pre-vote or leadership transfer it must refuse; it reports whether it did.
func (g *voteGate) answer(rpc raft.RPC) bool {
	if g.isOpen() {
		return false
	}
	header := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax}
	switch req := rpc.Command.(type) {
	case *raft.RequestVoteRequest:
		if g.upToDate(req.LastLogTerm, req.LastLogIndex) {
			return false
		}
		rpc.Respond(&raft.RequestVoteResponse{RPCHeader: header, Term: req.Term, Granted: false}, nil)
	case *raft.RequestPreVoteRequest:
		if g.upToDate(req.LastLogTerm, req.LastLogIndex) {
			return false
		}
		rpc.Respond(&raft.RequestPreVoteResponse{RPCHeader: header, Term: req.Term, Granted: false}, nil)
	case *raft.TimeoutNowRequest:
		rpc.Respond(nil, errVoteWithheld)
	default:
		return false
	}
	return true
}

// RequestVote asks for a vote only once the gate is open.
func (g *voteGate) RequestVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestVoteRequest, resp *raft.RequestVoteResponse) error {
	if !g.isOpen() {
		return errVoteWithheld
	}
	return g.NetworkTransport.RequestVote(id, target, args, resp)
}

// RequestPreVote asks for a pre-vote only once the gate is open.
func (g *voteGate) RequestPreVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	if !g.isOpen() {
		return errVoteWithheld
	}
	return g.NetworkTransport.RequestPreVote(id, target, args, resp)
}

// Close stops the gate and closes the transport.
func (g *voteGate) Close() error {
	g.stopOnce.Do(func() { close(g.stop) })
	return g.NetworkTransport.Close()
}

var (
	_ raft.Transport   = (*voteGate)(nil)
	_ raft.WithClose   = (*voteGate)(nil)
	_ raft.WithPreVote = (*voteGate)(nil)
)
