//go:build failpoints

package failpoint

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

type kind int

const (
	kindOff kind = iota
	kindCrash
	kindSleep
	kindError
	kindCount
)

// action is what an armed point does, and on which hits.
type action struct {
	kind  kind
	sleep time.Duration
	text  string // kindError
	nth   int64  // act on this hit only; 0: every hit
	pct   float64
}

func (a action) String() string {
	var b strings.Builder
	switch a.kind {
	case kindOff:
		b.WriteString("off")
	case kindCrash:
		b.WriteString("crash")
	case kindSleep:
		fmt.Fprintf(&b, "sleep(%s)", a.sleep)
	case kindError:
		fmt.Fprintf(&b, "error(%s)", a.text)
	case kindCount:
		b.WriteString("count")
	}
	if a.nth > 0 {
		fmt.Fprintf(&b, "@%d", a.nth)
	}
	if a.pct > 0 && a.pct < 100 {
		fmt.Fprintf(&b, "%%%g", a.pct)
	}
	return b.String()
}

// points lists every site, and whether it can return an error.
var points = map[string]bool{
	RaftAfterLogWrite:          true,
	RaftBeforeReply:            true,
	FSMApply:                   false,
	SnapshotPersistBeforeWrite: true,
	SnapshotPersistBeforeClose: true,
	SnapshotPersistAfterClose:  false,
	SnapshotRestoreBefore:      true,
	SnapshotRestoreAfter:       false,
}

// Bounds of a spec: it comes from a test's environment or request, and a
// typo must not arm a sleep of a year.
const (
	specBytesMax = 4096
	sleepMax     = time.Minute
)

// parseSpec reads a spec (see the package doc) into point names and actions.
func parseSpec(spec string) (map[string]action, error) {
	if len(spec) > specBytesMax {
		return nil, fmt.Errorf("failpoint: spec of %d bytes, at most %d", len(spec), specBytesMax)
	}
	out := map[string]action{}
	for _, term := range strings.Split(spec, ";") {
		term = strings.TrimSpace(term)
		if term == "" {
			continue
		}
		name, act, ok := strings.Cut(term, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("failpoint: %q: want name=action", term)
		}
		canErr, known := points[name]
		if !known {
			return nil, fmt.Errorf("failpoint: unknown point %q", name)
		}
		a, err := parseAction(strings.TrimSpace(act))
		if err != nil {
			return nil, fmt.Errorf("failpoint: %s: %w", name, err)
		}
		if a.kind == kindError && !canErr {
			return nil, fmt.Errorf("failpoint: %s cannot return an error", name)
		}
		out[name] = a
	}
	return out, nil
}

// parseAction reads action [@N] [%P].
func parseAction(s string) (action, error) {
	var a action
	if i := strings.LastIndexByte(s, '%'); i >= 0 && i > strings.LastIndexByte(s, ')') {
		p, err := strconv.ParseFloat(s[i+1:], 64)
		if err != nil || !(p > 0 && p <= 100) {
			return a, fmt.Errorf("probability %q: want a percentage in (0, 100]", s[i+1:])
		}
		a.pct, s = p, s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 && i > strings.LastIndexByte(s, ')') {
		n, err := strconv.ParseInt(s[i+1:], 10, 64)
		if err != nil || n < 1 {
			return a, fmt.Errorf("hit %q: want a number from 1", s[i+1:])
		}
		a.nth, s = n, s[:i]
	}
	verb, arg, hasArg := s, "", false
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return a, fmt.Errorf("%q: unclosed parenthesis", s)
		}
		verb, arg, hasArg = s[:i], s[i+1:len(s)-1], true
	}
	switch verb {
	case "off":
		a.kind = kindOff
	case "crash":
		a.kind = kindCrash
	case "count":
		a.kind = kindCount
	case "sleep":
		d, err := time.ParseDuration(arg)
		if !hasArg || err != nil || d < 0 || d > sleepMax {
			return a, fmt.Errorf("sleep(%s): want a duration up to %s", arg, sleepMax)
		}
		a.kind, a.sleep = kindSleep, d
	case "error":
		a.kind, a.text = kindError, "injected"
		if hasArg && arg != "" {
			a.text = arg
		}
	default:
		return a, fmt.Errorf("unknown action %q", s)
	}
	if hasArg && a.kind != kindSleep && a.kind != kindError {
		return a, errors.New(verb + " takes no argument")
	}
	return a, nil
}
