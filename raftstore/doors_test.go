// Tests of the shard's named doors (doors.go) on a single-node cluster:
// the leader's id and term, the commit and configuration indexes, the
// queued claim releases and the state hash say what raft and the FSM say,
// the hash moves with the state and is the same for the same state, and a
// not-leader refusal reads back through LeaderHint.
package raftstore

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

func TestShardDoors(t *testing.T) {
	n := openTestNode(t, testNodeOptions(t, t.TempDir()))
	defer n.Close()
	waitLeaderOf(t, n)
	s := n.Shard(0)
	if id := s.LeaderID(); id != string(n.ID()) {
		t.Fatalf("LeaderID %q, node %q", id, n.ID())
	}
	if s.Term() == 0 || s.Term() != s.Raft().CurrentTerm() {
		t.Fatalf("Term %d, raft says %d", s.Term(), s.Raft().CurrentTerm())
	}
	f := s.Raft().GetConfiguration()
	if ci, err := s.ConfigurationIndex(); err != nil || f.Error() != nil || ci != f.Index() {
		t.Fatalf("ConfigurationIndex %d, %v; raft says %d", ci, err, f.Index())
	}
	applied0, h0, err := s.StateHash()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := s.FSM().StateBytes(&want); err != nil || h0 != sha256.Sum256(want.Bytes()) {
		t.Fatalf("StateHash is not the hash of the state bytes (%v)", err)
	}
	do(t, s, putItem("A", "S1", 5))
	applied1, h1, err := s.StateHash()
	if err != nil || applied1 <= applied0 || h1 == h0 {
		t.Fatalf("after a write: applied %d→%d, hash changed %v, %v", applied0, applied1, h1 != h0, err)
	}
	if s.CommitIndex() < applied1 {
		t.Fatalf("commit index %d below applied %d", s.CommitIndex(), applied1)
	}
	if got := s.OutboxPending(); len(got) != 0 {
		t.Fatalf("outbox of a fresh shard: %+v", got)
	}
	if got := s.Outbox(1, 64); len(got) != 0 {
		t.Fatalf("outbox messages of a fresh shard: %+v", got)
	}
	if st := s.RaftStats(); st["state"] != "Leader" {
		t.Fatalf("raft stats: %v", st)
	}
	if st := s.SnapshotStats(); st.Persisted != 0 {
		t.Fatalf("snapshot stats of a fresh shard: %+v", st)
	}
	nle := &NotLeaderError{Shard: 3, LeaderID: "node-2"}
	if sh, id := nle.LeaderHint(); sh != 3 || id != "node-2" {
		t.Fatalf("LeaderHint %d %q", sh, id)
	}
}
