package router

import (
	"strconv"
	"time"
)

// Step names what a StepObserver is told about: one step of a
// coordination (coordinator.go), or the whole.
type Step uint8

const (
	// StepClaim: the claim, settle or extend on the customer's shard.
	StepClaim Step = iota
	// StepHold: the request run again on its item's shard with its claim
	// attached (the hold of a reserve; the confirm or extend itself).
	StepHold
	// StepRelease: a refused request's claim given back.
	StepRelease
	// StepCoordination: the whole coordination, from the first
	// claim_required to the answer.
	StepCoordination

	// StepCount is the number of steps, for tables indexed by Step.
	StepCount
)

// StepObserver is told how long a step of a coordination took, from its
// proposal to its answer (whatever the answer: a step that timed out took
// the coordination's bound), on the goroutine that answered it. It must
// be quick and must not block. Coordinations are the rare requests that
// take claims; the others are never observed here.
type StepObserver func(step Step, took time.Duration)

// observeStep tells the observer, if any, that step ended now, having
// begun at start (both read from the router's Clock).
func (r *Router) observeStep(step Step, start time.Time) {
	if r.observe != nil {
		r.observe(step, r.clock.Now().Sub(start))
	}
}

// String returns claim, hold, release or coordination.
func (s Step) String() string {
	switch s {
	case StepClaim:
		return "claim"
	case StepHold:
		return "hold"
	case StepRelease:
		return "release"
	case StepCoordination:
		return "coordination"
	}
	return "step_" + strconv.Itoa(int(s))
}
