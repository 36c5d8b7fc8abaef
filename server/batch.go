package server

import (
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// batchCall is one BATCH frame in flight. Its entries are split by shard:
// each shard's share goes to that shard's proposer as one group (so it lands
// in one raft entry), fan-out entries fan out on their own, and the reply
// frame is written once every part has answered, entries in request order.
//
// A linked chain (a cart's lines) is applied atomically by the engine
// within one shard. A chain of reserves that spans shards is a cart the
// node holds shard by shard, all or nothing (cart.go); any other chain
// across shards is refused whole with bad_request.
type batchCall struct {
	s     *Server
	c     *conn
	reqID uint32
	start time.Time
	stale bool // the frame's stale flag: read-only groups are served from this node's state
	// firstWrite is the index of the frame's first mutating command (the
	// frame's length if none): a read after it goes through the log, behind
	// the writes proposed before it, so a frame's entries take effect in
	// order.
	firstWrite int
	ops        []engine.Op
	results    []engine.Result
	errs       []error
	pending    atomic.Int32 // parts not yet answered, plus one while dispatching
}

// serveBatch decodes and dispatches a BATCH (event loop). It reports
// whether the batch was accepted (it then counts as one frame in flight).
func (s *Server) serveBatch(c *conn, f protocol.Frame, start time.Time) bool {
	cmds, err := protocol.DecodeBatchRequest(f.Payload, c.cmds[:0])
	// The commands alias the frame; every proposal below copies them, and
	// the scratch slice is cleared so that it pins no read buffer.
	defer func() { clear(cmds); c.cmds = cmds[:0] }()
	if err != nil {
		c.sendError(f.ReqID, protocol.CodeOf(err), err.Error())
		return false
	}
	// A BATCH is refused whole if its role may not send one of its
	// commands: nothing of it runs (auth.go, pickuplimit.go).
	for i := range cmds {
		if !s.authorize(c, f.ReqID, &cmds[i]) || !s.pickupAllowed(c, f.ReqID, &cmds[i]) {
			return false
		}
	}
	n := len(cmds)
	b := &batchCall{s: s, c: c, reqID: f.ReqID, start: start, stale: f.Flags.Stale(),
		ops: make([]engine.Op, n), results: make([]engine.Result, n), errs: make([]error, n)}
	b.firstWrite = n
	for i := range cmds {
		b.ops[i] = cmds[i].Op
		if b.firstWrite == n && cmds[i].Op.Mutating() {
			b.firstWrite = i
		}
	}
	b.pending.Store(1)
	perShard := make([][]int32, len(s.shards))
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
	return true
}

// flush proposes the entries gathered per shard so far. A shard's proposer
// applies what it is given in order, so proposing everything before a
// fan-out first, then the fan-out, keeps each shard's entries in request
// order.
func (b *batchCall) flush(cmds []engine.Command, perShard [][]int32) {
	for shard, idx := range perShard {
		if len(idx) > 0 {
			b.proposeShard(shard, cmds, idx)
			perShard[shard] = nil
		}
	}
}

// place routes the chain cmds[i..j] (a single command when i == j).
func (b *batchCall) place(cmds []engine.Command, i, j int, perShard [][]int32) {
	shards := len(b.s.shards)
	if i == j && !cmds[i].Linked {
		switch sh := route(&cmds[i], shards); sh {
		case routeNoShard:
			b.results[i] = engine.Result{Code: engine.CodeNotFound}
		case routeAll:
			b.flush(cmds, perShard)
			b.pending.Add(1)
			b.s.fanOutVia(&cmds[i], i > b.firstWrite, func(r *engine.Result, err error) {
				b.results[i], b.errs[i] = *r, err
				b.arrive()
			})
		default:
			perShard[sh] = append(perShard[sh], int32(i))
		}
		return
	}
	// A chain: every command in one shard, none that fans out, and closed
	// (the batch's last command must not be Linked).
	sh := route(&cmds[i], shards)
	ok := sh >= 0 && !cmds[j].Linked
	for k := i + 1; k <= j && ok; k++ {
		ok = route(&cmds[k], shards) == sh
	}
	if !ok && crossShardCart(cmds[i:j+1], shards) {
		b.flush(cmds, perShard) // what came before it is proposed first
		chain := cloneCommands(cmds[i : j+1])
		b.pending.Add(1)
		go func() {
			rs, err := b.s.reserveCart(chain)
			for k := range chain {
				if err != nil {
					b.errs[i+k] = err
				} else {
					b.results[i+k] = rs[k]
				}
			}
			b.arrive()
		}()
		return
	}
	if !ok {
		for k := i; k <= j; k++ {
			b.results[k] = engine.Result{Code: engine.CodeBadRequest}
		}
		return
	}
	for k := i; k <= j; k++ {
		perShard[sh] = append(perShard[sh], int32(k))
	}
}

// proposeShard proposes one shard's entries in groups of at most
// GroupMaxCommands, cut only between chains.
func (b *batchCall) proposeShard(shard int, cmds []engine.Command, idx []int32) {
	limit := b.s.cfg.GroupMaxCommands
	from := 0
	for from < len(idx) {
		to, cut := from, from
		for to < len(idx) && to-from < limit {
			to++
			if !cmds[idx[to-1]].Linked {
				cut = to
			}
		}
		if cut == from { // cannot happen: chains are at most engine.MaxLinked <= limit
			cut = to
		}
		b.proposeGroup(shard, cmds, idx[from:cut])
		from = cut
	}
}

func (b *batchCall) proposeGroup(shard int, cmds []engine.Command, idx []int32) {
	group := make([]engine.Command, len(idx))
	coord := false
	for k, i := range idx {
		group[k] = cmds[i]
		coord = coord || needsCoordinator(cmds[i].Op)
	}
	if coord = coord && len(b.s.shards) > 1; coord {
		group = cloneCommands(group) // it may come again with claims (coordinator.go)
	}
	if b.stale && allReadOnly(group) {
		for k, i := range idx {
			b.results[i], b.errs[i] = b.s.staleRead(shard, &group[k])
		}
		return
	}
	b.pending.Add(1)
	err := b.s.proposeGroupVia(shard, group, int(idx[0]) > b.firstWrite, func(rs []engine.Result, err error) {
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
		b.arrive()
	})
	if err != nil {
		for _, i := range idx {
			b.errs[i] = err
		}
		b.arrive()
	}
}

// coordinate hands every chain of a group answered claim_required to the
// coordinator, each on its own goroutine; the batch waits for them.
func (b *batchCall) coordinate(shard int, group []engine.Command, idx []int32, rs []engine.Result) {
	for from := 0; from < len(group); {
		to := from
		for to < len(group)-1 && group[to].Linked {
			to++
		}
		if claimAsked(rs[from:to+1]) >= 0 {
			cmds := group[from : to+1]
			first := append([]engine.Result(nil), rs[from:to+1]...)
			at := idx[from : to+1]
			b.pending.Add(1)
			go func() {
				out, err := b.s.coordinate(shard, cmds, first)
				for k, i := range at {
					if err != nil {
						b.errs[i] = err
					} else {
						b.results[i] = out[k]
					}
				}
				b.arrive()
			}()
		}
		from = to + 1
	}
}

func (b *batchCall) arrive() {
	if b.pending.Add(-1) == 0 {
		b.s.finishBatch(b)
	}
}

// finishBatch writes the BATCH reply (any goroutine).
func (s *Server) finishBatch(b *batchCall) {
	for i, op := range b.ops {
		s.met.count(op, resultCode(&b.results[i], b.errs[i]))
	}
	s.met.observeBatch(len(b.ops), b.start)
	c := b.c
	c.lock()
	if !c.closed {
		start := len(c.out)
		var w protocol.BatchWriter
		w.Begin(c.out, b.reqID, true)
		for i, op := range b.ops {
			addBatchEntry(&w, op, &b.results[i], b.errs[i])
		}
		c.out = w.Finish()
		c.finishFrame(start, b.reqID)
	}
	c.answered(b.reqID, opBatch)
	c.unlock(false)
	s.inflight.Add(-1)
}

func addBatchEntry(w *protocol.BatchWriter, op engine.Op, r *engine.Result, err error) {
	if err != nil {
		if nl, ok := notLeaderOf(err); ok {
			w.AddNotLeader(&nl)
			return
		}
		w.AddError(&protocol.ErrorReply{Code: codeOf(err), Message: clip(err.Error())})
		return
	}
	if r.Code == engine.OK && hasReadData(r) {
		if cerr := protocol.CheckResult(r); cerr != nil {
			w.AddError(&protocol.ErrorReply{Code: engine.CodeTooLarge, Message: clip(cerr.Error())})
			return
		}
	}
	w.AddResult(op, r)
}

func clip(msg string) string {
	if len(msg) > maxErrorMessageBytes {
		return msg[:maxErrorMessageBytes]
	}
	return msg
}
