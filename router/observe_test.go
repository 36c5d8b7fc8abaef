// Tests of the coordinator's step observer (observe.go): a reserve of a
// limited item by a customer of another shard is observed as the peek of
// the item, the claim and the hold (proposed together, in either order),
// then the whole coordination, last; a reserve that needs no claim (the
// customer's own shard, or an item the peek finds sold out) is not
// observed at all; and the whole's time covers each step inside it.
//
// How: over syncShard (router_test.go, whose engines run on the wall
// clock), with a router clock from now on that moves 1 ms at
// each reading, so that every step has a length and a step measured
// outside its coordination would show.
package router

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// steppingClock advances 1 ms at each Now; its timers are the wall
// clock's (syncShard answers at once, so they are stopped before firing).
type steppingClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *steppingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

func (c *steppingClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

type observedStep struct {
	step Step
	took time.Duration
}

type stepRecorder struct {
	mu  sync.Mutex
	got []observedStep
}

func (o *stepRecorder) ObserveStep(s Step, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, observedStep{s, d})
}

func (o *stepRecorder) take() []observedStep {
	o.mu.Lock()
	defer o.mu.Unlock()
	got := o.got
	o.got = nil
	return got
}

func TestCoordinatorStepsObserved(t *testing.T) {
	rec := &stepRecorder{}
	r, shards := newSyncRouterWith(t, 3, Config{Clock: &steppingClock{now: time.Now()}})
	r.SetObserver(rec)
	home := r.homeShard([]byte("ann"))
	store, free, gone := "", "", ""
	for i := 0; store == "" || free == "" || gone == ""; i++ {
		s := fmt.Sprintf("S%d", i)
		switch sh := protocol.ShardOf([]byte("L1"), []byte(s), 3); {
		case sh != home && store == "":
			store = s
		case sh != home && gone == "":
			gone = s
		case sh == home && free == "":
			free = s
		}
	}
	put := func(store string, stock int64) {
		sh := shards[protocol.ShardOf([]byte("L1"), []byte(store), 3)]
		sh.eng.Apply(sh.now, []engine.Command{{Op: engine.OpPutItem, SKU: []byte("L1"), Store: []byte(store), Stock: stock}})
	}
	put(store, 5)
	put(free, 5)
	put(gone, 0)
	for _, sh := range shards {
		sh.eng.Apply(sh.now, []engine.Command{{Op: engine.OpSetLimit, SKU: []byte("L1"), Limit: 2}})
	}
	serve := func(store string, want engine.Code) {
		t.Helper()
		cmd := engine.Command{Op: engine.OpReserve, SKU: []byte("L1"), Store: []byte(store), Customer: []byte("ann"),
			Qty: 1, Key: []byte("ann" + store)}
		var res engine.Result
		var err error
		r.Serve(&cmd, false, func(r engine.Result, e error) { res, err = r, e })
		if err != nil || res.Code != want {
			t.Fatalf("ann reserves at %s: %v %v, want %v", store, res.Code, err, want)
		}
	}
	serve(free, engine.OK)          // the customer's own shard: no claim
	serve(gone, engine.CodeSoldOut) // the peek finds nothing left: the one-shard path
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("reserves without claims observed: %+v", got)
	}
	serve(store, engine.OK) // claimed and held in one round
	got := rec.take()
	var steps []Step
	for _, o := range got {
		steps = append(steps, o.step)
		if o.took <= 0 {
			t.Errorf("%v took %v", o.step, o.took)
		}
	}
	if len(steps) != 4 || steps[0] != StepPeek || steps[3] != StepWhole ||
		!slices.Contains(steps, StepClaim) || !slices.Contains(steps, StepHold) {
		t.Fatalf("observed %v, want peek, claim and hold (either order), whole", steps)
	}
	for _, o := range got[1:3] {
		if whole := got[3].took; whole < o.took {
			t.Errorf("the whole coordination (%v) is shorter than its %v step (%v)", whole, o.step, o.took)
		}
	}
}
