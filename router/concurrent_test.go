// What this file proves: with every shard answering on its own goroutine,
// as raft's proposers do, many requests at once (limited reserves of
// customers of other shards in one round, carts across shards, cancels
// whose replies wait for their claims' releases, fan-outs, BATCH frames
// with reads) each get exactly one answer, while the router's loop (Run)
// delivers the outboxes the applies wake it for; afterwards no customer is
// over a limit, no item over its stock, and every release was delivered.
// Run under -race, it is the check that a request's steps, which run on
// whichever goroutine answered last, and the deliverer share nothing
// unguarded.
//
// How: asyncShard applies each proposal to a real engine on its shard's
// goroutine and tells the router when an apply appended outbox messages;
// 16 goroutines send a fixed mix of requests with random customers and
// stores; the checks of the scripts (checkLimits, checkStock) then run
// over the engines.
package router

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

// asyncShard is a shard whose proposals are applied on its own goroutine.
type asyncShard struct {
	*envShard
	env    *env
	mu     sync.Mutex
	work   chan func()
	clock  *atomic.Int64
	ledger *sync.Mutex // the env's claim ledger, shared by every shard
	router atomic.Pointer[Router]
}

// run applies the shard's proposals in order; their callbacks run outside
// the shard's lock, as raftstore's proposers call them outside the FSM's.
func (s *asyncShard) run() {
	for f := range s.work {
		f()
	}
}

func (s *asyncShard) apply(cmds []engine.Command) []engine.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, evs := s.eng.Apply(s.clock.Load(), cmds)
	s.ledger.Lock()
	s.env.ledger(s.envShard, evs)
	s.ledger.Unlock()
	if s.eng.OutboxAppended() != s.appended {
		s.appended = s.eng.OutboxAppended()
		if r := s.router.Load(); r != nil {
			r.OutboxChanged(s.id) // as raftstore's outbox hook
		}
	}
	return append([]engine.Result(nil), rs...)
}

// sharedClock is the shards' time for the router too (claims' deadlines
// are stamped by one and checked by the other), with wall-clock timers.
type sharedClock struct{ now *atomic.Int64 }

func (c sharedClock) Now() time.Time { return time.Unix(0, c.now.Load()) }

func (c sharedClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

func (s *asyncShard) Propose(cmd engine.Command, done func(engine.Result, error)) error {
	own := engine.CloneCommands([]engine.Command{cmd})
	s.work <- func() { done(s.apply(own)[0], nil) }
	return nil
}

func (s *asyncShard) ProposeGroup(cmds []engine.Command, done func([]engine.Result, error)) error {
	own := engine.CloneCommands(cmds)
	s.work <- func() { done(s.apply(own), nil) }
	return nil
}

func (s *asyncShard) Read(cmd *engine.Command) engine.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Read(cmd)
}

func (s *asyncShard) ReadIndex(done func(error)) { s.work <- func() { go done(nil) } }
func (s *asyncShard) IsLeader() bool             { return true }
func (s *asyncShard) LeaderID() string           { return "node-1" }
func (s *asyncShard) IsMember() bool             { return true }
func (s *asyncShard) OutboxPending() []engine.OutboxQueue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.OutboxPending()
}

func (s *asyncShard) Outbox(to uint16, max int) []engine.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Outbox(to, max)
}

func (s *asyncShard) Peek(sku, store []byte) (int64, int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Peek(sku, store)
}

func (s *asyncShard) ClaimsDue(until int64, max int) []engine.DueClaim {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.ClaimsDue(until, max)
}

func (s *asyncShard) ProvisionalDue(until int64, max int) []engine.DueHold {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.ProvisionalDue(until, max)
}

var (
	concStores = []string{"S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"}
	concCusts  = []string{"ann", "bob", "cat", "dan", "eve", "fay"}
)

func TestConcurrentRequests(t *testing.T) {
	const workers, rounds = 16, 60
	e, r, async := newConcurrentRouter(t, 3)
	var answers, cancels atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 9))
			var held []uint64
			for i := range rounds {
				if i%5 == 4 && len(held) > 0 { // a cancel: its reply waits for its claim's release
					cancel := engine.Command{Op: engine.OpCancel, ID: held[0]}
					held = held[1:]
					if res := wait(t, func(done func(engine.Result, error)) { r.Serve(&cancel, false, done) }); res.Code == engine.OK {
						cancels.Add(1)
					}
				} else if res := sendOne(t, r, rnd, fmt.Sprintf("w%d-%d", w, i), i%4); res.Code == engine.OK && res.ID != 0 {
					held = append(held, res.ID)
				}
				answers.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := answers.Load(); n != workers*rounds {
		t.Fatalf("%d answers for %d requests", n, workers*rounds)
	}
	for _, a := range async {
		a.mu.Lock() // the shards' goroutines are idle: every request was answered
	}
	e.checkLimits()
	e.checkStock()
	for _, a := range async {
		a.mu.Unlock()
	}
	if got := e.out.String(); got != "limits hold\nstock holds\n" {
		t.Fatal(got)
	}
	st := r.Stats()
	if st.Coordinated == 0 || st.Carts == 0 || cancels.Load() == 0 || st.Delivered == 0 {
		t.Fatalf("the mix took no claims, held no cart, cancelled nothing or delivered nothing: %+v, %d cancels", st, cancels.Load())
	}
	t.Logf("%+v, %d cancels", st, cancels.Load())
	if st.CancelWaitsLate != 0 {
		t.Errorf("%d cancels answered before their releases arrived", st.CancelWaitsLate)
	}
	waitFor(t, func() bool {
		for _, a := range async {
			if a.OutboxPending() != nil {
				return false
			}
		}
		return true
	}, "every outbox delivered")
}

