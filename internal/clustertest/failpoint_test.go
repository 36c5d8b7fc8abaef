//go:build failpoints

// Failpoints at the dangerous sites (internal/failpoint), on a 3-node
// cluster of real invd processes built with -tags failpoints. Each test
// arms a point on one node at the moment it chooses (the node's failpoint
// endpoint), makes the node reach it, and proves that the node did (it
// exited with status 137 and logged the point) before it checks recovery:
//
//   - after the raft log write and before the reply (raft/before-reply on
//     the leader: the entry is committed and applied, the reply never
//     leaves; raft/after-log-write on the leader: the entry is on its disk,
//     maybe nowhere else): a reserve sent once has an unknown outcome; once
//     the node is back, every replica holds the same state (the reserve is
//     there or not on all of them, and it must be there when it was
//     applied), and the client's retry with the same key is counted once;
//     an injected error before the reply is ridden out by the client's own
//     keyed retry, counted once too;
//   - inside FSM apply, between two entries of a round (fsm/apply), on a
//     follower and then on the leader, under load: after the restart every
//     replica has the same state hash and the checks of workload_test.go
//     hold (no oversell, every acknowledged operation present);
//   - during a snapshot's persist (before the write, before the sink's
//     close, after it) under load: the restarted node restores a snapshot
//     (the previous one, or the new one once closed) and replays the log,
//     with nothing acknowledged lost;
//   - during restore (before and after the state is replaced), at start
//     from the node's own snapshot and when the leader installs its
//     snapshot on a node that fell behind its compacted log: the node
//     crashes, and its next start succeeds and converges to identical
//     state with every acknowledged operation present.
//
// make test runs these with go test -race -tags failpoints -run TestFailpoint.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/internal/failpoint"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
)

// crashWait bounds the wait for an armed crash to happen once its site is
// being reached. The longest wait is for a snapshot install: a leader
// whose follower was down backs off its replication to it exponentially,
// up to about ten seconds, before it tries again.
const crashWait = 30 * time.Second

// arm arms spec on node i.
func arm(t *testing.T, c *invdtest.Cluster, i int, spec string) {
	t.Helper()
	if _, err := c.Failpoint(i, spec); err != nil {
		t.Fatal(err)
	}
}

// crashed waits for node i to crash at point and fails the test if it did
// not (the failpoint never fired, or the node died some other way).
func crashed(t *testing.T, c *invdtest.Cluster, i int, point string) {
	t.Helper()
	code, logs, err := c.WaitExit(i, crashWait)
	if err != nil {
		t.Fatalf("%s armed on node %d: %v", point, i+1, err)
	}
	if code != failpoint.CrashStatus || !strings.Contains(logs, "failpoint: crash") || !strings.Contains(logs, point) {
		t.Fatalf("node %d exited %d, want a crash at %s:\n%s", i+1, code, point, logs)
	}
	t.Logf("node %d crashed at %s", i+1, point)
}

// once dials a client that sends each call once: a lost reply stays an
// unknown outcome instead of being retried away.
func once(t *testing.T, c *invdtest.Cluster) *client.Client {
	t.Helper()
	return dial(t, c, client.WithRetry(client.RetryPolicy{MaxAttempts: 1}), client.WithRequestTimeout(5*time.Second))
}

