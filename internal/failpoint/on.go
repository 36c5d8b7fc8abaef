//go:build failpoints

package failpoint

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Enabled reports whether this build has failpoints (the failpoints tag).
const Enabled = true

// armed is one armed point: its action and its counts.
type armed struct {
	act   action
	hits  atomic.Int64
	fired atomic.Int64
}

var (
	mu       sync.RWMutex
	table    = map[string]*armed{}
	anyArmed atomic.Bool // the fast path of every site while nothing is armed
	logger   atomic.Pointer[slog.Logger]
)

// Hit runs the action armed at the point name: crash, sleep or count. An
// error action cannot be armed at a site that calls Hit.
func Hit(name string) { _ = run(name) }

// Err runs the action armed at the point name and returns the error of an
// error action (nil for the others, or when the point is not armed).
func Err(name string) error { return run(name) }

func run(name string) error {
	if !anyArmed.Load() {
		return nil
	}
	mu.RLock()
	p := table[name]
	mu.RUnlock()
	if p == nil {
		return nil
	}
	n := p.hits.Add(1)
	if p.act.nth > 0 && n != p.act.nth || p.act.pct > 0 && rand.Float64()*100 >= p.act.pct {
		return nil
	}
	p.fired.Add(1)
	switch p.act.kind {
	case kindCrash:
		log().Warn("failpoint: crash", "point", name, "hit", n)
		os.Exit(CrashStatus)
	case kindSleep:
		log().Warn("failpoint: sleep", "point", name, "hit", n, "for", p.act.sleep)
		time.Sleep(p.act.sleep)
	case kindError:
		log().Warn("failpoint: error", "point", name, "hit", n)
		return fmt.Errorf("failpoint %s: %s", name, p.act.text)
	}
	return nil
}

// Set arms (or with off disarms) the points of spec; on a syntax error
// nothing changes. Counts restart for every point spec names.
func Set(spec string) error {
	acts, err := parseSpec(spec)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	for name, a := range acts {
		if a.kind == kindOff {
			delete(table, name)
			continue
		}
		table[name] = &armed{act: a}
	}
	anyArmed.Store(len(table) > 0)
	return nil
}

// Clear disarms every point.
func Clear() {
	mu.Lock()
	defer mu.Unlock()
	clear(table)
	anyArmed.Store(false)
}

// Hits returns how many times the point was reached since it was armed
// (0 when it is not armed).
func Hits(name string) int64 {
	mu.RLock()
	defer mu.RUnlock()
	if p := table[name]; p != nil {
		return p.hits.Load()
	}
	return 0
}

// Status lists the armed points, one a line, in name order:
// "name=action hits=N fired=M".
func Status() string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(table))
	for name := range table {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		p := table[name]
		fmt.Fprintf(&b, "%s=%s hits=%d fired=%d\n", name, p.act, p.hits.Load(), p.fired.Load())
	}
	return b.String()
}

// Setup arms the points of INV_FAILPOINTS and, if INV_FAILPOINTS_HTTP is
// set, serves the arming endpoint there (http.go). It logs what it armed:
// a process with failpoints must never pass for a normal one.
func Setup(l *slog.Logger) error {
	if l != nil {
		logger.Store(l)
	}
	if spec := os.Getenv(EnvSpec); spec != "" {
		if err := Set(spec); err != nil {
			return fmt.Errorf("%s: %w", EnvSpec, err)
		}
	}
	if addr := os.Getenv(EnvHTTP); addr != "" {
		if err := serve(addr); err != nil {
			return fmt.Errorf("%s: %w", EnvHTTP, err)
		}
	}
	log().Warn("failpoints compiled in", "armed", strings.ReplaceAll(strings.TrimSpace(Status()), "\n", "; "),
		"http", os.Getenv(EnvHTTP))
	return nil
}

func log() *slog.Logger {
	if l := logger.Load(); l != nil {
		return l
	}
	return slog.Default()
}
