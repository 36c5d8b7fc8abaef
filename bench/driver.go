package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The driver: C connections, each with P requests in flight, one goroutine per
// in-flight slot. Every slot takes the next order of the workload, sends its
// reserve and, after a successful one, the confirm or cancel the order asks
// for; orders are handed out in sequence, so the target sees them in about
// the order of the list, as the peers do.
//
// Closed loop (rate 0): a slot sends its next order as soon as the last one is
// answered, until the duration ends. Open loop (rate R): order i is due at
// start + i/R, every order due within the duration is sent, and its reserve's
// latency is measured from that due time, not from when it was actually sent.
// A stall of the target then shows as the latency of every order that came
// due during the stall, as a user would see it, instead of as one slow sample
// (coordinated omission). A confirm or cancel depends on its reserve's reply,
// so it is sent as soon as that reply comes and timed from then.
//
// An order that a free slot waits for is timed from when the slot wakes up,
// not from its due time: Go's timers on Linux wake up to about a millisecond
// late, and that lateness is the harness's, not the target's. Only an order
// that came due while every slot was busy with the target is timed from its
// due time.

// Ack is what the driver was told about one order's hold.
type Ack struct {
	ID    uint64    // the hold id the reserve returned; 0 = no hold acknowledged
	State HoldState // last state acknowledged: held, confirmed or cancelled
	// Maybe is the state a follow-up whose reply never came (an error) may
	// have moved the hold to; 0 = none. The check accepts State or Maybe.
	Maybe HoldState
}

// Result is what one run of the driver saw.
type Result struct {
	Start    time.Time
	Elapsed  time.Duration // from start until the last reply
	SellOut  time.Duration // from start until the last successful reserve
	Counts   [nKinds][nOutcomes]int64
	Complete bool // every order was sent (the time limit did not stop the run)
	Latency  [nKinds]*Histogram
	Timeline []Second // one entry per second of the run, by reply time
	Acks     []Ack    // by order number
	// ErrorSamples holds the first few distinct error messages with how
	// often each came, to say why errors happened.
	ErrorSamples []string
}

// Total returns the number of replies with outcome o, over all kinds.
func (r *Result) Total(o Outcome) (n int64) {
	for k := range r.Counts {
		n += r.Counts[k][o]
	}
	return n
}

// Requests returns the number of requests sent.
func (r *Result) Requests() (n int64) {
	for o := range nOutcomes {
		n += r.Total(o)
	}
	return n
}

// Orders returns the number of orders started (one reserve each).
func (r *Result) Orders() (n int64) {
	for _, c := range r.Counts[KindReserve] {
		n += c
	}
	return n
}

// Errors returns the requests that were neither a success nor a clear refusal.
func (r *Result) Errors() int64 { return r.Total(OutcomeError) }

// Refused returns the requests clearly refused.
func (r *Result) Refused() int64 { return r.Requests() - r.Total(OutcomeOK) - r.Errors() }

// AllLatency returns the latency of every request, all kinds merged.
func (r *Result) AllLatency() *Histogram {
	h := NewHistogram()
	for _, k := range r.Latency {
		if k != nil {
			h.Merge(k)
		}
	}
	return h
}

// errorSamplesMax bounds the distinct error messages kept: the first few say
// what went wrong; a thousand kinds of failure would say nothing more.
const errorSamplesMax = 8

// errNoHoldID is recorded when a target acknowledges a reserve without a hold
// id: the driver could neither confirm it nor check it, so it is not a success.
var errNoHoldID = errors.New("reserve acknowledged without a hold id")

type driver struct {
	w        *Workload
	cat      *Catalog
	rate     float64 // orders per second; 0 = closed loop
	start    time.Time
	stopAt   time.Time // no new order (due) after this
	giveUpAt time.Time // requests in flight are cancelled at this time: stopAt + grace

	next     atomic.Int64 // next order to hand out
	stopped  atomic.Bool  // the time limit (or the caller) stopped the run early
	acks     []Ack        // each entry written by the one slot that took the order
	timeline timeline
	workers  []*worker

	errMu      sync.Mutex
	errSamples []errorSample
}