func TestFailpointCrashAfterLogWriteBeforeReply(t *testing.T) {
	c := startCluster(t, 3, 1)
	cl := dial(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const sku, store, qty = "fp-reply", "s1", 2
	if err := cl.PutItem(ctx, client.ItemSpec{SKU: sku, Store: store, Stock: 100}); err != nil {
		t.Fatal(err)
	}
	held := int64(0)     // units the test's reserves hold so far
	reserves := int64(1) // the reserves made, counting the first below
	expect := func(phase string, want ...int64) int64 {
		t.Helper()
		if _, err := c.WaitConverged(30 * time.Second); err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		it, err := cl.GetItem(ctx, sku, store)
		if err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		for _, w := range want {
			if it.Held == w {
				return w
			}
		}
		t.Fatalf("%s: item holds %d units, want one of %v", phase, it.Held, want)
		return 0
	}

	// An error in place of the reply: the client's keyed retry gets the
	// first outcome, and the units are taken once.
	l := settledLeaderOf(t, c, 0)
	arm(t, c, l, failpoint.RaftBeforeReply+"=error(reply lost)@1")
	req := client.ReserveRequest{SKU: sku, Store: store, Customer: "c-err", Qty: qty, Key: cl.NewKey()}
	res, err := cl.Reserve(ctx, req)
	if err != nil {
		t.Fatalf("reserve through an injected lost reply: %v", err)
	}
	if st, _ := c.Failpoint(l, ""); !strings.Contains(st, "fired=1") {
		t.Fatalf("the error was not injected: %q", st)
	}
	held = expect("after an injected lost reply", held+qty)
	again, err := cl.Reserve(ctx, req)
	if err != nil || again.ID != res.ID {
		t.Fatalf("resend: id %d, %v; first answer %d", again.ID, err, res.ID)
	}
	arm(t, c, l, failpoint.RaftBeforeReply+"=off")

	for _, point := range []string{failpoint.RaftBeforeReply, failpoint.RaftAfterLogWrite} {
		l := settledLeaderOf(t, c, 0)
		one := once(t, c) // its map is fresh: the reserve goes straight to l
		arm(t, c, l, point+"=crash")
		req := client.ReserveRequest{SKU: sku, Store: store, Customer: "c-" + point, Qty: qty, Key: cl.NewKey()}
		first, err := one.Reserve(ctx, req)
		if err != nil && !errors.Is(err, client.ErrUnknownOutcome) {
			t.Fatalf("%s: reserve sent once: %v, want a success or an unknown outcome", point, err)
		}
		crashed(t, c, l, point)
		if err := c.Start(l); err != nil {
			t.Fatal(err)
		}
		// Before the retry: every replica agrees on whether the reserve
		// happened. Past raft/before-reply the leader had applied it, so it
		// was committed and must be there.
		switch {
		case err == nil:
			t.Logf("%s: the reply came before the crash (id %d)", point, first.ID)
			held = expect(point+": acknowledged", held+qty)
		case point == failpoint.RaftBeforeReply:
			t.Logf("%s: no reply (%v)", point, err)
			held = expect(point+": applied before the crash", held+qty)
		default:
			t.Logf("%s: no reply (%v)", point, err)
			was := held
			held = expect(point+": unknown outcome", held, held+qty)
			t.Logf("%s: the reserve survived the crash: %v", point, held != was)
		}
		res, err := cl.Reserve(ctx, req)
		if err != nil {
			t.Fatalf("%s: keyed retry: %v", point, err)
		}
		if first.ID != 0 && res.ID != first.ID {
			t.Errorf("%s: keyed retry answered id %d, first answer %d", point, res.ID, first.ID)
		}
		r, err := cl.GetReservation(ctx, res.ID)
		if err != nil || r.Qty != qty || r.Customer != req.Customer {
			t.Fatalf("%s: reservation %d: %+v, %v", point, res.ID, r, err)
		}
		// Each reserve of the test, sent once or twice, holds its units once.
		reserves++
		held = expect(point+": after the keyed retry (each reserve once)", reserves*qty)
	}
}

func TestFailpointCrashInsideApply(t *testing.T) {
	c := startCluster(t, 3, faultShards)
	w := newWorkload(t, c, 3, 6, 150, 100000, "apply")
	hotShard := protocol.ShardOf([]byte(w.items[w.hot].sku), []byte(w.items[w.hot].store), faultShards)
	for _, who := range []string{"follower", "leader"} {
		stop := make(chan struct{})
		wg := w.run(3, stop)
		time.Sleep(500 * time.Millisecond)
		n := settledLeaderOf(t, c, hotShard)
		if who == "follower" {
			n = (n + 1) % c.Size()
		}
		// Between entries of one round: the node has applied part of what
		// raft handed it. A few rounds in, so that the load is under way.
		arm(t, c, n, failpoint.FSMApply+"=crash@5")
		t.Logf("fsm/apply armed on node %d (%s of hot shard %d) after %d ops", n+1, who, hotShard, w.ops.Load())
		crashed(t, c, n, failpoint.FSMApply)
		if err := c.Start(n); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		close(stop)
		wg.Wait()
		if f := w.failures.Load(); f > 0 {
			t.Errorf("%d operations failed after their retries", f)
		}
		w.check(c, "after a crash inside apply on the "+who)
		w.restock(100)
	}
}

func TestFailpointCrashDuringSnapshotPersist(t *testing.T) {
	c := startCluster(t, 3, 2)
	w := newWorkload(t, c, 2, 4, 150, 100000, "persist")
	cl := w.clients[0]
	const n = 1 // the node that snapshots: a follower or a leader, whichever it is
	load := func(d time.Duration) {
		stop := make(chan struct{})
		wg := w.run(2, stop)
		time.Sleep(d)
		close(stop)
		wg.Wait()
	}
	snapshot := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rep, err := cl.SnapshotAt(ctx, c.Clients[n])
		if err != nil {
			return err
		}
		for _, sh := range rep.Shards {
			if sh.Status != protocol.SnapshotTaken {
				return fmt.Errorf("shard %d: %s %s", sh.Shard, sh.Status, sh.Message)
			}
		}
		return nil
	}
	load(time.Second)
	if err := snapshot(); err != nil {
		t.Fatalf("the first snapshot: %v", err)
	}
	for _, point := range []string{failpoint.SnapshotPersistBeforeWrite, failpoint.SnapshotPersistBeforeClose,
		failpoint.SnapshotPersistAfterClose} {
		load(700 * time.Millisecond) // entries past the last snapshot, in the log only
		stop := make(chan struct{})
		wg := w.run(2, stop)
		arm(t, c, n, point+"=crash")
		if err := snapshot(); err == nil {
			t.Fatalf("%s: the snapshot succeeded on a node armed to crash", point)
		}
		crashed(t, c, n, point)
		// The restart restores a snapshot (count proves it), then replays
		// the log after it.
		c.StartFailpoints(n, failpoint.SnapshotRestoreAfter+"=count")
		if err := c.Start(n); err != nil {
			t.Fatal(err)
		}
		if st, err := c.Failpoint(n, ""); err != nil || !strings.Contains(st, failpoint.SnapshotRestoreAfter+"=count hits=2") {
			t.Errorf("%s: after the restart, every shard must restore a snapshot: %q, %v", point, st, err)
		}
		time.Sleep(300 * time.Millisecond)
		close(stop)
		wg.Wait()
		if f := w.failures.Load(); f > 0 {
			t.Errorf("%d operations failed after their retries", f)
		}
		w.check(c, "after a crash at "+point)
		w.restock(100)
		c.StartFailpoints(n, "")
	}
	// And the node still snapshots.
	load(300 * time.Millisecond)
	if err := snapshot(); err != nil {
		t.Errorf("snapshot after the crashes: %v", err)
	}
}

