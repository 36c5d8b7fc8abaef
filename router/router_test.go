// Unit tests of the router's edges that the scripts do not reach well: a
// router is built whole or refused; errors carry their codes; a single
// request allocates nothing in the router; a BATCH's share of a shard is
// cut into groups between chains only; a request that keeps meeting
// provisional holds stops after a bound; the router's loop ends when told
// to; a chain of limited reserves takes its claims in one round, one group
// per home; a round past its deadline waits for its resolve and, when a
// sweep resolved the hold otherwise, answers its reserve's replay.
//
// How: over syncShard, a shard that applies each proposal to a real engine
// at once (on the caller's goroutine), or answers from a script of its own.
package router

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// syncShard applies what it is given at once. answer, if set, replaces the
// engine for single commands.
type syncShard struct {
	mu       sync.Mutex
	eng      *engine.Engine
	now      int64
	groups   [][]engine.Command // what ProposeGroup got
	singles  []engine.Command   // the register_key commands Propose got
	answer   func(engine.Command) engine.Result
	proposed []engine.Op
}

func newSyncShard(id, shards int) *syncShard {
	return &syncShard{eng: engine.New(engine.Config{ShardID: uint16(id), Shards: shards, PickupSecret: []byte("s")}),
		now: time.Now().UnixNano()} // the router's wall clock stamps claims' deadlines
}

func (s *syncShard) Propose(cmd engine.Command, done func(engine.Result, error)) error {
	s.mu.Lock()
	s.proposed = append(s.proposed, cmd.Op)
	if cmd.Op == engine.OpRegisterKey { // only these: the allocation tests count the rest
		s.singles = append(s.singles, engine.CloneCommands([]engine.Command{cmd})...)
	}
	var r engine.Result
	if s.answer != nil {
		r = s.answer(cmd)
	} else {
		rs, _ := s.eng.Apply(s.now, []engine.Command{cmd})
		r = rs[0]
	}
	s.mu.Unlock()
	done(r, nil)
	return nil
}

func (s *syncShard) ProposeGroup(cmds []engine.Command, done func([]engine.Result, error)) error {
	s.mu.Lock()
	s.groups = append(s.groups, engine.CloneCommands(cmds))
	var rs []engine.Result
	if s.answer != nil {
		for _, c := range cmds {
			s.proposed = append(s.proposed, c.Op)
			rs = append(rs, s.answer(c))
		}
	} else {
		rs, _ = s.eng.Apply(s.now, cmds)
		rs = append([]engine.Result(nil), rs...)
	}
	s.mu.Unlock()
	done(rs, nil)
	return nil
}

func (s *syncShard) Read(cmd *engine.Command) engine.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answer != nil {
		s.proposed = append(s.proposed, cmd.Op)
		return s.answer(*cmd)
	}
	return s.eng.Read(cmd)
}

func (s *syncShard) ReadIndex(done func(error))                 { done(nil) }
func (s *syncShard) IsLeader() bool                             { return true }
func (s *syncShard) LeaderID() string                           { return "me" }
func (s *syncShard) IsMember() bool                             { return true }
func (s *syncShard) OutboxPending() []engine.OutboxQueue        { return s.eng.OutboxPending() }
func (s *syncShard) Outbox(to uint16, max int) []engine.Message { return s.eng.Outbox(to, max) }
func (s *syncShard) Peek(sku, store []byte) (int64, int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng.Peek(sku, store)
}
func (s *syncShard) ClaimsDue(until int64, max int) []engine.DueClaim {
	return s.eng.ClaimsDue(until, max)
}
func (s *syncShard) ProvisionalDue(until int64, max int) []engine.DueHold {
	return s.eng.ProvisionalDue(until, max)
}

func newSyncRouter(t *testing.T, n int) (*Router, []*syncShard) {
	t.Helper()
	return newSyncRouterWith(t, n, Config{})
}

