package server

import (
	"context"
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

// releaseClaims runs until the server stops (its own goroutine).
func (s *Server) releaseClaims() {
	defer s.bgWG.Done()
	t := time.NewTicker(releaseInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopping:
			return
		case <-t.C:
		case <-s.releaseNow:
		}
		for i, sh := range s.shards {
			if sh.IsLeader() {
				s.releaseShard(i, sh.FSM().ClaimReleases(releaseBatchMax))
			}
		}
	}
}

// kickRelease asks for a release round now (a cart's lines were just
// cancelled: their claims should not wait for the next tick).
func (s *Server) kickRelease() {
	select {
	case s.releaseNow <- struct{}{}:
	default:
	}
}

// releaseShard sends one shard's pending releases; the first failure ends
// the round (the rest wait for the next).
func (s *Server) releaseShard(shard int, rels []engine.ClaimRelease) {
	for _, rel := range rels {
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		r, err := s.run(ctx, s.homeShard([]byte(rel.Customer)), &engine.Command{Op: engine.OpReleaseClaim, Claim: []byte(rel.Key)})
		if err == nil && r.Code == engine.OK {
			r, err = s.run(ctx, shard, &engine.Command{Op: engine.OpClaimReleased, ID: rel.ID})
		}
		cancel()
		if err != nil || r.Code != engine.OK {
			s.log.Debug("claim release deferred", "shard", shard, "reservation", rel.ID, "error", err, "code", r.Code.String())
			return
		}
	}
}
