package server

import (
	"context"
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
//
// This is the single-node-first form the router's deliverer replaces: one
// command per message (forwarded alone in SHARD_CALL when another node
// leads the destination), on a timer and on a kick.
const (
	// releaseInterval is how often a leader looks at its outbox: a claim
	// outlives its reservation by about this much.
	releaseInterval = 200 * time.Millisecond
	// releaseBatchMax bounds the messages one shard sends per destination per round.
	releaseBatchMax = 64
	// releaseTimeout bounds one round trip.
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
				s.deliverOutbox(i, sh.FSM().OutboxPending())
			}
		}
	}
}

// kickRelease asks for a delivery round now (a cart's lines were just
// cancelled: their claims should not wait for the next tick).
func (s *Server) kickRelease() {
	select {
	case s.releaseNow <- struct{}{}:
	default:
	}
}

// deliverOutbox sends one shard's pending messages, destination by
// destination, and trims what arrived; the first failure ends a
// destination's round (the rest wait for the next, and start again from
// the first undelivered message).
func (s *Server) deliverOutbox(shard int, queues []engine.OutboxQueue) {
	for _, q := range queues {
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		var upTo uint64
		for _, m := range s.shards[shard].FSM().Outbox(q.To, releaseBatchMax) {
			cmd := m.Command(uint16(shard))
			r, err := s.run(ctx, int(q.To), &cmd)
			if err != nil || r.Code != engine.OK {
				s.log.Debug("outbox delivery deferred", "shard", shard, "to", q.To, "seq", m.Seq, "error", err, "code", r.Code.String())
				break
			}
			upTo = m.Seq
		}
		if upTo > 0 {
			r, err := s.run(ctx, shard, &engine.Command{Op: engine.OpDelivered, ToShard: q.To, Seq: upTo})
			if err != nil || r.Code != engine.OK {
				s.log.Debug("outbox trim deferred", "shard", shard, "to", q.To, "seq", upTo, "error", err, "code", r.Code.String())
			}
		}
		cancel()
	}
}
