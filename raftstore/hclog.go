package raftstore

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// hclogAdapter lets hashicorp/raft (which logs through hclog) write to the
// node's slog.Logger, so the whole process has one log stream and one level
// setting. Raft is chatty at info (every election, every snapshot), so the
// adapter's level is set by the caller and checked before any formatting.
type hclogAdapter struct {
	l     *slog.Logger
	name  string
	level hclog.Level
	args  []any
}

var _ hclog.Logger = (*hclogAdapter)(nil)

// newHCLog returns an hclog.Logger writing to l at level and above.
func newHCLog(l *slog.Logger, name string, level hclog.Level) hclog.Logger {
	return &hclogAdapter{l: l, name: name, level: level}
}

func slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Info, hclog.NoLevel, hclog.DefaultLevel:
		return slog.LevelInfo
	case hclog.Warn:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func (a *hclogAdapter) enabled(level hclog.Level) bool {
	return level != hclog.Off && level >= a.level &&
		a.l.Enabled(context.Background(), slogLevel(level))
}

func (a *hclogAdapter) Log(level hclog.Level, msg string, args ...any) {
	if level > hclog.Debug && carriesQuiet(args) {
		// A follower on a full disk fails every append the leader retries,
		// a shard whose vote is withheld every vote it would ask for: the
		// node logged each state once (diskguard.go, votegate.go).
		level = hclog.Debug
	}
	if !a.enabled(level) {
		return
	}
	all := make([]any, 0, 2+len(a.args)+len(args))
	if a.name != "" {
		all = append(all, "logger", a.name)
	}
	all = append(all, a.args...)
	all = append(all, args...)
	a.l.Log(context.Background(), slogLevel(level), msg, all...)
}

// carriesQuiet reports whether a record's arguments hold ErrDiskFull or
// errVoteWithheld. raft's log cache wraps a store's error with %q, which
// drops the chain, so the text is matched too.
func carriesQuiet(args []any) bool {
	for _, v := range args {
		err, ok := v.(error)
		if !ok {
			continue
		}
		for _, quiet := range []error{ErrDiskFull, errVoteWithheld} {
			if errors.Is(err, quiet) || strings.Contains(err.Error(), quiet.Error()) {
				return true
			}
		}
	}
	return false
}

func (a *hclogAdapter) Trace(msg string, args ...any) { a.Log(hclog.Trace, msg, args...) }
func (a *hclogAdapter) Debug(msg string, args ...any) { a.Log(hclog.Debug, msg, args...) }
func (a *hclogAdapter) Info(msg string, args ...any)  { a.Log(hclog.Info, msg, args...) }
func (a *hclogAdapter) Warn(msg string, args ...any)  { a.Log(hclog.Warn, msg, args...) }
func (a *hclogAdapter) Error(msg string, args ...any) { a.Log(hclog.Error, msg, args...) }

func (a *hclogAdapter) IsTrace() bool { return a.enabled(hclog.Trace) }
func (a *hclogAdapter) IsDebug() bool { return a.enabled(hclog.Debug) }
func (a *hclogAdapter) IsInfo() bool  { return a.enabled(hclog.Info) }
func (a *hclogAdapter) IsWarn() bool  { return a.enabled(hclog.Warn) }
func (a *hclogAdapter) IsError() bool { return a.enabled(hclog.Error) }

func (a *hclogAdapter) ImpliedArgs() []any { return a.args }

func (a *hclogAdapter) With(args ...any) hclog.Logger {
	c := *a
	c.args = append(append([]any(nil), a.args...), args...)
	return &c
}

func (a *hclogAdapter) Name() string { return a.name }

func (a *hclogAdapter) Named(name string) hclog.Logger {
	c := *a
	if c.name != "" {
		c.name += "." + name
	} else {
		c.name = name
	}
	return &c
}

func (a *hclogAdapter) ResetNamed(name string) hclog.Logger {
	c := *a
	c.name = name
	return &c
}

// SetLevel is not synchronised: raft never calls it, and the level is set
// once when the adapter is made.
func (a *hclogAdapter) SetLevel(level hclog.Level) { a.level = level }

func (a *hclogAdapter) GetLevel() hclog.Level { return a.level }

func (a *hclogAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(a.StandardWriter(opts), "", 0)
}

func (a *hclogAdapter) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return hclogWriter{a}
}

// hclogWriter turns lines written by a standard logger into info records.
type hclogWriter struct{ a *hclogAdapter }

func (w hclogWriter) Write(p []byte) (int, error) {
	w.a.Info(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
