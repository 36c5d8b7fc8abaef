package router

import "time"

// Run delivers the outboxes of the shards this node leads when an apply
// appends to them (OutboxChanged), and on the sweep timer sweeps the
// claims and provisional holds whose deadline passed and retries the
// deliveries that failed, until stop is closed. It blocks: the server runs
// it on a goroutine of its own. Every step it starts is asynchronous, so a
// slow shard never holds up the others.
func (r *Router) Run(stop <-chan struct{}) {
	if len(r.shards) < 2 {
		<-stop // a single shard sends no messages and takes no claims
		return
	}
	t := time.NewTicker(r.sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-r.outbox.kick:
			r.DeliverChanged()
		case <-t.C:
			r.SweepRound()
			r.deliverPending()
		}
	}
}
