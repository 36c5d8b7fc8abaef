// Snapshots and log truncation through a real restart: with thresholds set
// low in the config file, a few hundred raft entries per shard make invd
// snapshot every shard and truncate its log. The test then stops the server,
// checks on disk that snapshots exist and that the logs no longer start at
// index 1, restarts it (so that each shard is restored from its snapshot
// plus the log's tail) and checks that every reservation and every count
// came back, and that the server keeps serving; then it does it once more
// after a kill -9.
package main_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/raftstore"
)

const snapshotConfig = `
snapshot_threshold = 64
trailing_logs = 16
snapshot_interval = 100ms
`

func TestSnapshotRestore(t *testing.T) {
	const shards, perShard = 2, 300
	opts := invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data", Shards: shards, Config: fastRaft + snapshotConfig}
	p, err := invdtest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	c := dial(t, p)
	stores := []string{storeInShard("SN", 0, shards), storeInShard("SN", 1, shards)}
	for _, s := range stores {
		want(t, c, engine.OK, putItem("SN", s, 10_000))
	}
	// One request at a time: each is its own raft entry.
	var ids []uint64
	states := map[uint64]engine.State{}
	for i := range perShard * shards {
		r := want(t, c, engine.OK, reserve("SN", stores[i%shards], fmt.Sprintf("sn-%d", i), 1))
		ids = append(ids, r.ID)
		states[r.ID] = engine.StateHeld
		if i%3 == 0 {
			states[r.ID] = want(t, c, engine.OK, onID(engine.OpConfirm, r.ID)).State
		}
	}
	time.Sleep(500 * time.Millisecond) // a few snapshot intervals
	if err := p.Stop(20 * time.Second); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	checkTruncated(t, opts.Data, shards)

	extraHolds := make([]int64, shards)
	check := func() {
		t.Helper()
		got := getReservations(t, c, ids)
		for i, id := range ids {
			if got[i].Code != engine.OK || got[i].State != states[id] {
				t.Fatalf("reservation %d after restore: %s %s, want %s", id, got[i].Code, got[i].State, states[id])
			}
		}
		for i, s := range stores {
			it := getItem(t, c, "SN", s)
			if taken := it.Held + it.Confirmed; taken != perShard+extraHolds[i] {
				t.Fatalf("item %s after restore: %d units taken, want %d", s, taken, perShard+extraHolds[i])
			}
		}
	}
	p = restart(t, p)
	c = dial(t, p)
	check()
	// It keeps working, and survives a crash on top of the restored state.
	extra := want(t, c, engine.OK, reserve("SN", stores[0], "sn-extra", 1))
	extraHolds[0]++
	p.Kill()
	p = restart(t, p)
	c = dial(t, p)
	if r := want(t, c, engine.OK, onID(engine.OpGetReservation, extra.ID)); r.State != engine.StateHeld {
		t.Fatalf("reservation after restore and kill: %+v", r)
	}
	check()
}

// checkTruncated opens the stopped server's Pebble store and snapshot
// folders: every shard must have a snapshot and a log that no longer starts
// at the beginning.
func checkTruncated(t *testing.T, data string, shards int) {
	t.Helper()
	st, err := raftstore.Open(filepath.Join(data, "raft"), raftstore.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for sh := range shards {
		first, err := st.Shard(uint16(sh)).FirstIndex()
		if err != nil {
			t.Fatal(err)
		}
		last, _ := st.Shard(uint16(sh)).LastIndex()
		if first <= 1 {
			t.Errorf("shard %d: log still starts at %d (last %d): never truncated", sh, first, last)
		}
		// raft's file snapshot store keeps DIR/snapshots/<snapshot id>/,
		// DIR being the shard's folder under the data folder.
		snaps, _ := filepath.Glob(filepath.Join(data, "*", fmt.Sprint(sh), "snapshots", "*", "state.bin"))
		if len(snaps) == 0 {
			t.Errorf("shard %d: no snapshot on disk", sh)
		}
		t.Logf("shard %d: log [%d, %d], %d snapshots", sh, first, last, len(snaps))
	}
}
