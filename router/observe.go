package router

import "time"

// Step names one step of a coordination (docs/adr/0070), for latency
// histograms: the router measures, the server records (it holds the
// metrics library; the router only calls an Observer).
type Step uint8

const (
	// StepPeek is the read of the item on the applied state that decides
	// whether a reserve needs a claim (no commit).
	StepPeek Step = iota
	// StepClaim is the claim on the customer's home, proposed to answered.
	StepClaim
	// StepHold is the provisional hold on the item's shard, proposed to
	// answered; it runs beside StepClaim.
	StepHold
	// StepResolve is the resolve of a hold whose answer waits for it (past
	// the deadline), or of a confirm's provisional hold (with the claim's read).
	StepResolve
	// StepWhole is a whole coordination, from the request to its answer.
	StepWhole
	// StepCount is the number of steps.
	StepCount
)

var stepNames = [StepCount]string{"peek", "claim", "hold", "resolve", "whole"}

func (s Step) String() string {
	if s < StepCount {
		return stepNames[s]
	}
	return "step"
}

// Observer receives each coordination step's latency. It is called on
// proposers' goroutines and must return at once without blocking.
type Observer interface {
	ObserveStep(step Step, d time.Duration)
}

type observerBox struct{ o Observer }

// SetObserver makes o receive the coordinations' step latencies (nil: none).
func (r *Router) SetObserver(o Observer) {
	if o == nil {
		r.observer.Store(nil)
		return
	}
	r.observer.Store(&observerBox{o})
}

// observe reports a step that began at start.
func (r *Router) observe(step Step, start time.Time) {
	if b := r.observer.Load(); b != nil {
		b.o.ObserveStep(step, r.clock.Now().Sub(start))
	}
}
