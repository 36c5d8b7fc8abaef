package router

import (
	"sync/atomic"
	"time"

	"github.com/invsys/inv/engine"
)

// Delivering the outbox (docs/adr/0070). A shard's Apply appends, in the
// same entry as their cause, messages for other shards (today:
// release_claim, when a claimed reservation is cancelled, returned,
// expires or is a no-show) to its replicated outbox, numbered per
// destination. The shard's leader delivers them: per destination, the
// pending messages go as one group to the destination's shard (one raft
// entry there; here, or as a BATCH at its leader's node, routed by each
// message's customer), which applies each once and in order (a duplicate
// is answered OK and changes nothing, a gap out_of_order); then delivered
// on the shard itself drops what arrived. A crash or a change of leader
// between the two only delivers again.
//
// Delivery is event-driven: the apply that appends a message calls
// OutboxChanged (the server wires raftstore's outbox hook to it), which
// wakes Run's loop. A delivery that fails waits for the sweep timer, which
// retries every shard with messages still pending (and so picks up what a
// new leader inherits). One delivery per shard is in flight at a time.

const (
	// deliverBatchMax bounds the messages one group carries: one entry on
	// the destination, well under a proposer's batch.
	deliverBatchMax = 256
	// deliverTimeout bounds one delivery and its trim.
	deliverTimeout = 5 * time.Second
)

type deliverer struct {
	kick  chan struct{} // capacity 1: Run's loop has something to look at
	dirty []atomic.Bool // by shard: messages were appended since the last delivery began
	busy  []atomic.Bool // by shard: a delivery is in flight
}

func (d *deliverer) init(shards int) {
	d.kick = make(chan struct{}, 1)
	d.dirty = make([]atomic.Bool, shards)
	d.busy = make([]atomic.Bool, shards)
}

// OutboxChanged tells the router that an apply on shard appended outbox
// messages. It returns at once (it runs on the shard's apply goroutine):
// Run's loop delivers.
func (r *Router) OutboxChanged(shard int) {
	if shard < 0 || shard >= len(r.outbox.dirty) {
		return
	}
	r.outbox.dirty[shard].Store(true)
	select {
	case r.outbox.kick <- struct{}{}:
	default:
	}
}

// DeliverChanged starts a delivery for every shard this node leads whose
// outbox changed since its last delivery began (Run's loop calls it on
// each kick; the tests' scripts call it directly).
func (r *Router) DeliverChanged() {
	for i := range r.outbox.dirty {
		if r.outbox.dirty[i].Load() {
			r.deliver(i)
		}
	}
}

// deliverPending starts a delivery for every shard this node leads that
// has messages pending (the sweep timer's retry).
func (r *Router) deliverPending() {
	for i, sh := range r.shards {
		if sh != nil && sh.IsLeader() && len(sh.OutboxPending()) > 0 {
			r.outbox.dirty[i].Store(true)
			r.deliver(i)
		}
	}
}

// deliver sends shard's pending messages, one group per destination, if
// this node leads it and no delivery of it is in flight. Once every
// destination answered, a shard whose outbox changed meanwhile goes again.
func (r *Router) deliver(shard int) {
	sh := r.shards[shard]
	if sh == nil || !sh.IsLeader() || !r.outbox.busy[shard].CompareAndSwap(false, true) {
		return
	}
	r.outbox.dirty[shard].Store(false)
	queues := sh.OutboxPending()
	if len(queues) == 0 {
		r.deliveryDone(shard)
		return
	}
	var pending atomic.Int32
	pending.Store(int32(len(queues)))
	deadline := r.clock.Now().Add(deliverTimeout)
	for _, q := range queues {
		r.deliverTo(shard, q.To, deadline, func() {
			if pending.Add(-1) == 0 {
				r.deliveryDone(shard)
			}
		})
	}
}

func (r *Router) deliveryDone(shard int) {
	r.outbox.busy[shard].Store(false)
	if r.outbox.dirty[shard].Load() {
		r.deliver(shard)
	}
}

// deliverTo sends shard's pending messages to one destination as one
// group, then trims what arrived; then calls then.
func (r *Router) deliverTo(shard int, to uint16, deadline time.Time, then func()) {
	msgs := r.shards[shard].Outbox(to, deliverBatchMax)
	if len(msgs) == 0 {
		then()
		return
	}
	cmds := make([]engine.Command, len(msgs))
	for i := range msgs {
		cmds[i] = msgs[i].Command(uint16(shard))
	}
	r.runGroupAny(int(to), cmds, deadline, "an outbox delivery", func(rs []engine.Result, err error) {
		upTo := appliedUpTo(msgs, rs, err)
		if upTo == 0 || upTo < msgs[len(msgs)-1].Seq {
			r.stats.deliveryRetries.Add(1) // the rest waits for the sweep timer's retry
			r.log.Debug("outbox delivery cut short", "shard", shard, "to", to, "up_to", upTo, "error", err)
		}
		if upTo == 0 {
			then()
			return
		}
		r.waits.arrived(r, shard, to, upTo)
		trim := &engine.Command{Op: engine.OpDelivered, ToShard: to, Seq: upTo}
		r.runWithin(shard, trim, deadline, "an outbox trim", func(res engine.Result, err error) {
			if err == nil && res.Code == engine.OK {
				r.stats.delivered.Add(uint64(res.Qty))
			} else {
				r.log.Debug("outbox trim deferred", "shard", shard, "to", to, "seq", upTo, "error", err, "code", res.Code.String())
			}
			then()
		})
	})
}

// appliedUpTo is the number of the last message a destination took: every
// one before the first out_of_order (a message that was refused otherwise,
// malformed, still took its number); 0 when the group failed.
func appliedUpTo(msgs []engine.Message, rs []engine.Result, err error) uint64 {
	if err != nil || len(rs) != len(msgs) {
		return 0
	}
	var upTo uint64
	for i := range rs {
		if rs[i].Code == engine.CodeOutOfOrder {
			break
		}
		upTo = msgs[i].Seq
	}
	return upTo
}
