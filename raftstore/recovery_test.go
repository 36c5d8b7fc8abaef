// Tests of recovery against the marks file (recovery.go) with a real node
// in t.TempDir(): reserves are acknowledged, the node is closed, and the
// newest Pebble write-ahead log is cut (to half, to nothing, to a few
// bytes), which Pebble's recovery accepts without a word. The node then
// refuses to start with a *DataLossError naming the shard and the entries
// lost, starting nothing; with AcceptDataLoss it starts on what remains,
// logs it once, records it in data-loss.log and lowers the mark, so that
// the next start needs no flag. A node closed and reopened without damage
// starts as always: no false alarm. The vote gate's decisions are tested
// on its own.
package raftstore

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/invsys/inv/engine"
)

// newestWAL returns the path of the newest write-ahead log in a node's dir.
func newestWAL(t testing.TB, dir string) string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "raft", "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no write-ahead log in %s: %v", dir, err)
	}
	sort.Strings(logs) // zero-padded numbers: the newest sorts last
	return logs[len(logs)-1]
}

// tearWAL cuts the newest write-ahead log to cut(size) bytes.
func tearWAL(t testing.TB, dir string, cut func(size int64) int64) {
	t.Helper()
	path := newestWAL(t, dir)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, cut(st.Size())); err != nil {
		t.Fatal(err)
	}
}

// acknowledge opens a node on dir, has n reserves acknowledged on shard 0,
// and closes it; it returns the last raft index acknowledged.
func acknowledge(t *testing.T, o Options, n int) uint64 {
	t.Helper()
	node := openTestNode(t, o)
	waitLeaderOf(t, node)
	s := node.Shard(0)
	do(t, s, putItem("A", "S1", 1_000_000))
	for i := range n {
		if r := do(t, s, reserve("A", "S1", fmt.Sprint("c", i), 1)); r.Code != engine.OK {
			t.Fatalf("reserve %d: %v", i, r.Code)
		}
	}
	idx := s.AppliedIndex()
	if err := node.Close(); err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestTornLogRefusesToStartUnlessAccepted(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  func(int64) int64
	}{
		{"half", func(n int64) int64 { return n / 2 }},
		{"empty", func(int64) int64 { return 0 }},
		{"a few bytes", func(int64) int64 { return 5 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testNodeOptions(t, t.TempDir())
			o.Shards, o.ID = 1, "n1"
			acked := acknowledge(t, o, 60)
			tearWAL(t, o.Dir, tc.cut)

			_, err := OpenNode(o)
			var dle *DataLossError
			if !errors.As(err, &dle) || len(dle.Shards) != 1 || dle.Shards[0].Shard != 0 ||
				dle.Shards[0].Acknowledged != acked || dle.Shards[0].Lost() == 0 {
				t.Fatalf("open after the tear: %v", err)
			}
			if !strings.Contains(err.Error(), "shard 0") || !strings.Contains(err.Error(), "entries lost") {
				t.Fatalf("message: %v", err)
			}
			t.Logf("%v", err)

			// Accepted: starts on what remains, says so once, records it.
			log, logs := newLogBuffer(slog.LevelInfo)
			o.Logger, o.AcceptDataLoss = log, true
			n := openTestNode(t, o)
			waitLeaderOf(t, n)
			if got := logs.count("ACCEPTING DATA LOSS"); got != 1 {
				t.Fatalf("%d acceptance lines:\n%s", got, logs)
			}
			rec, err := os.ReadFile(filepath.Join(o.Dir, dataLossFile))
			if err != nil || !strings.Contains(string(rec), fmt.Sprintf(`"acknowledged":%d`, acked)) {
				t.Fatalf("data-loss.log: %q %v", rec, err)
			}
			do(t, n.Shard(0), putItem("B", "S1", 1)) // writable again
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
			// The mark was lowered: the next start needs no flag.
			o.AcceptDataLoss = false
			n = openTestNode(t, o)
			n.Close()
		})
	}
}

