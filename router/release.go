package router

import (
	"time"

	"github.com/invsys/inv/engine"
)

// Delivering the outbox (docs/adr/0070): a shard's Apply appends a message
// for another shard (today: release_claim, when a claimed reservation is
// cancelled, returned, expires or is a no-show) to its replicated outbox.
// The shard's leader delivers each to its destination (the message's
// command, numbered; a duplicate is answered OK and changes nothing) and
// then proposes delivered on its own shard, which drops what arrived. A
// crash or a change of leader between the two only delivers again.
const (
	// releaseInterval is how often a leader looks at its outbox: a claim
	// outlives its reservation by about this much.
	releaseInterval = 200 * time.Millisecond
	// releaseBatchMax bounds the messages one shard sends per destination per round.
	releaseBatchMax = 64
	// releaseTimeout bounds one round trip.
	releaseTimeout = 5 * time.Second
)

// RunReleases sends the queued releases of the shards this node leads,
// every releaseInterval and whenever KickRelease asks, until stop is
// closed; it returns once the round in progress is over. It blocks: the
// server runs it on a goroutine of its own, for a node of several shards.
func (r *Router) RunReleases(stop <-chan struct{}) {
	t := time.NewTicker(releaseInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		case <-r.releaseNow:
		}
		over := make(chan struct{})
		r.ReleaseRound(func() { close(over) })
		<-over // every step is bounded by releaseTimeout
	}
}

// KickRelease asks for a release round now (a cart's lines were just
// cancelled: their claims should not wait for the next tick).
func (r *Router) KickRelease() {
	select {
	case r.releaseNow <- struct{}{}:
	default:
	}
}

// releaseRound is one round over the shards: each led shard's pending
// messages, destination by destination, message by message; the first
// failure ends a destination's part (the rest wait for the next round and
// start again from the first undelivered message).
type releaseRound struct {
	r     *Router
	shard int // the shard being served
	dests []engine.OutboxQueue
	msgs  []engine.Message
	upTo  uint64 // the last message of msgs delivered
	done  func()
}

// ReleaseRound delivers, once, the pending outbox messages of every shard
// this node leads (at most releaseBatchMax per destination), and calls done
// when the round is over.
func (r *Router) ReleaseRound(done func()) {
	rr := &releaseRound{r: r, shard: -1, done: done}
	rr.nextShard()
}

func (rr *releaseRound) nextShard() {
	for rr.shard++; rr.shard < len(rr.r.shards); rr.shard++ {
		sh := rr.r.shards[rr.shard]
		if sh == nil || !sh.IsLeader() {
			continue
		}
		if rr.dests = sh.OutboxPending(); len(rr.dests) > 0 {
			rr.nextDest()
			return
		}
	}
	rr.done()
}

func (rr *releaseRound) nextDest() {
	if len(rr.dests) == 0 {
		rr.nextShard()
		return
	}
	q := rr.dests[0]
	rr.dests = rr.dests[1:]
	rr.msgs, rr.upTo = rr.r.shards[rr.shard].Outbox(q.To, releaseBatchMax), 0
	rr.send(q.To, rr.r.clock.Now().Add(releaseTimeout))
}

// send delivers the destination's next message, then, once every one went
// or one failed, trims what arrived.
func (rr *releaseRound) send(to uint16, deadline time.Time) {
	r := rr.r
	if len(rr.msgs) == 0 {
		rr.trim(to, deadline)
		return
	}
	m := rr.msgs[0]
	cmd := m.Command(uint16(rr.shard))
	r.runWithin(int(to), &cmd, deadline, "an outbox delivery", func(res engine.Result, err error) {
		if err != nil || res.Code != engine.OK {
			rr.deferred(to, m.Seq, res, err)
			rr.trim(to, deadline)
			return
		}
		rr.upTo, rr.msgs = m.Seq, rr.msgs[1:]
		rr.send(to, deadline)
	})
}

func (rr *releaseRound) trim(to uint16, deadline time.Time) {
	r := rr.r
	if rr.upTo == 0 {
		rr.nextDest()
		return
	}
	n := rr.upTo
	trim := &engine.Command{Op: engine.OpDelivered, ToShard: to, Seq: n}
	r.runWithin(rr.shard, trim, deadline, "an outbox trim", func(res engine.Result, err error) {
		if err != nil || res.Code != engine.OK {
			rr.deferred(to, n, res, err)
		} else {
			r.stats.releasesSent.Add(uint64(res.Qty))
		}
		rr.nextDest()
	})
}

func (rr *releaseRound) deferred(to uint16, seq uint64, res engine.Result, err error) {
	rr.r.stats.releasesDeferred.Add(1)
	rr.r.log.Debug("outbox delivery deferred", "shard", rr.shard, "to", to, "seq", seq, "error", err,
		"code", res.Code.String())
}
