package router

import (
	"time"

	"github.com/invsys/inv/engine"
)

// Releasing the claims of finished reservations (docs/adr/0050): when a
// claimed reservation is cancelled, returned, expires or is a no-show, its
// item shard queues the release in its replicated state. The shard's
// leader sends each queued release to the customer's shard (release_claim,
// idempotent) and then marks it done on the item shard (claim_released). A
// crash or a change of leader between the two only sends a release again.
const (
	// releaseInterval is how often a leader looks at its queue: a claim
	// outlives its reservation by about this much.
	releaseInterval = 200 * time.Millisecond
	// releaseBatchMax bounds the releases one shard sends per round.
	releaseBatchMax = 64
	// releaseTimeout bounds one release round trip.
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

// releaseRound is one round over the shards: each led shard's queued
// releases, one after the other; a shard's first failure ends its part
// (the rest wait for the next round).
type releaseRound struct {
	r     *Router
	shard int // the shard being served
	rels  []engine.ClaimRelease
	done  func()
}

// ReleaseRound sends, once, the queued releases of every shard this node
// leads (at most releaseBatchMax per shard), and calls done when the round
// is over.
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
		if rr.rels = sh.ClaimReleases(releaseBatchMax); len(rr.rels) > 0 {
			rr.send()
			return
		}
	}
	rr.done()
}

// send delivers the shard's first pending release to the customer's shard,
// then marks it done on the item shard.
func (rr *releaseRound) send() {
	r, rel := rr.r, rr.rels[0]
	deadline := r.clock.Now().Add(releaseTimeout)
	release := &engine.Command{Op: engine.OpReleaseClaim, Claim: []byte(rel.Key)}
	r.runWithin(r.homeShard([]byte(rel.Customer)), release, deadline, "a claim release", func(res engine.Result, err error) {
		if err != nil || res.Code != engine.OK {
			rr.deferred(rel, res, err)
			return
		}
		marked := &engine.Command{Op: engine.OpClaimReleased, ID: rel.ID}
		r.runWithin(rr.shard, marked, deadline, "a release's mark", func(res engine.Result, err error) {
			if err != nil || res.Code != engine.OK {
				rr.deferred(rel, res, err)
				return
			}
			r.stats.releasesSent.Add(1)
			if rr.rels = rr.rels[1:]; len(rr.rels) > 0 {
				rr.send()
				return
			}
			rr.nextShard()
		})
	})
}

func (rr *releaseRound) deferred(rel engine.ClaimRelease, res engine.Result, err error) {
	rr.r.stats.releasesDeferred.Add(1)
	rr.r.log.Debug("claim release deferred", "shard", rr.shard, "reservation", rel.ID, "error", err,
		"code", res.Code.String())
	rr.nextShard()
}
