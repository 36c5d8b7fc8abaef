// A torn raft log on one node of a 3-node cluster of real invd processes
// (one shard, so every write is in the same group). Node C is partitioned
// away, so the next acknowledged reservations live only on A (the leader)
// and B. B is killed with SIGKILL and its newest Pebble write-ahead log
// emptied, which Pebble recovers without a word; A is killed too, and C's
// partition healed. Now B and C alone could elect C, which lacks those
// reservations, if B voted on the log it has left. The test proves that B
// withholds its vote: while A is down the shard gets no leader although C
// campaigns. Then A restarts, is elected, B catches up from it and votes
// again, every replica converges, and every acknowledged reservation is
// there. On code without the marks file and the vote gate, C is elected
// and the reservations only A and B held are overwritten.
package clustertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

func TestTornLogNodeDoesNotVoteBeforeCatchingUp(t *testing.T) {
	const a, b, cn = 0, 1, 2
	c := startClusterWith(t, 3, 1, "log_level = info\n")
	settledLeaderOf(t, c, 0) // node A (index 0) leads the one shard
	cl := dial(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cl.PutItem(ctx, client.ItemSpec{SKU: "T", Store: "S1", Stock: 100_000}); err != nil {
		t.Fatal(err)
	}
	acked := reserveN(t, ctx, cl, "all", 40)
	if _, err := c.WaitConverged(30 * time.Second); err != nil {
		t.Fatal(err)
	}

	// C is cut off: what follows is acknowledged by A and B alone.
	if err := c.Partition(cn); err != nil {
		t.Fatal(err)
	}
	acked = append(acked, reserveN(t, ctx, cl, "ab", 60)...)
	c.Kill(b)
	wal := emptyNewestWAL(t, c.DataDir(b))
	c.Kill(a)
	if err := c.Heal(); err != nil { // C alone is up: this heals C
		t.Fatal(err)
	}
	if err := c.Launch(b); err != nil {
		t.Fatal(err)
	}
	t.Logf("emptied %s; A down, C healed, B restarted", wal)
	waitFor(t, "B to withhold its vote", 30*time.Second, func() bool {
		return c.Proc(b).LogLines("withholding its vote") == 1
	})

	// B and C alone: C campaigns, B refuses, no leader.
	campaigns := c.Proc(cn).LogLines("starting election")
	deadline := time.Now().Add(4 * time.Second) // ten election timeouts
	for time.Now().Before(deadline) {
		if c.Leader(0) == cn {
			t.Fatalf("C, which lacks reservations B had acknowledged, was elected with B's vote")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.Proc(cn).LogLines("starting election") == campaigns {
		t.Fatal("C did not campaign while A was down: the check proved nothing")
	}

	// A returns: elected, B catches up and votes again, nothing is lost.
	if err := c.Start(a); err != nil {
		t.Fatal(err)
	}
	if err := c.Proc(b).WaitServing(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B to vote again", 30*time.Second, func() bool {
		return c.Proc(b).LogLines("voting again") == 1
	})
	if _, err := c.WaitConverged(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, id := range acked {
		r, err := cl.GetReservation(ctx, id)
		if err != nil || r.State != engine.StateHeld {
			t.Fatalf("acknowledged reservation %d after B's torn log: %+v %v", id, r, err)
		}
	}
	t.Logf("%d acknowledged reservations kept", len(acked))
}

// reserveN has n reservations acknowledged and returns their ids.
func reserveN(t *testing.T, ctx context.Context, cl *client.Client, tag string, n int) []uint64 {
	t.Helper()
	ids := make([]uint64, 0, n)
	for i := range n {
		r, err := cl.Reserve(ctx, client.ReserveRequest{SKU: "T", Store: "S1", Customer: fmt.Sprintf("%s-%d", tag, i)})
		if err != nil {
			t.Fatalf("reserve %s-%d: %v", tag, i, err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

// emptyNewestWAL cuts a stopped node's newest write-ahead log to nothing.
func emptyNewestWAL(t *testing.T, data string) string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(data, "raft", "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no write-ahead log under %s: %v", data, err)
	}
	sort.Strings(logs) // zero-padded numbers: the newest sorts last
	wal := logs[len(logs)-1]
	if err := os.Truncate(wal, 0); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(wal, data+string(filepath.Separator))
}
