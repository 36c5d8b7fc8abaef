// The interaction environment of the router's scripted tests (in the
// manner of etcd-io/raft's InteractionEnv): N shards, each a REAL engine
// (engine.New with its shard id and the shard count), and M nodes, each a
// Router over views of those shards. What raft would do is the script's to
// say: a proposal waits in its shard's queue until `deliver` applies it
// (or `auto on` delivers everything as it comes), `drop` loses what is
// queued (its outcome is unknown to whoever waits), `leader` moves a
// shard's leadership (a command for a shard another node leads is
// forwarded through a fake Forwarder that runs it on that node's router,
// as a SHARD_CALL would), `crash-after` kills a node right after one of its
// proposals is applied, `tick` moves the clock of the shards and of the
// routers' timers. Everything runs on the test's goroutine, in an order
// the script fixes, so the output is the same on every run.
//
// This file holds the environment; env_cmds_test.go reads the scripts'
// commands and env_check_test.go prints and checks state.
package router

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

// envT0 is the shards' time at the start of every script.
var envT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// errDropped is the error of a proposal the script dropped: it may or may
// not have been applied (a leader lost before commit).
var errDropped = errors.New("proposal dropped: outcome unknown")

// env is one script's world.
type env struct {
	t         testing.TB
	shards    []*envShard
	nodes     []*envNode // nodes[0] is node 1
	nodeCount int
	now       time.Time
	auto      bool
	out       *strings.Builder
	reqs      int // requests started so far (their numbers)

	readMode ReadMode
	groupMax int

	// outboxAuto: an apply that appends outbox messages has the leader's
	// router deliver at once (as the server's outbox hook wakes Run);
	// off, the script says when (deliver-outbox).
	outboxAuto bool

	crashOp    engine.Op // crash-after: the op
	crashNode  int       // ... proposed by this node
	crashCount int       // ... on its crashCount-th apply

	limits    map[string]int64          // SKU → per-customer limit, from put-item
	customers []string                  // every customer named, in order
	claims    map[envClaimKey]int64     // units claimed, from the engines' claim events
	stores    map[string][]string       // SKU → stores it was put at
	ids       map[uint64]engine.Command // reservation id → the reserve that made it
}

type envClaimKey struct {
	shard     int
	cust, sku string
}

// envShard is one shard: its engine, leader, members and queue.
type envShard struct {
	id       int
	eng      *engine.Engine
	appended uint64 // the engine's OutboxAppended after the last apply
	leader   int    // the leading node, 0: none (an election)
	members  []bool // by node index: the node replicates the shard
	queue    []*proposal
}

// proposal is what waits in a shard's queue: commands (one, or a group)
// or a read-index round.
type proposal struct {
	node  *envNode
	epoch int // the node's life when it proposed: a later life drops the answer
	cmds  []engine.Command
	one   func(engine.Result, error)
	many  func([]engine.Result, error)
	read  func(error)
}

// envNode is one node: its router and its life.
type envNode struct {
	id    int
	env   *env
	r     *Router
	epoch int
	down  bool
	clock *fakeClock
	reqs  map[int]bool // requests in progress here
}

// setNoShowLimit remakes the shards' engines, still empty, with the
// no-show rule on (the scripts' `env no-shows=N`; off by default, so that
// the claims' scripts need not count no-shows).
func (e *env) setNoShowLimit(n int) {
	for _, s := range e.shards {
		s.eng = engine.New(engine.Config{ShardID: uint16(s.id), Shards: len(e.shards), PickupSecret: []byte("env-secret"), NoShowLimit: n})
	}
}

func newEnv(t testing.TB, shards, nodes int, mode ReadMode, groupMax int) *env {
	e := &env{t: t, nodeCount: nodes, now: envT0, readMode: mode, groupMax: groupMax, limits: map[string]int64{},
		claims: map[envClaimKey]int64{}, stores: map[string][]string{}, ids: map[uint64]engine.Command{}}
	for i := range shards {
		cfg := engine.Config{ShardID: uint16(i), Shards: shards, PickupSecret: []byte("env-secret"), NoShowLimit: -1}
		s := &envShard{id: i, eng: engine.New(cfg), leader: 1, members: make([]bool, nodes)}
		for n := range s.members {
			s.members[n] = true
		}
		e.shards = append(e.shards, s)
	}
	for n := 1; n <= nodes; n++ {
		node := &envNode{id: n, env: e, reqs: map[int]bool{}}
		e.nodes = append(e.nodes, node)
		node.start()
	}
	return e
}