func TestFailpointCrashDuringSnapshotRestore(t *testing.T) {
	// Leaders keep few entries past a snapshot: a node that was down for a
	// while gets the leader's snapshot installed.
	c := startClusterWith(t, 3, 2, "trailing_logs = 10\n")
	w := newWorkload(t, c, 2, 4, 150, 100000, "restore")
	const n = 2
	stop := make(chan struct{})
	wg := w.run(2, stop)
	time.Sleep(time.Second)
	snapshotAt := func(i int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := w.clients[0].SnapshotAt(ctx, c.Clients[i]); err != nil {
			t.Fatalf("snapshot of node %d: %v", i+1, err)
		}
	}
	snapshotAt(n)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	c.Kill(n)
	for _, point := range []string{failpoint.SnapshotRestoreBefore, failpoint.SnapshotRestoreAfter} {
		c.StartFailpoints(n, point+"=crash")
		err := c.Start(n)
		if err == nil || !strings.Contains(err.Error(), "failpoint: crash") || !strings.Contains(err.Error(), point) {
			t.Fatalf("start with %s armed: %v, want a crash there", point, err)
		}
		t.Logf("node %d crashed at start in %s", n+1, point)
	}
	// An error instead of a crash: the start fails cleanly.
	c.StartFailpoints(n, failpoint.SnapshotRestoreBefore+"=error(unreadable)")
	if err := c.Start(n); err == nil || !strings.Contains(err.Error(), "unreadable") {
		t.Fatalf("start with a failing restore: %v", err)
	}
	c.StartFailpoints(n, "")
	if err := c.Start(n); err != nil {
		t.Fatalf("the start after crashes in restore: %v", err)
	}
	w.check(c, "after crashes in restore")
	stop = make(chan struct{})
	wg = w.run(2, stop)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if f := w.failures.Load(); f > 0 {
		t.Errorf("%d operations failed after their retries", f)
	}
	w.check(c, "under load after the restart")

	// Install: node n misses entries that the leaders then compact away.
	c.Kill(n)
	stop = make(chan struct{})
	wg = w.run(2, stop)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	for i := range c.Size() {
		if i != n {
			snapshotAt(i)
		}
	}
	// Hits 1 and 2 are the restores of n's own snapshots at start (one per
	// shard); the third is the first snapshot a leader installs.
	point := failpoint.SnapshotRestoreAfter
	c.StartFailpoints(n, point+"=crash@3")
	if err := c.Start(n); err != nil {
		// It crashed before it opened its port.
		if !strings.Contains(err.Error(), "failpoint: crash") || !strings.Contains(err.Error(), point) {
			t.Fatalf("start with %s armed: %v, want a crash there", point, err)
		}
		t.Logf("node %d crashed in %s of an installed snapshot before it served", n+1, point)
	} else {
		crashed(t, c, n, point)
	}
	c.StartFailpoints(n, "")
	if err := c.Start(n); err != nil {
		t.Fatalf("the start after a crash in an installed snapshot's restore: %v", err)
	}
	w.check(c, "after a crash in an installed snapshot's restore")
}
