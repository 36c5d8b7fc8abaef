package router

import (
	"sync"
	"sync/atomic"
	"unsafe"

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

	// The record's scratch, kept with it in batchPool so that a BATCH
	// allocates nothing in the common case. Each is sized for the whole
	// frame before it is split, so that slices into it stay put while the
	// frame is in flight.
	perShard [][]int32        // entries gathered per shard, not yet proposed
	idx      []int32          // the groups' entry indexes, group after group
	cmds     []engine.Command // the groups' commands, group after group
	buf      []byte           // the bytes of the coordinated groups' commands (copyBytes)
	parts    []*part          // the groups' completions; nparts in use
	nparts   int
}

// part is one group of a batch proposed to one shard: its completion,
// bound once (fn), so that proposing a group allocates no closure.
type part struct {
	b     *batch
	shard int
	idx   []int32          // the group's entries in the frame
	group []engine.Command // the group as proposed
	coord bool             // the group may ask for the coordinator
	fn    func([]engine.Result, error)
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

// batchKeepBytes bounds the scratch a pooled record keeps: a frame larger
// than this (a bulk catalogue put) leaves its arrays to the collector.
const batchKeepBytes = 256 << 10

// newBatch takes a record for a frame of cmds from the pool, its scratch
// sized for the whole frame.
func (r *Router) newBatch(cmds []engine.Command, stale bool, done func([]engine.Result, []error)) *batch {
	b := batchPool.Get().(*batch)
	n := len(cmds)
	b.r, b.stale, b.firstWrite, b.done = r, stale, firstWrite(cmds), done
	b.results = grown(b.results, n)
	b.errs = grown(b.errs, n)
	if len(b.perShard) != len(r.shards) {
		b.perShard = make([][]int32, len(r.shards))
	}
	if cap(b.idx) < n {
		b.idx = make([]int32, 0, n)
	}
	if cap(b.cmds) < n {
		b.cmds = make([]engine.Command, 0, n)
	}
	return b
}

// grown returns s with length n, its elements zero, reusing its array
// when it has room.
func grown[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// free hands the record back to the pool once done returned: nothing of
// it (results, errors, commands) is read after that.
func (b *batch) free() {
	clear(b.results)
	clear(b.errs)
	for i := range b.perShard {
		b.perShard[i] = b.perShard[i][:0]
	}
	clear(b.cmds) // drops what they point at: a connection's read buffer, b.buf
	for _, p := range b.parts[:b.nparts] {
		p.idx, p.group = nil, nil
	}
	b.r, b.done, b.nparts = nil, nil, 0
	b.idx, b.cmds, b.buf = b.idx[:0], b.cmds[:0], b.buf[:0]
	if cap(b.results)*int(unsafe.Sizeof(engine.Result{})) > batchKeepBytes ||
		cap(b.cmds)*int(unsafe.Sizeof(engine.Command{})) > batchKeepBytes || cap(b.buf) > batchKeepBytes {
		*b = batch{}
	}
	batchPool.Put(b)
}

// newPart returns the next part record of b for a group of shard.
func (b *batch) newPart(shard int, idx []int32, group []engine.Command, coord bool) *part {
	if b.nparts == len(b.parts) {
		p := &part{}
		p.fn = p.answered
		b.parts = append(b.parts, p)
	}
	p := b.parts[b.nparts]
	b.nparts++
	p.b, p.shard, p.idx, p.group, p.coord = b, shard, idx, group, coord
	return p
}

// ServeBatch routes a BATCH's commands and calls done exactly once with
// one result or error per command, in order (any goroutine, perhaps before
// ServeBatch returns). done must not keep the slices it is given: they are
// reused once it returns. cmds may alias a connection's read buffer: every
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
	b := r.newBatch(cmds, stale, done)
	b.pending.Store(1)
	perShard := b.perShard
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
			perShard[shard] = idx[:0]
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
	// The group's indexes and commands go to the record's arrays (sized for
	// the frame: each entry is in one group at most), so that perShard can
	// gather again and nothing is allocated. A group that may come again
	// with claims (coordinator.go) keeps a copy of its bytes too
	// (copyBytes), which the coordinator copies again if it takes the group
	// over.
	at := len(b.idx)
	b.idx = append(b.idx, idx...)
	idx = b.idx[at:len(b.idx):len(b.idx)]
	coord := false
	for _, i := range idx {
		coord = coord || needsCoordinator(cmds[i].Op)
	}
	coord = coord && len(b.r.shards) > 1
	from := len(b.cmds)
	for _, i := range idx {
		b.cmds = append(b.cmds, cmds[i])
	}
	group := b.cmds[from:len(b.cmds):len(b.cmds)]
	if coord {
		b.copyBytes(group)
	}
	if b.stale && allReadOnly(group) {
		for k, i := range idx {
			b.results[i], b.errs[i] = b.r.staleRead(shard, &group[k])
		}
		return
	}
	b.pending.Add(1)
	p := b.newPart(shard, idx, group, coord)
	if err := b.r.proposeGroupRaw(shard, group, int(idx[0]) > b.firstWrite, p.fn); err != nil {
		for _, i := range idx {
			b.errs[i] = err
		}
		b.arrive()
	}
}

// copyBytes points group's byte fields at copies after the earlier groups'
// in b.buf. A buffer without room is replaced, not grown: the earlier
// groups' copies stay where they are, in the old one.
func (b *batch) copyBytes(group []engine.Command) {
	need := engine.BytesOf(group)
	if cap(b.buf)-len(b.buf) < need {
		b.buf = make([]byte, 0, max(2*cap(b.buf), need))
	}
	used := len(b.buf)
	_, copied := engine.CloneCommandsInto(group[:0], b.buf[used:], group)
	b.buf = b.buf[:used+len(copied)]
}

// answered is a group's completion (part.fn).
func (p *part) answered(rs []engine.Result, err error) {
	b, idx := p.b, p.idx
	err = b.r.Hint(err)
	for k, i := range idx {
		if err != nil {
			b.errs[i] = err
		} else {
			b.results[i] = rs[k]
		}
	}
	if err == nil && p.coord {
		b.coordinate(p.shard, p.group, idx, rs)
	}
	if err == nil && len(b.r.shards) > 1 {
		b.waitReleases(p.shard, idx, rs)
	}
	b.arrive()
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
			// The coordinator's own copy: it may propose after its answer,
			// when this record is back in the pool.
			own := engine.CloneCommands(group[from : to+1])
			b.r.coordinate(shard, own, first, func(out []engine.Result, err error) {
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
		b.free()
	}
}
