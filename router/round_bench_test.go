// What this file proves: a limited reserve of a customer of another shard,
// coordinated in one round (its read of the item, the claim on the
// customer's home and the provisional hold, the resolve, the answer), costs
// no allocation in the router, as a plain reserve costs none: the request
// is a pooled record advanced by the shards' callbacks. A BATCH frame (what
// the client library sends when calls queue up together) costs none
// either: its record, its split by shard, its groups and their completions
// are pooled too. The benchmarks measure the paths (go test -run - -bench
// 'Reserve|Batch' -benchmem ./router).
//
// How: over cannedShards, which answer every proposal at once with a
// result prepared in advance (their own work allocates nothing), so that
// testing.AllocsPerRun and -benchmem count the router's allocations alone.
package router

import (
	"fmt"
	"testing"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// cannedShard answers at once: a claim accepted, a claimed reserve held
// provisionally (naming hold.Claim), anything else held firm.
type cannedShard struct {
	avail, limit int64
	hold         engine.ReservationInfo
	proposed     int
	bufs         [][]engine.Result // ProposeGroup's answers, by nesting level
	depth        int
}

func (s *cannedShard) answer(cmd *engine.Command) engine.Result {
	s.proposed++
	switch {
	case cmd.Op == engine.OpClaim:
		return engine.Result{Qty: cmd.Qty, ExpiresAt: cmd.Deadline}
	case cmd.Op == engine.OpReserve && len(cmd.Claim) > 0:
		return engine.Result{ID: 7, State: engine.StateHeld, Qty: cmd.Qty, Reservation: &s.hold}
	}
	return engine.Result{ID: 7, State: engine.StateHeld, Qty: cmd.Qty}
}

func (s *cannedShard) Propose(cmd engine.Command, done func(engine.Result, error)) error {
	done(s.answer(&cmd), nil)
	return nil
}

// ProposeGroup answers from buffers of its own, one per nesting level (a
// completion may propose again before it returns), reused as raftstore's
// results are not: the router keeps nothing of them past the completion.
func (s *cannedShard) ProposeGroup(cmds []engine.Command, done func([]engine.Result, error)) error {
	if s.depth == len(s.bufs) {
		s.bufs = append(s.bufs, nil)
	}
	rs := s.bufs[s.depth][:0]
	for i := range cmds {
		rs = append(rs, s.answer(&cmds[i]))
	}
	s.bufs[s.depth] = rs
	s.depth++
	done(rs, nil)
	s.depth--
	return nil
}

func (s *cannedShard) Read(cmd *engine.Command) engine.Result { return s.answer(cmd) }
func (s *cannedShard) ReadIndex(done func(error))             { done(nil) }
func (s *cannedShard) IsLeader() bool                         { return true }
func (s *cannedShard) LeaderID() string                       { return "node-1" }
func (s *cannedShard) IsMember() bool                         { return true }
func (s *cannedShard) Peek(_, _ []byte) (int64, int64, bool)  { return s.avail, s.limit, true }
func (s *cannedShard) OutboxPending() []engine.OutboxQueue    { return nil }
func (s *cannedShard) Outbox(uint16, int) []engine.Message    { return nil }
func (s *cannedShard) ClaimsDue(int64, int) []engine.DueClaim { return nil }
func (s *cannedShard) ProvisionalDue(int64, int) []engine.DueHold {
	return nil
}

// cannedRouter returns a router over three canned shards, a reserve of a
// limited item on item for ann (whose home is another shard), and the
// item's shard.
func cannedRouter(tb testing.TB) (*Router, *engine.Command, *cannedShard) {
	shards := make([]*cannedShard, 3)
	cfg := Config{}
	for i := range shards {
		shards[i] = &cannedShard{avail: 1000, limit: 2}
		cfg.Shards = append(cfg.Shards, shards[i])
	}
	r, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := &engine.Command{Op: engine.OpReserve, SKU: []byte("L1"), Customer: []byte("ann"), Qty: 1, Key: []byte("k1")}
	home := r.homeShard(cmd.Customer)
	for i := 0; ; i++ {
		cmd.Store = []byte{'S', byte('0' + i)}
		if _, item := protocol.RouteOf(cmd, 3); item != home {
			cmd.Key = keyOn(item, 3, "k1") // a key the client library makes: homed on the item's shard
			shards[item].hold = engine.ReservationInfo{ID: 7, Claim: string(claimKey(cmd)), Provisional: true}
			return r, cmd, shards[item]
		}
	}
}

func TestRoundAllocatesNothing(t *testing.T) {
	if testRaceEnabled {
		t.Skip("the race detector's sync.Pool drops records: counted without -race")
	}
	r, cmd, item := cannedRouter(t)
	var got engine.Result
	var gotErr error
	done := func(res engine.Result, err error) { got, gotErr = res, err }
	r.Serve(cmd, false, done)
	if gotErr != nil || got.ID != 7 || got.Reservation != nil || r.Stats().Coordinated != 1 || item.proposed != 2 {
		t.Fatalf("a coordinated reserve: %+v %v, stats %+v, %d proposals on the item's shard (hold and resolve)",
			got, gotErr, r.Stats(), item.proposed)
	}
	if a := testing.AllocsPerRun(500, func() { r.Serve(cmd, false, done) }); a != 0 {
		t.Errorf("%v allocations per coordinated reserve", a)
	}
}

func BenchmarkCoordinatedReserve(b *testing.B) {
	r, cmd, _ := cannedRouter(b)
	done := func(engine.Result, error) {}
	b.ReportAllocs()
	for b.Loop() {
		r.Serve(cmd, false, done)
	}
}

func BenchmarkPlainReserve(b *testing.B) {
	r, cmd, item := cannedRouter(b)
	item.limit = 0 // unlimited: the one-shard path
	done := func(engine.Result, error) {}
	b.ReportAllocs()
	for b.Loop() {
		r.Serve(cmd, false, done)
	}
}

// cannedBatch returns a BATCH as a busy client connection sends it: reserves
// of one limited item by customers of every home (those of other homes take
// rounds, the others go to the item's shard as one group with the reads),
// reads of the item, and confirms, which may ask for the coordinator.
func cannedBatch(cmd *engine.Command) []engine.Command {
	var out []engine.Command
	for i := range 12 {
		c := *cmd
		c.Customer = []byte(fmt.Sprintf("cust-%02d", i))
		c.Key = nil
		out = append(out, c)
	}
	for range 2 {
		out = append(out, engine.Command{Op: engine.OpGetItem, SKU: cmd.SKU, Store: cmd.Store})
	}
	for range 2 {
		out = append(out, engine.Command{Op: engine.OpConfirm, ID: 7, Customer: cmd.Customer})
	}
	return out
}

func TestBatchAllocatesNothing(t *testing.T) {
	if testRaceEnabled {
		t.Skip("the race detector's sync.Pool drops records: counted without -race")
	}
	r, cmd, _ := cannedRouter(t)
	cmds := cannedBatch(cmd)
	var failed []string
	done := func(rs []engine.Result, errs []error) {
		for i := range rs {
			if errs[i] != nil || rs[i].Code != engine.OK {
				failed = append(failed, fmt.Sprintf("%d %v: %+v %v", i, cmds[i].Op, rs[i], errs[i]))
			}
		}
	}
	r.ServeBatch(cmds, false, done)
	if failed != nil || r.Stats().Coordinated == 0 {
		t.Fatalf("a batch: failed %v, stats %+v (some reserves must take rounds)", failed, r.Stats())
	}
	if a := testing.AllocsPerRun(500, func() { r.ServeBatch(cmds, false, done) }); a != 0 {
		t.Errorf("%v allocations per BATCH of %d", a, len(cmds))
	}
}

// TestBatchRecordsReused: a pooled record serves the next frame with
// nothing of the last one left in its results, errors or commands.
func TestBatchRecordsReused(t *testing.T) {
	r, cmd, _ := cannedRouter(t)
	big := cannedBatch(cmd)
	small := []engine.Command{{Op: engine.OpGetItem, SKU: []byte("nope"), Store: []byte("S9")}}
	for range 50 {
		r.ServeBatch(big, false, func([]engine.Result, []error) {})
		r.ServeBatch(small, false, func(rs []engine.Result, errs []error) {
			if len(rs) != 1 || len(errs) != 1 || errs[0] != nil || rs[0].ID != 7 || rs[0].Reservation != nil {
				t.Fatalf("a one-entry batch after a larger one: %+v %v", rs, errs)
			}
		})
	}
}

func BenchmarkBatchReserve(b *testing.B) {
	r, cmd, _ := cannedRouter(b)
	cmds := cannedBatch(cmd)
	done := func([]engine.Result, []error) {}
	b.ReportAllocs()
	for b.Loop() {
		r.ServeBatch(cmds, false, done)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cmds)), "ns/entry")
}
