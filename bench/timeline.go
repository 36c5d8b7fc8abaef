package bench

import "sync"

// The run's timeline: replies and latency per second, for the HTML report's
// charts over time. Each worker counts its current second on its own and adds
// it to the shared timeline when its replies move on to the next second, so
// the lock is taken about once per worker per second, not per request.

// Second is one second of the run, by the time replies came.
type Second struct {
	OK, Refused, Errors int64
	Latency             Histogram
}

// Requests returns the replies of the second.
func (s *Second) Requests() int64 { return s.OK + s.Refused + s.Errors }

// timelineSecondsMax bounds the timeline's memory (a few KB a second): replies
// after an hour are counted in the last second.
const timelineSecondsMax = 3600

// second is a worker's tally of its current second.
type second struct {
	index int // seconds since the start; -1 = nothing yet
	Second
}

func (s *second) add(o Outcome, us int64) {
	switch {
	case o == OutcomeOK:
		s.OK++
	case o.Refused():
		s.Refused++
	default:
		s.Errors++
	}
	s.Latency.Record(us)
}

func (s *second) reset(index int) {
	s.index = index
	s.OK, s.Refused, s.Errors = 0, 0, 0
	s.Latency.Reset()
}

type timeline struct {
	mu      sync.Mutex
	seconds []Second
}

// add merges a worker's second into the timeline.
func (t *timeline) add(s *second) {
	if s.index < 0 || s.Requests() == 0 {
		return
	}
	i := min(s.index, timelineSecondsMax-1)
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.seconds) <= i {
		t.seconds = append(t.seconds, Second{})
	}
	dst := &t.seconds[i]
	dst.OK += s.OK
	dst.Refused += s.Refused
	dst.Errors += s.Errors
	dst.Latency.Merge(&s.Latency)
}