func TestCleanRestartIsNoLoss(t *testing.T) {
	o := testNodeOptions(t, t.TempDir())
	o.Shards, o.ID = 2, "n1"
	acknowledge(t, o, 30)
	for range 2 {
		n := openTestNode(t, o)
		waitLeaderOf(t, n)
		if err := n.Shard(0).Barrier(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		if st := n.Shard(0).Stats(); st.ActiveHolds != 30 {
			t.Fatalf("%d holds after a restart", st.ActiveHolds)
		}
		if n.Shard(0).VoteWithheld() {
			t.Fatal("vote withheld without a loss")
		}
		n.Close()
	}
}

func TestAckedMarkIsWrittenBeforeTheReply(t *testing.T) {
	o := testNodeOptions(t, t.TempDir())
	o.Shards = 1
	n := openTestNode(t, o)
	defer n.Close()
	waitLeaderOf(t, n)
	s := n.Shard(0)
	do(t, s, putItem("A", "S1", 10))
	r := do(t, s, reserve("A", "S1", "c", 1))
	// By the time the reply came, the mark covers it, on disk: read the
	// file as a restart would.
	m, _, err := openMarkFile(t.TempDir(), 1, testLogger(t)) // a second file: the node holds its own open
	if err != nil {
		t.Fatal(err)
	}
	m.close()
	buf, err := os.ReadFile(filepath.Join(o.Dir, marksFileName))
	if err != nil {
		t.Fatal(err)
	}
	best := uint64(0)
	for slot := 0; slot < 2; slot++ {
		if _, marks, err := decodeMarks(buf[slot*marksSlotLen(1):], 1); err == nil {
			best = max(best, marks[0].Acked)
		}
	}
	if r.Code != engine.OK || best < s.AppliedIndex() {
		t.Fatalf("reply %v with the mark at %d, applied %d", r.Code, best, s.AppliedIndex())
	}
}

// voteRPC is a vote request as raft's transport hands it over.
func voteRPC(cmd any) (raft.RPC, chan raft.RPCResponse) {
	ch := make(chan raft.RPCResponse, 1)
	return raft.RPC{Command: cmd, RespChan: ch}, ch
}

func TestVoteGateDecisions(t *testing.T) {
	var index, term uint64 = 90, 4 // the log as recovered
	g := &voteGate{shard: 3, index: 100, term: 5, log: testLogger(t)}
	pos := func() (uint64, uint64) { return index, term }
	g.position.Store(&pos)

	for _, tc := range []struct {
		lastTerm, lastIndex uint64
		raftDecides         bool
	}{
		{5, 99, false},  // shorter than what this node had in the mark's term
		{4, 500, false}, // an older last term loses whatever its length
		{5, 100, true},  // as up to date as the mark: raft decides
		{6, 1, true},    // a later term wins
	} {
		rpc, ch := voteRPC(&raft.RequestVoteRequest{Term: 7, LastLogTerm: tc.lastTerm, LastLogIndex: tc.lastIndex})
		if answered := g.answer(rpc); answered == tc.raftDecides {
			t.Fatalf("vote from (%d, %d): answered by the gate %v", tc.lastTerm, tc.lastIndex, answered)
		}
		if !tc.raftDecides {
			if resp := (<-ch).Response.(*raft.RequestVoteResponse); resp.Granted || resp.Term != 7 {
				t.Fatalf("gate's answer %+v", resp)
			}
		}
		rpc, ch = voteRPC(&raft.RequestPreVoteRequest{Term: 7, LastLogTerm: tc.lastTerm, LastLogIndex: tc.lastIndex})
		if answered := g.answer(rpc); answered == tc.raftDecides {
			t.Fatalf("pre-vote from (%d, %d): answered by the gate %v", tc.lastTerm, tc.lastIndex, answered)
		}
		if !tc.raftDecides && (<-ch).Response.(*raft.RequestPreVoteResponse).Granted {
			t.Fatal("pre-vote granted by the gate")
		}
	}
	rpc, ch := voteRPC(&raft.TimeoutNowRequest{})
	if !g.answer(rpc) || !errors.Is((<-ch).Error, errVoteWithheld) {
		t.Fatal("a leadership transfer reached a gated shard")
	}
	if err := g.RequestVote("n1", "a", &raft.RequestVoteRequest{}, &raft.RequestVoteResponse{}); !errors.Is(err, errVoteWithheld) {
		t.Fatalf("gated shard asked for a vote: %v", err)
	}
	if rpc, _ := voteRPC(&raft.AppendEntriesRequest{}); g.answer(rpc) {
		t.Fatal("the gate held back an append")
	}

	// One below the mark: still closed. At the mark: open, for good.
	index = 99
	if g.isOpen() {
		t.Fatal("open one entry short of the mark")
	}
	index = 100
	if !g.isOpen() {
		t.Fatal("closed at the mark")
	}
	index = 0
	if rpc, _ := voteRPC(&raft.RequestVoteRequest{LastLogTerm: 1}); !g.isOpen() || g.answer(rpc) {
		t.Fatal("an open gate closed again")
	}

	// An entry of a later term than the mark's opens it below the index.
	g2 := &voteGate{index: 100, term: 5, log: testLogger(t)}
	pos2 := func() (uint64, uint64) { return 60, 6 }
	g2.position.Store(&pos2)
	if !g2.isOpen() {
		t.Fatal("closed though the log holds an entry of a later term")
	}
	// Without the mark's term, only the index counts.
	g3 := &voteGate{index: 100, log: testLogger(t)}
	g3.position.Store(&pos2)
	if g3.isOpen() {
		t.Fatal("a mark without a term opened on a later term")
	}
}

// In a cluster every node's marks follow its own log (the leader's appends
// and the followers'); a follower whose log is torn starts with its vote
// withheld, catches up from the leader, and votes again.
func TestClusterFollowerTornLogWithholdsVoteUntilCaughtUp(t *testing.T) {
	c := newTestCluster(t, 3, 1)
	c.doRetry(0, putItem("A", "S1", 1000))
	for i := range 30 {
		c.doRetry(0, reserve("A", "S1", fmt.Sprint("c", i), 1))
	}
	c.converged(0)
	for _, n := range c.nodes {
		// raft notes its new last entry just after the append returns.
		waitFor(t, string(n.ID())+"'s mark to be its log's end", 5*time.Second, func() bool {
			st := n.Shard(0).Status()
			mk := n.marks.get(0)
			return mk.Persisted == st.LastLogIndex && mk.Term == st.LastLogTerm
		})
	}
	fi := (c.indexOf(c.leader(0)) + 1) % 3
	if err := c.nodes[fi].Close(); err != nil {
		t.Fatal(err)
	}
	old := c.nodes[fi]
	c.nodes[fi] = nil
	tearWAL(t, c.opts[fi].Dir, func(int64) int64 { return 0 })

	o := c.opts[fi]
	o.Listener, o.BindAddr = nil, string(old.Addr())
	log, logs := newLogBuffer(slog.LevelInfo)
	o.Logger = log
	c.nodes[fi] = openTestNode(t, o)
	if !c.nodes[fi].Shard(0).VoteWithheld() || logs.count("withholding its vote") != 1 {
		t.Fatalf("torn follower votes (withheld %v):\n%s", c.nodes[fi].Shard(0).VoteWithheld(), logs)
	}
	waitFor(t, "the torn follower to catch up and vote again", 20*time.Second, func() bool {
		return !c.nodes[fi].Shard(0).VoteWithheld()
	})
	if logs.count("voting again") != 1 {
		t.Fatalf("no line when the vote came back:\n%s", logs)
	}
	c.converged(0)
	if st := c.nodes[fi].Shard(0).Stats(); st.ActiveHolds != 30 {
		t.Fatalf("caught-up follower holds %d, want 30", st.ActiveHolds)
	}
}
