// The commands of the router's scripts (see env_test.go and
// interaction_test.go): what each reads and does to the environment.
package router

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/invsys/inv/engine"
)

// envArgs are a command's key=value arguments; a bare word has value "".
type envArgs map[string]string

func (a envArgs) has(k string) bool { _, ok := a[k]; return ok }

func (a envArgs) int(k string, def int) int {
	v, ok := a[k]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: not a number", k, v))
	}
	return n
}

func (a envArgs) dur(k string) time.Duration {
	v, ok := a[k]
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: not a duration", k, v))
	}
	return d
}

func tdArgs(td *datadriven.TestData) envArgs {
	a := envArgs{}
	for _, c := range td.CmdArgs {
		a[c.Key] = strings.Join(c.Vals, ",")
	}
	return a
}

func lineArgs(line string) (string, envArgs) {
	f := strings.Fields(line)
	a := envArgs{}
	for _, w := range f[1:] {
		k, v, _ := strings.Cut(w, "=")
		a[k] = v
	}
	return f[0], a
}

// run runs one script command and returns what it printed.
func (e *env) run(td *datadriven.TestData) string {
	e.out = &strings.Builder{}
	a := tdArgs(td)
	switch td.Cmd {
	case "auto":
		e.auto = a.has("on")
	case "leader":
		e.shards[a.int("shard", 0)].leader = a.int("node", 0)
	case "member":
		e.shards[a.int("shard", 0)].members[a.int("node", 1)-1] = !a.has("off")
	case "deliver":
		e.deliver(a)
	case "drop":
		e.drop(e.shards[a.int("shard", 0)])
	case "crash-after":
		e.crashOp, e.crashNode, e.crashCount = opNamed(td.CmdArgs[0].Key), a.int("node", 1), a.int("n", 1)
	case "crash":
		e.node(a).crash()
	case "restart":
		e.node(a).start()
		fmt.Fprintf(e.out, "node %d restarted\n", a.int("node", 1))
	case "tick":
		e.tick(a.dur("by"))
	case "outbox":
		e.outboxAuto = a.has("auto")
	case "deliver-outbox":
		e.node(a).r.DeliverChanged()
	case "retry-outbox":
		e.node(a).r.deliverPending()
	case "sweep":
		e.node(a).r.SweepRound()
	case "batch":
		e.batch(a, td.Input)
	case "shard-call":
		e.shardCall(a, td)
	case "check-limits":
		e.checkLimits()
	case "check-stock":
		e.checkStock()
	case "state":
		e.state(e.shards[a.int("shard", 0)])
	case "stats":
		st := e.node(a).r.Stats()
		fmt.Fprintf(e.out, "forwarded=%d coordinated=%d stale-peeks=%d resolved=%d carts=%d delivered=%d "+
			"delivery-retries=%d swept-claims=%d swept-holds=%d cancel-waits-late=%d\n",
			st.Forwarded, st.Coordinated, st.StalePeeks, st.Resolved, st.Carts, st.Delivered, st.DeliveryRetries,
			st.SweptClaims, st.SweptHolds, st.CancelWaitsLate)
	case "where":
		e.where(a)
	default:
		e.request(td.Cmd, a)
	}
	if e.auto {
		e.deliverAll()
	}
	for _, s := range e.shards {
		if err := s.eng.CheckInvariants(); err != nil {
			fmt.Fprintf(e.out, "shard %d: invariants broken: %v\n", s.id, err)
		}
	}
	if td.Cmd != "check-limits" {
		e.limitsBroken() // after every step, silent while the limits hold
	}
	if e.out.Len() == 0 {
		return "ok\n"
	}
	return e.out.String()
}

func (e *env) node(a envArgs) *envNode { return e.nodes[a.int("node", 1)-1] }

// opNamed reads an op's name, with dashes or underscores.
func opNamed(name string) engine.Op {
	name = strings.ReplaceAll(name, "-", "_")
	for op := engine.Op(1); op <= engine.OpLast; op++ {
		if op.Valid() && op.String() == name {
			return op
		}
	}
	panic("no op " + name)
}

