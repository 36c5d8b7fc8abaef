package server

import (
	"sync"
	"time"
)

// What the network edge refuses (oversize frames, connections over a
// limit, failing accepts) is counted in metrics always, and logged at Warn
// through a warnLimiter: a flood of refusals is one attacker's choice, and
// must not become a flood of log lines. A line that is let through names
// how many were held back since the last one.

// warnLimiter lets edgeWarnBurst lines through at once and edgeWarnPerSecond
// after that, for one kind of event.
type warnLimiter struct {
	mu         sync.Mutex
	b          bucket // pickuplimit.go's token bucket
	suppressed int
}

// allow reports whether a line may be logged now and, when it may, how many
// were held back before it.
func (l *warnLimiter) allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.b.take(now, edgeWarnPerSecond, edgeWarnBurst) {
		l.suppressed++
		return false, 0
	}
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}
