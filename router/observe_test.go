// Tests of the coordinator's step observer (observe.go): a held reserve of
// a customer of another shard is observed as a claim, then the hold, then
// the whole coordination; a reserve whose hold is refused after its claim
// was taken (the stock sold meanwhile) adds the claim's release before the
// whole; a reserve that
// needs no claim is not observed at all; and each coordination's time
// covers the steps inside it.
//
// How: over syncShard (router_test.go), with a clock that moves 1 ms at
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

func TestCoordinatorStepsObserved(t *testing.T) {
	var got []observedStep
	cfg := Config{Clock: &steppingClock{now: envT0},
		ObserveStep: func(s Step, d time.Duration) { got = append(got, observedStep{s, d}) }}
	r, shards := newSyncRouterWith(t, 3, cfg)
	home := r.homeShard([]byte("ann"))
	if r.homeShard([]byte("bob")) == home {
		t.Fatal("ann and bob share a shard: pick another customer")
	}
	store, free := "", ""
	for i := 0; store == "" || free == ""; i++ {
		s := fmt.Sprintf("S%d", i)
		switch sh := protocol.ShardOf([]byte("L1"), []byte(s), 3); {
		case sh != home && sh != r.homeShard([]byte("bob")) && store == "":
			store = s
		case sh == home && free == "":
			free = s
		}
	}
	item := protocol.ShardOf([]byte("L1"), []byte(store), 3)
	putL1 := func(stock int64) {
		shards[item].eng.Apply(shards[item].now, []engine.Command{{Op: engine.OpPutItem, SKU: []byte("L1"),
			Store: []byte(store), Stock: stock, Limit: 2}})
	}
	putL1(2)
	// bob's claim is taken while the last unit goes: his hold is refused.
	shards[r.homeShard([]byte("bob"))].answer = func(c engine.Command) engine.Result {
		if c.Op == engine.OpClaim {
			putL1(1)
		}
		sh := shards[r.homeShard([]byte("bob"))]
		rs, _ := sh.eng.Apply(sh.now, []engine.Command{c})
		return rs[0]
	}
	shards[home].eng.Apply(shards[home].now, []engine.Command{{Op: engine.OpPutItem, SKU: []byte("L1"),
		Store: []byte(free), Stock: 2, Limit: 2}})

	serve := func(cust, store string, want engine.Code) {
		t.Helper()
		cmd := engine.Command{Op: engine.OpReserve, SKU: []byte("L1"), Store: []byte(store), Customer: []byte(cust),
			Qty: 1, Key: []byte(cust + store)}
		var res engine.Result
		var err error
		r.Serve(&cmd, false, func(r engine.Result, e error) { res, err = r, e })
		if err != nil || res.Code != want {
			t.Fatalf("%s reserves at %s: %v %v, want %v", cust, store, res.Code, err, want)
		}
	}
	serve("ann", free, engine.OK) // the customer's own shard: no claim
	if len(got) != 0 {
		t.Fatalf("a reserve without claims observed: %+v", got)
	}
	serve("ann", store, engine.OK)          // claimed, held
	serve("bob", store, engine.CodeSoldOut) // claimed, refused, released

	var steps []Step
	for _, o := range got {
		steps = append(steps, o.step)
		if o.took <= 0 {
			t.Errorf("%v took %v", o.step, o.took)
		}
	}
	want := []Step{StepClaim, StepHold, StepCoordination, StepClaim, StepHold, StepRelease, StepCoordination}
	if !slices.Equal(steps, want) {
		t.Fatalf("observed %v, want %v", steps, want)
	}
	for _, c := range [][]observedStep{got[:3], got[3:]} {
		var inside time.Duration
		for _, o := range c[:len(c)-1] {
			inside += o.took
		}
		if whole := c[len(c)-1].took; whole <= inside {
			t.Errorf("a coordination of %v holds steps of %v", whole, inside)
		}
	}
}
