package router

import (
	"sync"
	"time"

	"github.com/invsys/inv/engine"
)

// The reply to the cancel or return of a claimed reservation (and to the
// leave of a waitlist entry that carried a claim, docs/adr/0112) waits
// until the outbox's release of its claim reached the customer's home
// (docs/adr/0070):
// the DOMAIN says a cancel releases the units at once, and the customer's
// limit is one of them, so a reserve sent right after the reply finds the
// limit freed. The wait is bounded (Config.CancelWait): past it the cancel
// is answered anyway (its release is durable in the outbox and will
// arrive) and counted (Stats.CancelWaitsLate).
//
// Waits are records in one FIFO (every wait is CancelWait long, so the
// oldest ends first) under one mutex, with one timer armed for the head:
// no goroutine per cancel.

type cancelWaits struct {
	mu    sync.Mutex
	q     []cancelWait
	armed bool                 // a timer is set for q's head
	upTo  map[[2]uint16]uint64 // (from, to) → the last message number the destination took
	ready []cancelWait         // answers collected under mu, sent after (reused)
	// copies are the block, unblock and set_tier replies waiting for their
	// customer copies (copywait.go), under the same mutex and marks.
	copies []*copyWait
}

type cancelWait struct {
	from     int
	ref      engine.MessageRef
	deadline time.Time
	res      engine.Result
	done     func(engine.Result, error)
	b        *batch // or a BATCH entry
	slot     int
	answered bool
}

// waitRelease answers res (a cancel's or return's, on shard from, whose
// Sent names its claim's release) once the release arrived, or at the
// latest after CancelWait. Exactly one of done and b is set.
func (r *Router) waitRelease(from int, res *engine.Result, done func(engine.Result, error), b *batch, slot int) {
	w := &r.waits
	w.mu.Lock()
	if w.upTo[[2]uint16{uint16(from), res.Sent.To}] >= res.Sent.Seq {
		w.mu.Unlock()
		answerWait(&cancelWait{res: *res, done: done, b: b, slot: slot})
		return
	}
	w.q = append(w.q, cancelWait{from: from, ref: res.Sent, deadline: r.clock.Now().Add(r.cancelWait), res: *res,
		done: done, b: b, slot: slot})
	arm := !w.armed
	w.armed = true
	w.mu.Unlock()
	if arm {
		r.clock.AfterFunc(r.cancelWait, r.expireFn)
	}
}

// arrived records that shard to took shard from's messages up to seq,
// and answers the waits they end.
func (w *cancelWaits) arrived(r *Router, from int, to uint16, seq uint64) {
	w.mu.Lock()
	if w.upTo == nil {
		w.upTo = make(map[[2]uint16]uint64)
	}
	k := [2]uint16{uint16(from), to}
	w.upTo[k] = max(w.upTo[k], seq)
	for i := range w.q {
		e := &w.q[i]
		if !e.answered && e.from == from && e.ref.To == to && e.ref.Seq <= seq {
			e.answered = true
			w.ready = append(w.ready, *e)
		}
	}
	ready := w.take()
	copies := w.copiesArrived(from, to, seq)
	w.mu.Unlock()
	for i := range ready {
		answerWait(&ready[i])
	}
	for _, cw := range copies {
		cw.answer(nil)
	}
}

// expireWaits answers the waits whose time is up and sets the timer for
// the next (the clock's timer, bound once in New).
func (r *Router) expireWaits() {
	w := &r.waits
	now := r.clock.Now()
	w.mu.Lock()
	for i := range w.q {
		e := &w.q[i]
		if e.deadline.After(now) {
			break
		}
		if !e.answered {
			e.answered = true
			w.ready = append(w.ready, *e)
			r.stats.cancelWaitsLate.Add(1)
		}
	}
	ready := w.take()
	var next time.Duration
	if w.armed = len(w.q) > 0; w.armed {
		next = max(w.q[0].deadline.Sub(now), time.Millisecond)
	}
	w.mu.Unlock()
	if next > 0 {
		r.clock.AfterFunc(next, r.expireFn)
	}
	for i := range ready {
		answerWait(&ready[i])
	}
}

// take drops the answered waits at the head and hands over the answers
// gathered (under mu; the caller sends them after unlocking).
func (w *cancelWaits) take() []cancelWait {
	n := 0
	for n < len(w.q) && w.q[n].answered {
		n++
	}
	if n > 0 {
		clear(w.q[:n])
		w.q = append(w.q[:0], w.q[n:]...)
	}
	ready := w.ready
	w.ready = nil
	return ready
}

func answerWait(e *cancelWait) {
	if e.b != nil {
		e.b.results[e.slot], e.b.errs[e.slot] = e.res, nil
		e.b.arrive()
		return
	}
	e.done(e.res, nil)
}