type errorSample struct {
	msg string
	n   int64
}

// worker is one in-flight slot. Everything but done and failed is its own;
// those two are read by the progress line while it runs.
type worker struct {
	conn    Conn
	req     Request
	buf     []byte // customer id and key, reused
	latency [nKinds]Histogram
	counts  [nKinds][nOutcomes]int64
	lastOK  time.Duration
	sec     second
	timer   *time.Timer
	done    atomic.Int64
	failed  atomic.Int64
}

// drive runs the workload on conns with cfg.Inflight slots each and returns
// what it saw. It stops handing out orders after cfg.Duration or when ctx
// ends; requests already sent then get cfg.Grace more before their context ends.
func drive(ctx context.Context, cfg *Config, w *Workload, cat *Catalog, conns []Conn, progress *progress) *Result {
	d := &driver{w: w, cat: cat, rate: cfg.Rate, acks: make([]Ack, len(w.Orders))}
	for _, c := range conns {
		for range cfg.Inflight {
			d.workers = append(d.workers, &worker{conn: c, sec: second{index: -1}})
		}
	}
	grace := cfg.Grace
	d.start = time.Now()
	d.stopAt = d.start.Add(cfg.Duration)
	d.giveUpAt = d.stopAt.Add(grace)
	reqCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), d.giveUpAt)
	defer cancel()
	// The caller's cancellation stops new orders at once but, like the time
	// limit, leaves requests in flight their grace period.
	stopReq := context.AfterFunc(ctx, func() {
		time.AfterFunc(grace, cancel)
	})
	defer stopReq()

	if progress != nil {
		progress.begin(d)
		defer progress.end()
	}
	var wg sync.WaitGroup
	for _, wk := range d.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.work(ctx, reqCtx, wk)
		}()
	}
	wg.Wait()
	return d.result(time.Since(d.start))
}

func (d *driver) work(ctx, reqCtx context.Context, wk *worker) {
	for {
		i, due, ok := d.take(ctx, wk)
		if !ok {
			break
		}
		d.order(reqCtx, wk, i, due)
	}
	d.timeline.add(&wk.sec)
	if wk.timer != nil {
		wk.timer.Stop()
	}
}

// take hands out the next order and the time its latency starts from: now
// in closed loop; in open loop its due time if that has passed, else, after
// waiting for it, the time the slot woke up.
func (d *driver) take(ctx context.Context, wk *worker) (i int64, due time.Time, ok bool) {
	now := time.Now()
	// Closed loop stops at the duration. Open loop sends every order due
	// within it, also those that fall due while every slot is busy and are
	// taken later: dropping them would hide the backlog the open loop is
	// there to show. They are sent until the grace period runs out.
	if ctx.Err() != nil || now.After(d.giveUpAt) || d.rate <= 0 && now.After(d.stopAt) {
		d.stopEarly()
		return 0, now, false
	}
	i = d.next.Add(1) - 1
	if i >= int64(len(d.w.Orders)) {
		return 0, now, false
	}
	if d.rate <= 0 {
		return i, now, true
	}
	due = d.start.Add(time.Duration(float64(i) * float64(time.Second) / d.rate))
	if due.After(d.stopAt) {
		d.stopEarly()
		return 0, now, false
	}
	if wait := due.Sub(now); wait > 0 {
		if wk.timer == nil {
			wk.timer = time.NewTimer(wait)
		} else {
			wk.timer.Reset(wait)
		}
		select {
		case <-wk.timer.C:
		case <-ctx.Done():
			d.stopEarly()
			return 0, now, false
		}
		return i, time.Now(), true
	}
	return i, due, true
}

// stopEarly records that orders were left unsent, unless all were handed out.
func (d *driver) stopEarly() {
	if d.next.Load() < int64(len(d.w.Orders)) {
		d.stopped.Store(true)
	}
}

