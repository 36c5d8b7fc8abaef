package router

import (
	"sync/atomic"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// batch is one BATCH frame in flight. Its entries are split by shard: each
// shard's share goes to that shard as one group (so it lands in one raft
// entry), fan-out entries fan out on their own, and done gets every
// entry's outcome, in request order, once every part has answered.
//
// A linked chain (a cart's lines) is applied atomically by the engine
// within one shard. A chain of reserves that spans shards is a cart the
// node holds shard by shard, all or nothing (cart.go); any other chain
// across shards is refused whole with bad_request.
type batch struct {
	r     *Router
	stale bool // the frame's stale flag: read-only groups are served from this node's state
	// firstWrite is the index of the frame's first mutating command (the
	// frame's length if none): a read after it goes through the log, behind
	// the writes proposed before it, so a frame's entries take effect in
	// order.
	firstWrite int
	results    []engine.Result
	errs       []error
	pending    atomic.Int32 // parts not yet answered, plus one while dispatching
	done       func([]engine.Result, []error)
}

// ServeBatch routes a BATCH's commands and calls done exactly once with
// one result or error per command, in order (any goroutine, perhaps before
// ServeBatch returns). cmds may alias a connection's read buffer: every
// part copies what it keeps before ServeBatch returns. Entries whose
// idempotency key is homed on another shard register it there first
// (keys.go).
func (r *Router) ServeBatch(cmds []engine.Command, stale bool, done func([]engine.Result, []error)) {
	if byHome := r.crossingKeys(cmds); byHome != nil {
		r.registerBatch(cmds, stale, byHome, done)
		return
	}
	r.serveBatch(cmds, stale, done)
}

// serveBatch is ServeBatch once the keys are registered.
func (r *Router) serveBatch(cmds []engine.Command, stale bool, done func([]engine.Result, []error)) {
	n := len(cmds)
	b := &batch{r: r, stale: stale, firstWrite: firstWrite(cmds), results: make([]engine.Result, n),
		errs: make([]error, n), done: done}
	b.pending.Store(1)
	perShard := make([][]int32, len(r.shards))
	for i := 0; i < n; {
		j := i
		for j < n-1 && cmds[j].Linked {
			j++
		}
		b.place(cmds, i, j, perShard)
		i = j + 1
	}
	b.flush(cmds, perShard)
	b.arrive()
}

func firstWrite(cmds []engine.Command) int {
	for i := range cmds {
		if cmds[i].Op.Mutating() {
			return i
		}
	}
	return len(cmds)
}

// flush proposes the entries gathered per shard so far. A shard applies
// what it is given in order, so proposing everything before a fan-out
// first, then the fan-out, keeps each shard's entries in request order.
func (b *batch) flush(cmds []engine.Command, perShard [][]int32) {
	for shard, idx := range perShard {
		if len(idx) > 0 {
			b.proposeShard(shard, cmds, idx)
			perShard[shard] = nil
		}
	}
}

// place routes the chain cmds[i..j] (a single command when i == j).
func (b *batch) place(cmds []engine.Command, i, j int, perShard [][]int32) {
	shards := len(b.r.shards)
	kind, sh := protocol.RouteOf(&cmds[i], shards)
	if i == j && !cmds[i].Linked {
		switch kind {
		case protocol.RouteNone:
			b.results[i] = engine.Result{Code: engine.CodeNotFound}
		case protocol.RouteAll:
			b.flush(cmds, perShard)
			b.pending.Add(1)
			b.r.fanOut(&cmds[i], i > b.firstWrite, func(res engine.Result, err error) {
				b.results[i], b.errs[i] = res, err
				b.arrive()
			})
		default:
			if cmds[i].Op == engine.OpGetCustomer && shards > 1 && !b.stale {
				// The home's record and every shard's open count, as a
				// get_customer of its own (Serve); through the logs when a
				// write comes before it in the frame, so that it sees it.
				b.flush(cmds, perShard)
				b.pending.Add(1)
				b.r.getCustomer(sh, &cmds[i], i > b.firstWrite, func(res engine.Result, err error) {
					b.results[i], b.errs[i] = res, err
					b.arrive()
				})
				return
			}
			if limit, ok := b.r.needsRound(sh, &cmds[i]); ok {
				// A limited reserve of a customer of another shard takes its
				// round; what came before it on its shard is proposed first.
				b.flush(cmds, perShard)
				b.pending.Add(1)
				q := b.r.newRound(sh, &cmds[i], "", b.r.clock.Now())
				q.b, q.slot = b, i
				b.r.startRound(sh, limit, q)
				return
			}
			perShard[sh] = append(perShard[sh], int32(i))
		}
		return
	}
	// A chain: every command in one shard, none that fans out, and closed
	// (the batch's last command must not be Linked).
	ok := kind == protocol.RouteShard && !cmds[j].Linked
	for k := i + 1; k <= j && ok; k++ {
		kk, s := protocol.RouteOf(&cmds[k], shards)
		ok = kk == protocol.RouteShard && s == sh
	}
	switch {
	case ok && b.r.chainNeedsRound(sh, cmds[i:j+1]):
		b.flush(cmds, perShard) // what came before it is proposed first
		b.pending.Add(1)
		b.r.chainRound(sh, engine.CloneCommands(cmds[i:j+1]), b.slots(i, j))
	case ok:
		for k := i; k <= j; k++ {
			perShard[sh] = append(perShard[sh], int32(k))
		}
	case crossShardCart(cmds[i:j+1], shards):
		b.flush(cmds, perShard) // what came before it is proposed first
		b.pending.Add(1)
		b.r.reserveCart(engine.CloneCommands(cmds[i:j+1]), b.slots(i, j))
	default:
		for k := i; k <= j; k++ {
			b.results[k] = engine.Result{Code: engine.CodeBadRequest}
		}
	}
}

// slots returns the completion of a chain of entries i..j: their results,
// or the error for each.
func (b *batch) slots(i, j int) func([]engine.Result, error) {
	return func(rs []engine.Result, err error) {
		for k := i; k <= j; k++ {
			if err != nil {
				b.errs[k] = err
			} else {
				b.results[k] = rs[k-i]
			}
		}
		b.arrive()
	}
}

// proposeShard proposes one shard's entries in groups of at most
// groupMax, cut only between chains.
func (b *batch) proposeShard(shard int, cmds []engine.Command, idx []int32) {
	from := 0
	for from < len(idx) {
		to, cut := from, from
		for to < len(idx) && to-from < b.r.groupMax {
			to++
			if !cmds[idx[to-1]].Linked {
				cut = to
			}
		}
		if cut == from { // a chain longer than a group (groupMax below engine.MaxLinked): cut it, the shard refuses it
			cut = to
		}
		b.proposeGroup(shard, cmds, idx[from:cut])
		from = cut
	}
}

func (b *batch) proposeGroup(shard int, cmds []engine.Command, idx []int32) {
	group := make([]engine.Command, len(idx))
	coord := false
	for k, i := range idx {
		group[k] = cmds[i]
		coord = coord || needsCoordinator(cmds[i].Op)
	}
	if coord = coord && len(b.r.shards) > 1; coord {
		group = engine.CloneCommands(group) // it may come again with claims (coordinator.go)
	}
	if b.stale && allReadOnly(group) {
		for k, i := range idx {
			b.results[i], b.errs[i] = b.r.staleRead(shard, &group[k])
		}
		return
	}
	b.pending.Add(1)
	err := b.r.proposeGroupHere(shard, group, int(idx[0]) > b.firstWrite, func(rs []engine.Result, err error) {
		for k, i := range idx {
			if err != nil {
				b.errs[i] = err
			} else {
				b.results[i] = rs[k]
			}
		}
		if err == nil && coord {
			b.coordinate(shard, group, idx, rs)
		}
		if err == nil && len(b.r.shards) > 1 {
			b.waitReleases(shard, idx, rs)
		}
		b.arrive()
	})
	if err != nil {
		for _, i := range idx {
			b.errs[i] = err
		}
		b.arrive()
	}
}

// waitReleases holds the answers of the group's cancels and returns of
// claimed reservations until their claims' releases arrived (cancelwait.go).
func (b *batch) waitReleases(shard int, idx []int32, rs []engine.Result) {
	for k, i := range idx {
		if rs[k].Code == engine.OK && rs[k].Sent.Seq != 0 {
			b.pending.Add(1)
			b.r.waitRelease(shard, &rs[k], nil, b, int(i))
		} else if rs[k].Code == engine.OK && len(rs[k].Copies) > 0 {
			b.pending.Add(1)
			b.r.waitCopies(shard, &rs[k], nil, b, int(i))
		}
	}
}

// coordinate hands every chain of a group answered claim_required to the
// coordinator, and settles a reserve whose replay names a provisional hold
// (round.go); the batch waits for each.
func (b *batch) coordinate(shard int, group []engine.Command, idx []int32, rs []engine.Result) {
	for from := 0; from < len(group); {
		to := from
		for to < len(group)-1 && group[to].Linked {
			to++
		}
		if named := namedClaim(&rs[from]); from == to && named != "" && group[from].Op == engine.OpReserve {
			b.pending.Add(1)
			limit := b.r.namedLimit(shard, &group[from])
			q := b.r.newRound(shard, &group[from], named, b.r.clock.Now())
			q.b, q.slot = b, int(idx[from])
			b.r.settleNamed(q, &rs[from], limit)
		} else if claimAsked(rs[from:to+1]) >= 0 {
			at := idx[from : to+1]
			b.pending.Add(1)
			first := append([]engine.Result(nil), rs[from:to+1]...)
			b.r.coordinate(shard, group[from:to+1], first, func(out []engine.Result, err error) {
				for k, i := range at {
					if err != nil {
						b.errs[i] = err
					} else {
						b.results[i] = out[k]
					}
				}
				b.arrive()
			})
		}
		from = to + 1
	}
}

func (b *batch) arrive() {
	if b.pending.Add(-1) == 0 {
		b.done(b.results, b.errs)
	}
}