func newSyncRouterWith(t *testing.T, n int, cfg Config) (*Router, []*syncShard) {
	t.Helper()
	shards := make([]*syncShard, n)
	for i := range shards {
		shards[i] = newSyncShard(i, n)
		cfg.Shards = append(cfg.Shards, shards[i])
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, shards
}

func TestNewRefusesWhatCannotWork(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("a router of no shards")
	}
	if _, err := New(Config{Shards: []Shard{newSyncShard(0, 1)}, Forwarder: envForwarder{}}); err == nil {
		t.Error("a forwarder without peers")
	}
	// A claim's deadline may lie at most engine.MaxClaimWindow ahead: the
	// shards refuse a farther one.
	if _, err := New(Config{Shards: []Shard{newSyncShard(0, 2), newSyncShard(1, 2)}, ClaimWindow: engine.MaxClaimWindow}); err != nil {
		t.Errorf("a claim window of engine.MaxClaimWindow: %v", err)
	}
	if _, err := New(Config{Shards: []Shard{newSyncShard(0, 2), newSyncShard(1, 2)}, ClaimWindow: engine.MaxClaimWindow + 1}); err == nil {
		t.Error("a claim window past engine.MaxClaimWindow")
	}
	r, _ := newSyncRouter(t, 3)
	if r.Shards() != 3 || r.shard(3) != nil || r.shard(-1) != nil {
		t.Errorf("Shards %d, shard(3) %v", r.Shards(), r.shard(3))
	}
}

func TestErrorsCarryCodes(t *testing.T) {
	rf := &Refusal{engine.CodeBusy, "too many"}
	if rf.Error() != "busy: too many" {
		t.Errorf("Refusal: %q", rf.Error())
	}
	cause := &envNotLeader{shard: 2, leader: "node-3"}
	for _, c := range []struct {
		err  error
		text string
	}{
		{&NotLeaderError{Shard: 2, NodeID: 3, Addr: "n3"}, "shard 2: not the leader; the leader is node 3 at n3"},
		{&NotLeaderError{Shard: 2, Err: cause}, cause.Error()},
		{&NotLeaderError{Shard: 2}, "shard 2: not the leader; leader unknown"},
	} {
		if c.err.Error() != c.text {
			t.Errorf("%q, want %q", c.err.Error(), c.text)
		}
		if code, ok := CodeOf(c.err); !ok || code != engine.CodeNotLeader {
			t.Errorf("CodeOf(%v) = %v %v", c.err, code, ok)
		}
	}
	if code, ok := CodeOf(rf); !ok || code != engine.CodeBusy {
		t.Errorf("CodeOf(refusal) = %v %v", code, ok)
	}
	if code, ok := CodeOf(ErrNotHeld); !ok || code != engine.CodeNotHeld {
		t.Errorf("CodeOf(ErrNotHeld) = %v %v", code, ok)
	}
	if _, ok := CodeOf(errors.New("the shard's own")); ok {
		t.Error("a shard's own error has no router code")
	}
	r, _ := newSyncRouter(t, 3)
	var nl *NotLeaderError
	if err := r.Hint(cause); !errors.As(err, &nl) || nl.Shard != 2 || nl.Addr != "" || !errors.Is(err, cause) {
		t.Errorf("a node alone hints %v", err)
	}
	if r.Hint(nil) != nil || r.Hint(rf) != rf {
		t.Error("Hint changed what is no not-leader refusal")
	}
}

// TestServeAllocatesNothing: a reserve, on a node of one shard and on one
// of several (where it keeps a copy for the coordinator), costs no
// allocation in the router.
func TestServeAllocatesNothing(t *testing.T) {
	if testRaceEnabled {
		t.Skip("the race detector's sync.Pool drops records: counted without -race")
	}
	for _, n := range []int{1, 3} {
		r, shards := newSyncRouter(t, n)
		for _, s := range shards {
			s.answer = func(engine.Command) engine.Result { return engine.Result{ID: 1} }
		}
		cmd := engine.Command{Op: engine.OpReserve, SKU: []byte("L1"), Store: []byte("S1"), Customer: []byte("ann"),
			Qty: 1, Key: keyOn(protocol.ShardOfStore([]byte("S1"), n), n, "k")} // a key the client library makes
		var got engine.Result
		done := func(res engine.Result, err error) { got = res }
		if a := testing.AllocsPerRun(200, func() { r.Serve(&cmd, false, done) }); a != 0 || got.ID != 1 {
			t.Errorf("%d shards: %v allocations per reserve (answer %+v)", n, a, got)
		}
	}
}

