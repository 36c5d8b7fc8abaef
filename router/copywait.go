package router

import (
	"github.com/invsys/inv/engine"
)

// The reply to a block, unblock or set_tier waits until every shard applied
// the customer's copy (docs/adr/0072): the home commits the change and
// appends one customer_copy message per other shard to its outbox
// (Result.Copies), the outbox's deliverer carries them (outbox.go), and
// the reply goes once each arrived, so that once acknowledged every
// shard's reserve refuses (or serves again) the customer. The wait is
// bounded (Config.CopyWait): past it the operator is answered timeout (the
// change is committed at the home and its copies are durable in the outbox
// and will arrive, but the promise the OK makes does not hold yet; a
// retry pushes the copies again and waits anew). Operator requests are
// rare: each wait allocates its record and arms a timer of its own.

type copyWait struct {
	from     int
	refs     []engine.MessageRef // the copies still on their way
	res      engine.Result
	done     func(engine.Result, error)
	b        *batch // or a BATCH entry
	slot     int
	answered bool
}

// waitCopies answers res (a block's, unblock's or set_tier's on the
// customer's home, shard from) once every copy it names arrived, or
// refuses timeout after CopyWait. Exactly one of done and b is set.
func (r *Router) waitCopies(from int, res *engine.Result, done func(engine.Result, error), b *batch, slot int) {
	cw := &copyWait{from: from, res: *res, done: done, b: b, slot: slot}
	cw.res.Copies = nil
	w := &r.waits
	w.mu.Lock()
	for _, ref := range res.Copies {
		if w.upTo[[2]uint16{uint16(from), ref.To}] < ref.Seq {
			cw.refs = append(cw.refs, ref)
		}
	}
	if len(cw.refs) == 0 {
		w.mu.Unlock()
		cw.answer(nil)
		return
	}
	w.copies = append(w.copies, cw)
	w.mu.Unlock()
	r.clock.AfterFunc(r.copyWait, func() { r.copiesLate(cw) })
}

// copiesArrived drops the copies from shard from to shard to up to seq
// from the waits, and collects those that have nothing left (under mu).
func (w *cancelWaits) copiesArrived(from int, to uint16, seq uint64) (ready []*copyWait) {
	kept := w.copies[:0]
	for _, cw := range w.copies {
		if cw.from == from {
			left := cw.refs[:0]
			for _, ref := range cw.refs {
				if ref.To != to || ref.Seq > seq {
					left = append(left, ref)
				}
			}
			cw.refs = left
		}
		if len(cw.refs) == 0 && !cw.answered {
			cw.answered = true
			ready = append(ready, cw)
			continue
		}
		kept = append(kept, cw)
	}
	clear(w.copies[len(kept):])
	w.copies = kept
	return ready
}

// copiesLate answers a wait whose time is up, if nothing answered it.
func (r *Router) copiesLate(cw *copyWait) {
	w := &r.waits
	w.mu.Lock()
	if cw.answered {
		w.mu.Unlock()
		return
	}
	cw.answered = true
	for i, x := range w.copies {
		if x == cw {
			w.copies = append(w.copies[:i], w.copies[i+1:]...)
			break
		}
	}
	missing := len(cw.refs)
	w.mu.Unlock()
	r.stats.copyWaitsLate.Add(1)
	r.log.Warn("customer copies late: the change is committed at the customer's home, some shards have not applied it yet",
		"home", cw.from, "shards_missing", missing, "copy_wait", r.copyWait)
	cw.answer(&Refusal{engine.CodeTimeout, "the customer's copies did not reach every shard in time; the change is " +
		"committed at the customer's home and its copies will follow: retry to wait for them"})
}

func (cw *copyWait) answer(err error) {
	if cw.b != nil {
		if err != nil {
			cw.b.errs[cw.slot] = err
		} else {
			cw.b.results[cw.slot] = cw.res
		}
		cw.b.arrive()
		return
	}
	cw.done(cw.res, err)
}