// waitFor polls cond until it holds, or fails the test after 10s.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not reached in 10s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// newConcurrentRouter returns a router over asyncShards with items of an
// unlimited SKU (CAP) and a limited one (L1, 2 a customer) at every store.
func newConcurrentRouter(t *testing.T, shards int) (*env, *Router, []*asyncShard) {
	e := newEnv(t, shards, 1, ReadIndex, 0)
	e.out = new(strings.Builder)
	clock := new(atomic.Int64)
	clock.Store(envT0.UnixNano())
	var cfg Config
	var async []*asyncShard
	ledger := new(sync.Mutex)
	for _, s := range e.shards {
		a := &asyncShard{envShard: s, env: e, work: make(chan func(), 1024), clock: clock, ledger: ledger}
		go a.run()
		t.Cleanup(func() { close(a.work) })
		cfg.Shards = append(cfg.Shards, a)
		async = append(async, a)
	}
	cfg.Clock, cfg.SweepInterval = sharedClock{clock}, 10*time.Millisecond
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range async {
		a.router.Store(r)
	}
	stop := make(chan struct{})
	ran := make(chan struct{})
	go func() { r.Run(stop); close(ran) }()
	t.Cleanup(func() { close(stop); <-ran })
	for _, st := range concStores {
		for _, sku := range []string{"L1", "CAP"} {
			put := e.command("put-item", envArgs{"sku": sku, "store": st, "stock": "6"})
			wait(t, func(done func(engine.Result, error)) { r.Serve(&put, false, done) })
		}
	}
	limit := e.command("set-limit", envArgs{"sku": "L1", "limit": "2"})
	wait(t, func(done func(engine.Result, error)) { r.Serve(&limit, false, done) })
	for _, c := range concCusts {
		e.command("get-customer", envArgs{"cust": c}) // the checks look at every customer
	}
	return e, r, async
}

// sendOne sends one request of the mix and waits for its answer: a single
// reserve's, else a zero Result.
func sendOne(t *testing.T, r *Router, rnd *rand.Rand, key string, kind int) engine.Result {
	pick := func(l []string) string { return l[rnd.IntN(len(l))] }
	cust := []byte(pick(concCusts))
	switch kind {
	case 0, 1: // a limited reserve, often of a customer of another shard
		cmd := engine.Command{Op: engine.OpReserve, SKU: []byte("L1"), Store: []byte(pick(concStores)),
			Customer: cust, Qty: 1, Key: []byte(key)}
		return wait(t, func(done func(engine.Result, error)) { r.Serve(&cmd, false, done) })
	case 2: // a cart across shards, limited and not
		cart := []engine.Command{
			{Op: engine.OpReserve, SKU: []byte("CAP"), Store: []byte(pick(concStores)), Customer: cust, Qty: 1,
				Key: []byte(key + "a"), Linked: true},
			{Op: engine.OpReserve, SKU: []byte("L1"), Store: []byte(pick(concStores)), Customer: cust, Qty: 1,
				Key: []byte(key + "b")},
		}
		waitBatch(t, func(done func([]engine.Result, []error)) { r.ServeBatch(cart, false, done) })
	default: // a fan-out and reads in a BATCH
		b := []engine.Command{{Op: engine.OpGetCustomer, Customer: cust},
			{Op: engine.OpGetItem, SKU: []byte("L1"), Store: []byte(pick(concStores))},
			{Op: engine.OpListReservations, Customer: cust}}
		waitBatch(t, func(done func([]engine.Result, []error)) { r.ServeBatch(b, false, done) })
	}
	return engine.Result{}
}

// wait serves one request and waits for its single answer.
func wait(t *testing.T, serve func(func(engine.Result, error))) engine.Result {
	ch := make(chan engine.Result, 2)
	serve(func(r engine.Result, err error) {
		if err != nil {
			t.Error(err)
		}
		ch <- r
	})
	return <-ch
}

func waitBatch(t *testing.T, serve func(func([]engine.Result, []error))) {
	ch := make(chan struct{}, 2)
	serve(func(_ []engine.Result, errs []error) {
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		ch <- struct{}{}
	})
	<-ch
}