// order sends order i's reserve and its follow-up; due is when the reserve
// was due, the start of its latency.
func (d *driver) order(ctx context.Context, wk *worker, i int64, due time.Time) {
	o := d.w.Orders[i]
	wk.fill(d.cat, i, o, KindReserve, 0)
	out, id, err := wk.conn.Reserve(ctx, &wk.req)
	if err == nil && out == OutcomeOK && id == 0 {
		err = errNoHoldID
	}
	out = d.classify(out, err)
	now := time.Now()
	d.record(wk, KindReserve, out, now.Sub(due), now)
	if out != OutcomeOK {
		return
	}
	d.acks[i] = Ack{ID: id, State: HoldHeld}
	wk.lastOK = now.Sub(d.start)
	if o.Then == KindReserve {
		return
	}
	wk.fill(d.cat, i, o, o.Then, id)
	t0 := time.Now()
	var target HoldState
	if o.Then == KindConfirm {
		target = HoldConfirmed
		out, err = wk.conn.Confirm(ctx, &wk.req)
	} else {
		target = HoldCancelled
		out, err = wk.conn.Cancel(ctx, &wk.req)
	}
	out = d.classify(out, err)
	now = time.Now()
	d.record(wk, o.Then, out, now.Sub(t0), now)
	switch out {
	case OutcomeOK:
		d.acks[i].State = target
	case OutcomeError:
		d.acks[i].Maybe = target
	}
}

// fill sets the worker's request for one request of order i.
func (wk *worker) fill(cat *Catalog, i int64, o Order, k Kind, holdID uint64) {
	wk.buf = AppendCustomerID(wk.buf[:0], i)
	n := len(wk.buf)
	wk.buf = AppendKey(wk.buf, i, k)
	wk.req = Request{
		Kind: k, Order: i, SKU: cat.SKU(o.SKU), Store: cat.Store(o.Store),
		Customer: wk.buf[:n:n], Key: wk.buf[n:], Qty: 1, Window: WindowStart(int(o.Win)),
		TTL: cat.HoldTTL, HoldID: holdID,
	}
}

func (d *driver) classify(out Outcome, err error) Outcome {
	if err == nil && out < nOutcomes {
		return out
	}
	if err != nil {
		d.errMu.Lock()
		msg := err.Error()
		i := slices.IndexFunc(d.errSamples, func(e errorSample) bool { return e.msg == msg })
		if i >= 0 {
			d.errSamples[i].n++
		} else if len(d.errSamples) < errorSamplesMax {
			d.errSamples = append(d.errSamples, errorSample{msg, 1})
		}
		d.errMu.Unlock()
	}
	return OutcomeError
}

func (d *driver) record(wk *worker, k Kind, out Outcome, lat time.Duration, now time.Time) {
	us := lat.Microseconds()
	wk.latency[k].Record(us)
	wk.counts[k][out]++
	sec := int(now.Sub(d.start) / time.Second)
	if sec != wk.sec.index {
		d.timeline.add(&wk.sec)
		wk.sec.reset(sec)
	}
	wk.sec.add(out, us)
	wk.done.Add(1)
	if out == OutcomeError {
		wk.failed.Add(1)
	}
}

func (d *driver) result(elapsed time.Duration) *Result {
	r := &Result{Start: d.start, Elapsed: elapsed, Complete: !d.stopped.Load(), Acks: d.acks}
	for k := range r.Latency {
		r.Latency[k] = NewHistogram()
	}
	for _, wk := range d.workers {
		for k := range wk.counts {
			for o := range wk.counts[k] {
				r.Counts[k][o] += wk.counts[k][o]
			}
			r.Latency[k].Merge(&wk.latency[k])
		}
		r.SellOut = max(r.SellOut, wk.lastOK)
	}
	r.Timeline = d.timeline.seconds
	for _, e := range d.errSamples {
		r.ErrorSamples = append(r.ErrorSamples, fmt.Sprintf("%s (%d times)", e.msg, e.n))
	}
	return r
}

// progressCounts sums the live counters for the progress line.
func (d *driver) progressCounts() (done, failed, orders int64) {
	for _, wk := range d.workers {
		done += wk.done.Load()
		failed += wk.failed.Load()
	}
	return done, failed, min(d.next.Load(), int64(len(d.w.Orders)))
}