// TestBatchGroupsCutBetweenChains: 60 single commands, a chain of 10 and 5
// more for one shard make a group of 60 (the chain would pass 64) and one
// of 15, in request order.
func TestBatchGroupsCutBetweenChains(t *testing.T) {
	r, shards := newSyncRouterWith(t, 1, Config{GroupMaxCommands: 64})
	var cmds []engine.Command
	put := engine.Command{Op: engine.OpPutItem, SKU: []byte("L1"), Store: []byte("S1"), Stock: 1000}
	cmds = append(cmds, put)
	for range 59 {
		cmds = append(cmds, engine.Command{Op: engine.OpRestock, SKU: []byte("L1"), Store: []byte("S1"), Qty: 1})
	}
	for i := range 10 {
		cmds = append(cmds, engine.Command{Op: engine.OpReserve, SKU: []byte("L1"), Store: []byte("S1"),
			Customer: []byte("ann"), Qty: 1, Linked: i < 9})
	}
	for range 5 {
		cmds = append(cmds, engine.Command{Op: engine.OpGetItem, SKU: []byte("L1"), Store: []byte("S1")})
	}
	var rs []engine.Result
	var errs []error
	r.ServeBatch(cmds, false, func(r []engine.Result, e []error) { rs, errs = slices.Clone(r), slices.Clone(e) })
	g := shards[0].groups
	if len(g) != 2 || len(g[0]) != 60 || len(g[1]) != 15 {
		t.Fatalf("groups of %v commands", groupSizes(g))
	}
	for i := range rs {
		if errs[i] != nil || rs[i].Code != engine.OK {
			t.Fatalf("entry %d: %+v %v", i, rs[i], errs[i])
		}
	}
	if item := rs[len(rs)-1].Item; item == nil || item.Stock != 1059 || item.Held != 10 {
		t.Fatalf("last read: %+v", item)
	}
}

func groupSizes(g [][]engine.Command) []int {
	var out []int
	for _, c := range g {
		out = append(out, len(c))
	}
	return out
}

// TestSettleStopsAfterClaimRoundsMax: a confirm whose chain keeps meeting
// provisional holds (an item shard that keeps answering claim_required
// naming a claim) settles claimRoundsMax of them, then is answered
// internal; every settle read the claim on the customer's home first.
func TestSettleStopsAfterClaimRoundsMax(t *testing.T) {
	r, shards := newSyncRouter(t, 3)
	home := r.homeShard([]byte("ann"))
	item := (home + 1) % 3
	named := engine.Result{Code: engine.CodeClaimRequired,
		Reservation: &engine.ReservationInfo{ID: engine.MakeID(uint16(item), 1), Customer: "ann", Claim: "K", Provisional: true}}
	shards[item].answer = func(c engine.Command) engine.Result {
		if c.Op == engine.OpResolveClaim {
			return engine.Result{}
		}
		return named
	}
	shards[home].answer = func(c engine.Command) engine.Result { return engine.Result{Qty: 1} } // get_claim: accepted
	var err error
	cmds := []engine.Command{{Op: engine.OpConfirm, ID: engine.MakeID(uint16(item), 1)}}
	r.coordinate(item, cmds, []engine.Result{named}, func(_ []engine.Result, e error) { err = e })
	if code, _ := CodeOf(err); code != engine.CodeInternal {
		t.Fatalf("answer %v, want internal", err)
	}
	if n := countOps(shards[home].proposed, engine.OpGetClaim); n != claimRoundsMax {
		t.Errorf("%d claims read, want %d", n, claimRoundsMax)
	}
	if n := countOps(shards[item].proposed, engine.OpResolveClaim); n != claimRoundsMax {
		t.Errorf("%d resolves, want %d", n, claimRoundsMax)
	}
}

func countOps(ops []engine.Op, op engine.Op) int {
	n := 0
	for _, o := range ops {
		if o == op {
			n++
		}
	}
	return n
}

