// The shard count of a data folder: fixed for the life of the data, so a
// start that names none keeps the count the folder was written for instead
// of the default (which may then change without refusing older folders),
// and a start that names another is refused.
package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
)

func TestRestartKeepsTheFolderShardCount(t *testing.T) {
	opts := invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data", Shards: 3, Config: fastRaft}
	p, err := invdtest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	c := dial(t, p)
	store := storeInShard("RS", 2, 3)
	want(t, c, engine.OK, putItem("RS", store, 10))
	id := want(t, c, engine.OK, reserve("RS", store, "rs-1", 1)).ID
	if err := p.Stop(20 * time.Second); err != nil {
		t.Fatal(err)
	}

	opts.Shards = 0 // no --shards: the folder's own count
	if p, err = invdtest.Start(opts); err != nil {
		t.Fatal(err)
	}
	c = dial(t, p)
	top, err := c.Topology()
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Shards) != 3 {
		t.Fatalf("restarted without --shards: %d shards, want the folder's 3", len(top.Shards))
	}
	if r := want(t, c, engine.OK, onID(engine.OpGetReservation, id)); r.Reservation == nil {
		t.Fatal("the hold taken before the restart is not found")
	}
	if err := p.Stop(20 * time.Second); err != nil {
		t.Fatal(err)
	}

	opts.Shards = 4 // another count, given: refused
	bad, err := invdtest.Start(opts)
	if err == nil {
		bad.Kill()
		t.Fatal("a start with another shard count than the folder's was not refused")
	}
	if !strings.Contains(err.Error(), "shard count") {
		t.Logf("refused with: %v", err)
	}
}