// command builds an engine command from a script line's op and arguments.
func (e *env) command(name string, a envArgs) engine.Command {
	c := engine.Command{Op: opNamed(name), Linked: a.has("linked"), Restock: a.has("restock")}
	str := func(k string) []byte {
		if v, ok := a[k]; ok {
			return []byte(v)
		}
		return nil
	}
	c.SKU, c.Store, c.Customer, c.Key = str("sku"), str("store"), str("cust"), str("key")
	c.Qty, c.Stock, c.Limit = int64(a.int("qty", 0)), int64(a.int("stock", 0)), int64(a.int("limit", 0))
	c.Tier, c.TTL = uint8(a.int("tier", 0)), a.dur("ttl")
	if v, ok := a["id"]; ok {
		c.ID = parseID(v)
	}
	if v, ok := a["code-of"]; ok { // a pickup by code alone: the code of that reservation
		c.PickupCode = e.shards[engine.ShardOfID(parseID(v))].eng.Read(
			&engine.Command{Op: engine.OpGetReservation, ID: parseID(v)}).Reservation.PickupCode
	}
	if a["code"] == "right" {
		c.PickupCode = e.shards[engine.ShardOfID(c.ID)].eng.Read(
			&engine.Command{Op: engine.OpGetReservation, ID: c.ID}).Reservation.PickupCode
	}
	switch c.Op {
	case engine.OpPutItem:
		e.stores[string(c.SKU)] = append(e.stores[string(c.SKU)], string(c.Store))
	case engine.OpSetLimit:
		e.limits[string(c.SKU)] = c.Limit
	}
	if len(c.Customer) > 0 && !contains(e.customers, string(c.Customer)) {
		e.customers = append(e.customers, string(c.Customer))
	}
	return c
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// parseID reads "s1:3": the third reservation of shard 1.
func parseID(v string) uint64 {
	var shard, seq int
	if _, err := fmt.Sscanf(v, "s%d:%d", &shard, &seq); err != nil {
		panic(fmt.Sprintf("id %q: want s<shard>:<seq>", v))
	}
	return engine.MakeID(uint16(shard), uint64(seq))
}

// scramble overwrites the bytes a command points to, as the next read
// overwrites a connection's buffer: the router must have copied them.
func scramble(cmds []engine.Command) {
	for i := range cmds {
		for _, b := range [][]byte{cmds[i].SKU, cmds[i].Store, cmds[i].Customer, cmds[i].Key} {
			for k := range b {
				b[k] = '#'
			}
		}
	}
}

// request starts one client request on a node.
func (e *env) request(name string, a envArgs) {
	n := e.node(a)
	cmd := e.command(name, a)
	e.reqs++
	q, epoch := e.reqs, n.epoch
	n.reqs[q] = true
	fmt.Fprintf(e.out, "req %d: %s at n%d\n", q, fmtCmd(&cmd), n.id)
	n.r.Serve(&cmd, a.has("stale"), func(res engine.Result, err error) {
		if n.epoch != epoch {
			return
		}
		delete(n.reqs, q)
		fmt.Fprintf(e.out, "req %d: %s\n", q, e.outcome(cmd.Op, &res, err))
	})
	scramble([]engine.Command{cmd})
}

// shardCall runs a command on a named shard of a node, as a SHARD_CALL
// from another node would.
func (e *env) shardCall(a envArgs, td *datadriven.TestData) {
	n := e.node(a)
	name, la := lineArgs(td.Input)
	cmd := e.command(name, la)
	e.reqs++
	q := e.reqs
	fmt.Fprintf(e.out, "req %d: shard-call %s to shard %d at n%d\n", q, fmtCmd(&cmd), a.int("shard", 0), n.id)
	n.r.ServeHere(a.int("shard", 0), &cmd, func(res engine.Result, err error) {
		fmt.Fprintf(e.out, "req %d: %s\n", q, e.outcome(cmd.Op, &res, err))
	})
}

// batch sends a BATCH: one command a line, "linked" chaining it to the next.
func (e *env) batch(a envArgs, input string) {
	n := e.node(a)
	var cmds []engine.Command
	for _, line := range strings.Split(strings.TrimSpace(input), "\n") {
		name, la := lineArgs(line)
		cmds = append(cmds, e.command(name, la))
	}
	ops := make([]engine.Op, len(cmds))
	for i := range cmds {
		ops[i] = cmds[i].Op
	}
	e.reqs++
	q, epoch := e.reqs, n.epoch
	n.reqs[q] = true
	fmt.Fprintf(e.out, "req %d: batch of %d at n%d\n", q, len(cmds), n.id)
	n.r.ServeBatch(cmds, a.has("stale"), func(rs []engine.Result, errs []error) {
		if n.epoch != epoch {
			return
		}
		delete(n.reqs, q)
		fmt.Fprintf(e.out, "req %d:\n", q)
		for i := range rs {
			fmt.Fprintf(e.out, "  %d %s: %s\n", i, ops[i], e.outcome(ops[i], &rs[i], errs[i]))
		}
	})
	scramble(cmds)
}

// deliver applies what waits in one shard's queue (n=K: the first K), or
// with "all" everything, again and again, until every queue is empty.
func (e *env) deliver(a envArgs) {
	if a.has("all") {
		e.deliverAll()
		return
	}
	s := e.shards[a.int("shard", 0)]
	for k := a.int("n", len(s.queue)); k > 0 && len(s.queue) > 0; k-- {
		p := s.queue[0]
		s.queue = s.queue[1:]
		e.apply(s, p)
	}
}

func (e *env) deliverAll() {
	for rounds := 0; ; rounds++ {
		if rounds > 10000 {
			e.t.Fatal("deliveries do not end")
		}
		busy := false
		for _, s := range e.shards {
			for len(s.queue) > 0 {
				busy = true
				p := s.queue[0]
				s.queue = s.queue[1:]
				e.apply(s, p)
			}
		}
		if !busy {
			return
		}
	}
}

// apply commits one proposal: its commands run on the shard's engine at
// the shards' time, and its proposer hears the results, unless it crashed.
func (e *env) apply(s *envShard, p *proposal) {
	live := p.node.epoch == p.epoch
	if p.read != nil {
		fmt.Fprintf(e.out, "s%d n%d: read-index\n", s.id, p.node.id)
		if !live {
			return
		}
		if s.leader != p.node.id {
			p.read(&envNotLeader{shard: uint16(s.id), leader: raftID(s.leader)})
			return
		}
		p.read(nil)
		return
	}
	res, evs := s.eng.Apply(e.now.UnixNano(), p.cmds)
	rs := append([]engine.Result(nil), res...) // the engine reuses its slice
	e.ledger(s, evs)
	defer e.outboxHook(s)
	for i := range p.cmds {
		fmt.Fprintf(e.out, "s%d n%d: %s → %s\n", s.id, p.node.id, fmtCmd(&p.cmds[i]), e.outcome(p.cmds[i].Op, &rs[i], nil))
		if p.cmds[i].Op == engine.OpReserve && rs[i].Code == engine.OK {
			e.ids[rs[i].ID] = p.cmds[i]
		}
	}
	if e.crashOp != 0 && p.node.id == e.crashNode && p.cmds[0].Op == e.crashOp {
		if e.crashCount--; e.crashCount == 0 {
			e.crashOp = 0
			p.node.crash()
			return
		}
	}
	switch {
	case !live:
	case p.one != nil:
		p.one(rs[0], nil)
	default:
		p.many(rs, nil)
	}
}

// outboxHook tells the shard's leader's router that an apply appended
// outbox messages (raftstore's outbox hook), and with outboxAuto has it
// deliver at once (as Run's loop would on the kick).
func (e *env) outboxHook(s *envShard) {
	if s.eng.OutboxAppended() == s.appended {
		return
	}
	s.appended = s.eng.OutboxAppended()
	if s.leader == 0 || e.nodes[s.leader-1].down {
		return
	}
	n := e.nodes[s.leader-1]
	n.r.OutboxChanged(s.id)
	if e.outboxAuto {
		n.r.DeliverChanged()
	}
}

// drop loses what waits in a shard's queue: whoever waits hears that the
// outcome is unknown.
func (e *env) drop(s *envShard) {
	q := s.queue
	s.queue = nil
	for _, p := range q {
		fmt.Fprintf(e.out, "s%d n%d: dropped\n", s.id, p.node.id)
		switch {
		case p.node.epoch != p.epoch:
		case p.read != nil:
			p.read(errDropped)
		case p.one != nil:
			p.one(engine.Result{}, errDropped)
		default:
			p.many(nil, errDropped)
		}
	}
}

// tick moves the clock: every shard expires what is due (the leader's
// timer), then the routers' timers that are due fire.
func (e *env) tick(d time.Duration) {
	e.now = e.now.Add(d)
	for _, s := range e.shards {
		_, evs := s.eng.Apply(e.now.UnixNano(), []engine.Command{{Op: engine.OpExpire}})
		e.ledger(s, evs)
		e.outboxHook(s)
		for _, ev := range evs {
			switch ev.Kind {
			case engine.EvExpired, engine.EvNoShow, engine.EvClaimEnded:
				fmt.Fprintf(e.out, "s%d: %s %s\n", s.id, ev.Kind, fmtEvent(&ev))
			}
		}
	}
	for _, n := range e.nodes {
		if !n.down {
			n.clock.fire()
		}
	}
}

// ledger keeps the units claimed per customer and SKU on each shard, from
// the engine's claim events.
func (e *env) ledger(s *envShard, evs []engine.Event) {
	for _, ev := range evs {
		k := envClaimKey{shard: s.id, cust: ev.Customer, sku: ev.SKU}
		switch ev.Kind {
		case engine.EvClaimed:
			e.claims[k] += ev.Qty
		case engine.EvClaimEnded:
			e.claims[k] -= ev.Qty
		}
	}
}