// TestClaimRequiredWithoutItsClaim: a confirm answered claim_required that
// names no claim is a bug of the item shard: internal, nothing proposed.
func TestClaimRequiredWithoutItsClaim(t *testing.T) {
	r, shards := newSyncRouter(t, 3)
	cmds := []engine.Command{{Op: engine.OpConfirm, ID: engine.MakeID(1, 1)}}
	var err error
	r.coordinate(1, cmds, []engine.Result{{Code: engine.CodeClaimRequired}}, func(_ []engine.Result, e error) { err = e })
	if code, _ := CodeOf(err); code != engine.CodeInternal {
		t.Fatalf("%v, want internal", err)
	}
	cmds[0].Op = engine.OpCancel
	r.coordinate(1, cmds, []engine.Result{{Code: engine.CodeClaimRequired}}, func(_ []engine.Result, e error) { err = e })
	if code, _ := CodeOf(err); code != engine.CodeInternal {
		t.Fatalf("cancel asking for a claim: %v, want internal", err)
	}
	for _, s := range shards {
		if len(s.proposed) != 0 {
			t.Fatalf("proposed %v", s.proposed)
		}
	}
}

// TestRunEndsWhenTold: the router's loop (deliveries on kicks, sweeps on
// the wall clock's timer) runs and returns once stop is closed.
func TestRunEndsWhenTold(t *testing.T) {
	r, err := New(Config{Shards: []Shard{newSyncShard(0, 2), newSyncShard(1, 2)}, SweepInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	ended := make(chan struct{})
	go func() { r.Run(stop); close(ended) }()
	r.OutboxChanged(0)
	r.OutboxChanged(1) // a kick while one waits is the same look
	r.OutboxChanged(7) // no such shard: ignored
	time.Sleep(5 * time.Millisecond)
	close(stop)
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end")
	}
}

// TestWithinDropsTheLateAnswer: on the wall clock, a step that does not
// answer by its deadline is answered timeout once; its late answer is
// dropped.
func TestWithinDropsTheLateAnswer(t *testing.T) {
	r, _ := newSyncRouter(t, 1)
	calls := make(chan error, 2)
	done := within(r, time.Now().Add(10*time.Millisecond), "a step", func(_ int, err error) { calls <- err })
	var rf *Refusal
	if err := <-calls; !errors.As(err, &rf) || rf.Code != engine.CodeTimeout {
		t.Fatalf("%v, want timeout", err)
	}
	done(1, nil)
	select {
	case err := <-calls:
		t.Fatalf("a second answer: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
}

// TestCoordinatorClaimsAWholeChain: a chain of engine.MaxLinked limited
// reserves of a customer of another shard takes its claims in one round:
// one group of MaxLinked claims on the customer's home, the chain with
// them on the item's shard, then one group of resolves there and one of
// anchors on the home; the chain is held whole, firm, nothing is released
// and nothing is left for the sweeps.
func TestCoordinatorClaimsAWholeChain(t *testing.T) {
	r, shards := newSyncRouter(t, 3)
	home := r.homeShard([]byte("ann"))
	store := ""
	for i := 0; store == ""; i++ {
		if s := fmt.Sprintf("S%d", i); protocol.ShardOfStore([]byte(s), 3) != home {
			store = s
		}
	}
	item := protocol.ShardOfStore([]byte(store), 3)
	for _, sh := range shards {
		sh.eng.Apply(sh.now, []engine.Command{{Op: engine.OpSetLimit, SKU: []byte("L1"), Limit: engine.MaxLinked}})
	}
	shards[item].eng.Apply(shards[item].now, []engine.Command{{Op: engine.OpPutItem, SKU: []byte("L1"),
		Store: []byte(store), Stock: 100}})
	cart := make([]engine.Command, engine.MaxLinked)
	for i := range cart {
		cart[i] = engine.Command{Op: engine.OpReserve, SKU: []byte("L1"), Store: []byte(store), Customer: []byte("ann"),
			Qty: 1, Key: keyOn(item, 3, fmt.Sprintf("k%d-", i)), Linked: i < len(cart)-1}
	}
	var rs []engine.Result
	var errs []error
	r.ServeBatch(cart, false, func(r []engine.Result, e []error) { rs, errs = slices.Clone(r), slices.Clone(e) })
	for i := range rs {
		if errs[i] != nil || rs[i].Code != engine.OK || rs[i].Reservation != nil {
			t.Fatalf("line %d: %+v %v", i, rs[i], errs[i])
		}
	}
	if got := groupSizes(shards[home].groups); len(got) != 2 || got[0] != engine.MaxLinked || got[1] != engine.MaxLinked ||
		shards[home].groups[0][0].Op != engine.OpClaim || shards[home].groups[1][0].Op != engine.OpAnchorClaim {
		t.Fatalf("home's groups %v, want the %d claims, then their anchors", got, engine.MaxLinked)
	}
	if due := shards[home].eng.ClaimsDue(1<<62, 100); len(due) != 0 {
		t.Fatalf("%d claims left pending for the sweep", len(due))
	}
	if got := groupSizes(shards[item].groups); len(got) != 2 || got[0] != engine.MaxLinked || got[1] != engine.MaxLinked ||
		shards[item].groups[1][0].Op != engine.OpResolveClaim {
		t.Fatalf("item shard's groups %v, want the chain then its resolves", got)
	}
	if due := shards[item].eng.ProvisionalDue(1<<62, 100); len(due) != 0 {
		t.Fatalf("%d holds still provisional", len(due))
	}
	if n := countOps(shards[home].proposed, engine.OpReleaseClaim); n != 0 {
		t.Fatalf("%d claims of a held cart released", n)
	}
}

// stepClock moves 3s at every reading: a round's decision comes past its
// deadline D (5s after its start).
type stepClock struct{ n atomic.Int64 }

func (c *stepClock) Now() time.Time {
	return envT0.Add(time.Duration(c.n.Add(1)) * 3 * time.Second)
}

func (c *stepClock) AfterFunc(time.Duration, func()) func() bool { return func() bool { return true } }

// TestRoundPastDeadlineWaitsForItsResolve: past D the answer waits for the
// resolve; a resolve that finds the hold resolved the other way meanwhile
// (wrong_state: a sweep) has the reserve's replay answer, and without an
// idempotency key there is none: timeout (unknown).
func TestRoundPastDeadlineWaitsForItsResolve(t *testing.T) {
	for _, keyed := range []bool{true, false} {
		r, shards := newSyncRouterWith(t, 3, Config{Clock: &stepClock{}})
		cmd := engine.Command{Op: engine.OpReserve, SKU: []byte("L1"), Customer: []byte("ann"), Qty: 1}
		if keyed {
			cmd.Key = []byte("k1")
		}
		home := r.homeShard(cmd.Customer)
		for i := 0; ; i++ {
			cmd.Store = []byte(fmt.Sprintf("S%d", i))
			if protocol.ShardOfStore(cmd.Store, 3) != home {
				break
			}
		}
		item := protocol.ShardOfStore(cmd.Store, 3)
		shards[item].eng.Apply(shards[item].now, []engine.Command{{Op: engine.OpPutItem, SKU: cmd.SKU, Store: cmd.Store, Stock: 5},
			{Op: engine.OpSetLimit, SKU: cmd.SKU, Limit: 2}})
		var ops []string
		shards[item].answer = func(c engine.Command) engine.Result {
			ops = append(ops, c.Op.String()+map[bool]string{true: "+claim", false: ""}[len(c.Claim) > 0])
			switch {
			case c.Op == engine.OpResolveClaim:
				return engine.Result{Code: engine.CodeWrongState}
			case len(c.Claim) > 0:
				return engine.Result{ID: 7, State: engine.StateHeld, Qty: 1,
					Reservation: &engine.ReservationInfo{ID: 7, Claim: string(c.Claim), Provisional: true}}
			}
			return engine.Result{Code: engine.CodeExpired, ID: 7, State: engine.StateCancelled} // the record the sweep's resolve left
		}
		shards[home].answer = func(c engine.Command) engine.Result { return engine.Result{Qty: 1, ExpiresAt: c.Deadline} }
		var got engine.Result
		var err error
		r.Serve(&cmd, false, func(res engine.Result, e error) { got, err = res, e })
		code, _ := CodeOf(err)
		switch {
		case keyed && (err != nil || got.Code != engine.CodeExpired || fmt.Sprint(ops) != "[reserve+claim resolve_claim+claim reserve]"):
			t.Errorf("with a key: %+v %v after %v; want the replay's expired after the hold, its resolve, the replay", got, err, ops)
		case !keyed && (code != engine.CodeTimeout || fmt.Sprint(ops) != "[reserve+claim resolve_claim+claim]"):
			t.Errorf("without a key: %+v %v after %v; want timeout after the hold and its resolve", got, err, ops)
		}
	}
}