// start gives the node a fresh router (its first life, or a restart).
func (n *envNode) start() {
	e := n.env
	n.epoch++
	n.down = false
	n.clock = &fakeClock{env: e}
	cfg := Config{ReadMode: e.readMode, GroupMaxCommands: e.groupMax, Clock: n.clock}
	for _, s := range e.shards {
		cfg.Shards = append(cfg.Shards, &shardView{node: n, sh: s})
	}
	if e.nodeCount > 1 {
		cfg.Forwarder, cfg.Peers = envForwarder{n}, envPeers{n}
	}
	r, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	n.r = r
}

// crash ends the node's life: its router's pending answers and timers are
// dropped, and its requests' outcomes are unknown.
func (n *envNode) crash() {
	n.down = true
	n.epoch++
	n.clock.timers = nil
	for _, q := range slices.Sorted(mapKeys(n.reqs)) {
		fmt.Fprintf(n.env.out, "req %d: lost with node %d (outcome unknown)\n", q, n.id)
	}
	clear(n.reqs)
	fmt.Fprintf(n.env.out, "node %d crashed\n", n.id)
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func raftID(node int) string   { return fmt.Sprintf("node-%d", node) }
func nodeAddr(node int) string { return fmt.Sprintf("n%d", node) }

// envNotLeader is the shard's not-leader refusal, as raftstore's.
type envNotLeader struct {
	shard  uint16
	leader string
}

func (e *envNotLeader) Error() string {
	return fmt.Sprintf("shard %d: not the leader (leader %q)", e.shard, e.leader)
}

func (e *envNotLeader) LeaderHint() (uint16, string) { return e.shard, e.leader }

// shardView is one node's view of a shard: the router's Shard.
type shardView struct {
	node *envNode
	sh   *envShard
}

func (v *shardView) notLeader() error {
	return &envNotLeader{shard: uint16(v.sh.id), leader: v.LeaderID()}
}

func (v *shardView) Propose(cmd engine.Command, done func(engine.Result, error)) error {
	if !v.IsLeader() {
		return v.notLeader()
	}
	v.enqueue(&proposal{cmds: engine.CloneCommands([]engine.Command{cmd}), one: done})
	return nil
}

func (v *shardView) ProposeGroup(cmds []engine.Command, done func([]engine.Result, error)) error {
	if !v.IsLeader() {
		return v.notLeader()
	}
	v.enqueue(&proposal{cmds: engine.CloneCommands(cmds), many: done})
	return nil
}

func (v *shardView) ReadIndex(done func(error)) {
	v.enqueue(&proposal{read: done})
}

func (v *shardView) enqueue(p *proposal) {
	p.node, p.epoch = v.node, v.node.epoch
	v.sh.queue = append(v.sh.queue, p)
}

func (v *shardView) Read(cmd *engine.Command) engine.Result { return v.sh.eng.Read(cmd) }
func (v *shardView) IsLeader() bool                         { return v.sh.leader == v.node.id && v.IsMember() }
func (v *shardView) IsMember() bool                         { return v.sh.members[v.node.id-1] }

// LeaderID names the leader; a node outside the shard's group hears from
// no leader, so it knows none.
func (v *shardView) LeaderID() string {
	if v.sh.leader == 0 || !v.IsMember() {
		return ""
	}
	return raftID(v.sh.leader)
}

func (v *shardView) OutboxPending() []engine.OutboxQueue         { return v.sh.eng.OutboxPending() }
func (v *shardView) Outbox(to uint16, max int) []engine.Message  { return v.sh.eng.Outbox(to, max) }
func (v *shardView) Peek(sku, store []byte) (int64, int64, bool) { return v.sh.eng.Peek(sku, store) }
func (v *shardView) ClaimsDue(until int64, max int) []engine.DueClaim {
	return v.sh.eng.ClaimsDue(until, max)
}
func (v *shardView) ProvisionalDue(until int64, max int) []engine.DueHold {
	return v.sh.eng.ProvisionalDue(until, max)
}

// envPeers is the peer table of a node: every other node.
type envPeers struct{ n *envNode }

func (p envPeers) NodeOf(id string) (uint32, string, bool) {
	for _, o := range p.n.env.nodes {
		if raftID(o.id) == id && o.id != p.n.id {
			return uint32(o.id), nodeAddr(o.id), true
		}
	}
	return 0, "", false
}

func (p envPeers) Holders(int) []string {
	var out []string
	for _, o := range p.n.env.nodes {
		if o.id != p.n.id {
			out = append(out, nodeAddr(o.id))
		}
	}
	return out
}

// envForwarder runs a node's forwarded commands on the node they name,
// through that node's router, as the server's SHARD_CALL pool would: it
// follows NOT_LEADER hints (3 hops), and turns the answers into what the
// wire carries back.
type envForwarder struct{ from *envNode }

func (f envForwarder) target(addr string) *envNode {
	for _, o := range f.from.env.nodes {
		if nodeAddr(o.id) == addr {
			return o
		}
	}
	return nil
}

func (f envForwarder) Forward(shard int, addr string, cmd *engine.Command, done func(engine.Result, error)) error {
	fmt.Fprintf(f.from.env.out, "n%d forwards %s (shard %d) to %s\n", f.from.id, fmtCmd(cmd), shard, addr)
	f.call(shard, addr, cmd, f.guard(done), 0)
	return nil
}

func (f envForwarder) call(shard int, addr string, cmd *engine.Command, done func(engine.Result, error), hop int) {
	to := f.target(addr)
	if to == nil || to.down {
		fmt.Fprintf(f.from.env.out, "%s does not answer n%d\n", addr, f.from.id)
		done(engine.Result{}, &Refusal{engine.CodeUnavailable, "cannot reach " + addr})
		return
	}
	to.r.ServeHere(shard, cmd, func(res engine.Result, err error) {
		var nl *NotLeaderError
		if errors.As(err, &nl) && nl.Addr != "" && nl.Addr != addr && hop+1 < 3 {
			f.call(shard, nl.Addr, cmd, done, hop+1)
			return
		}
		if err != nil {
			fmt.Fprintf(f.from.env.out, "%s answers n%d: %s\n", addr, f.from.id, fmtErr(wireErr(err)))
		}
		done(res, wireErr(err))
	})
}

func (f envForwarder) ForwardGroup(addr string, cmds []engine.Command, done func([]engine.Result, error)) error {
	fmt.Fprintf(f.from.env.out, "n%d forwards a group of %d to %s\n", f.from.id, len(cmds), addr)
	to := f.target(addr)
	guard := f.guardMany(done)
	if to == nil || to.down {
		guard(nil, &Refusal{engine.CodeUnavailable, "cannot reach " + addr})
		return nil
	}
	to.r.ServeBatch(cmds, false, func(rs []engine.Result, errs []error) {
		for _, err := range errs {
			if err != nil {
				guard(nil, wireErr(err))
				return
			}
		}
		guard(slices.Clone(rs), nil) // the router reuses rs once this returns
	})
	return nil
}

// wireErr is what a peer's error becomes on the way back: its code.
func wireErr(err error) error {
	var nl *NotLeaderError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotHeld):
		return ErrNotHeld
	case errors.As(err, &nl):
		return &Refusal{engine.CodeUnavailable, nl.Error()}
	}
	if code, ok := CodeOf(err); ok {
		return &Refusal{code, err.Error()}
	}
	return &Refusal{engine.CodeTimeout, err.Error()}
}

