// What this file proves: the engine is a deterministic state machine, as
// raft replication needs. Engines fed the same batches give the same
// results, events and snapshot bytes; and an engine that is snapshotted and
// restored at any point, then continues, is indistinguishable from one that
// never stopped (same results, events, next due time and snapshot bytes).
//
// How: the random runs of model_gen_test.go (checked against the model as
// usual) feed a primary engine; TestDeterminismReplicas feeds two more
// engines the same batches and compares every result and event, and the
// three snapshots every few batches. TestDeterminismRestore keeps a
// follower that is replaced at random batches by Restore(Snapshot(follower))
// (sometimes twice in a row, sometimes through a fresh Config value) and
// compares it with the primary after every batch. Each run logs its seed;
// -seed=N replays one.
package engine

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func refDeterminismPlan() (seeds, per int) {
	switch {
	case testRaceEnabled:
		return 2, 2_000
	case testing.Short():
		return 3, 5_000
	}
	return 8, 12_000
}

// refSameBatch compares another engine's results and events with the primary's.
func refSameBatch(h *refRun, who string, res, wantRes []Result, ev, wantEv []Event) {
	h.t.Helper()
	if len(res) != len(wantRes) {
		h.fail("%s: %d results, primary %d", who, len(res), len(wantRes))
	}
	for i := range res {
		if !reflect.DeepEqual(res[i], wantRes[i]) {
			h.fail("%s: result %d %s, primary %s", who, i, refFmtResult(res[i]), refFmtResult(wantRes[i]))
		}
	}
	if (len(ev) > 0 || len(wantEv) > 0) && !reflect.DeepEqual(ev, wantEv) {
		h.fail("%s: events differ:\n %+v\n primary %+v", who, ev, wantEv)
	}
}

func TestDeterminismReplicas(t *testing.T) {
	seeds, per := refDeterminismPlan()
	base := time.Now().UnixNano()
	if *refSeedFlag != 0 {
		base, seeds = *refSeedFlag, 1
	}
	t.Logf("seeds %d..%d", base, base+int64(seeds)-1)
	for i := 0; i < seeds; i++ {
		h := newRefRun(t, base+int64(i))
		replicas := []*Engine{New(h.cfg), New(h.cfg)}
		var setup bytes.Buffer // the primary ran the setup batch already: bring the replicas there
		if err := h.e.Snapshot(&setup); err != nil {
			t.Fatal(err)
		}
		for j := range replicas {
			e, err := Restore(h.cfg, bytes.NewReader(setup.Bytes()))
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			replicas[j] = e
		}
		h.onBatch = func(now int64, cmds []Command, res []Result, ev []Event) {
			for _, r := range replicas {
				rr, rev := r.Apply(now, cmds)
				refSameBatch(h, "replica", rr, res, rev, ev)
			}
		}
		for h.cmds < per {
			h.step()
			if h.batches%16 != 0 {
				continue
			}
			want := refSnap(t, h.e)
			for _, r := range replicas {
				if !bytes.Equal(refSnap(t, r), want) {
					h.fail("replica snapshot differs from the primary's")
				}
			}
		}
	}
}

func TestDeterminismRestore(t *testing.T) {
	seeds, per := refDeterminismPlan()
	base := time.Now().UnixNano()
	if *refSeedFlag != 0 {
		base, seeds = *refSeedFlag, 1
	}
	t.Logf("seeds %d..%d", base, base+int64(seeds)-1)
	restores := 0
	for i := 0; i < seeds; i++ {
		h := newRefRun(t, base+int64(i))
		r := rand.New(rand.NewPCG(uint64(base+int64(i)), 7))
		follower := h.restored(h.e)
		h.onBatch = func(now int64, cmds []Command, res []Result, ev []Event) {
			fr, fev := follower.Apply(now, cmds)
			refSameBatch(h, "restored engine", fr, res, fev, ev)
		}
		for h.cmds < per {
			h.step()
			if follower.NextDue() != h.e.NextDue() || follower.Now() != h.e.Now() || follower.Stats() != h.e.Stats() {
				h.fail("restored engine: next due %d now %d stats %+v, primary %d %d %+v", follower.NextDue(), follower.Now(),
					follower.Stats(), h.e.NextDue(), h.e.Now(), h.e.Stats())
			}
			if r.IntN(4) == 0 && !bytes.Equal(refSnap(t, follower), refSnap(t, h.e)) {
				h.fail("restored engine's snapshot differs from the primary's")
			}
			for r.IntN(12) == 0 {
				follower = h.restored(follower)
				restores++
			}
		}
	}
	t.Logf("%d restores", restores)
}

// restored returns Restore(Snapshot(e)) and checks that it snapshots to the same bytes.
func (h *refRun) restored(e *Engine) *Engine {
	h.t.Helper()
	snap := refSnap(h.t, e)
	cfg := h.cfg
	cfg.PickupSecret = append([]byte(nil), cfg.PickupSecret...) // a Config value of its own, as after a restart
	x, err := Restore(cfg, bytes.NewReader(snap))
	if err != nil {
		h.fail("restore of a valid snapshot: %v", err)
	}
	if !bytes.Equal(refSnap(h.t, x), snap) {
		h.fail("Snapshot(Restore(s)) != s")
	}
	if err := x.CheckInvariants(); err != nil {
		h.fail("restored engine: %v", err)
	}
	return x
}