// guard drops an answer that comes back to a node after it crashed.
func (f envForwarder) guard(done func(engine.Result, error)) func(engine.Result, error) {
	n, epoch := f.from, f.from.epoch
	return func(res engine.Result, err error) {
		if n.epoch == epoch {
			done(res, err)
		}
	}
}

func (f envForwarder) guardMany(done func([]engine.Result, error)) func([]engine.Result, error) {
	n, epoch := f.from, f.from.epoch
	return func(rs []engine.Result, err error) {
		if n.epoch == epoch {
			done(rs, err)
		}
	}
}

// fakeClock is a node's router clock: the shards' time, and timers that
// fire when a tick passes them.
type fakeClock struct {
	env    *env
	timers []*fakeTimer
}

type fakeTimer struct {
	at   time.Time
	f    func()
	done bool
}

func (c *fakeClock) Now() time.Time { return c.env.now }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	t := &fakeTimer{at: c.env.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		was := !t.done
		t.done = true
		return was
	}
}

// fire runs the timers due by now, in the order they were set.
func (c *fakeClock) fire() {
	due := c.timers[:0:0]
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.done:
		case !t.at.After(c.env.now):
			due = append(due, t)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	for _, t := range due {
		if !t.done {
			t.done = true
			t.f()
		}
	}
}
