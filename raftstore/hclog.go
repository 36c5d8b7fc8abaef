package raftstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// hclogAdapter lets hashicorp/raft (which logs through hclog) write to the
// node's slog.Logger, so the whole process has one log stream and one level
// setting. Raft is chatty at info: every shard's every state change,
// election and snapshot, sixteen times over on a node of 16 shards, most
// lines of a short session. Its info records go out at debug (quiet
// records, below); its warnings and errors stay. The adapter's level is
// set by the caller and checked before any formatting.
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
	a.emit(quiet(level, msg, args), msg, args)
}

// emit writes one record at level, if enabled.
func (a *hclogAdapter) emit(level hclog.Level, msg string, args []any) {
	if !a.enabled(level) {
		return
	}
	all := make([]any, 0, 2+len(a.args)+len(args))
	if a.name != "" {
		all = append(all, "logger", a.name)
	}
	all = appendValues(all, a.args)
	all = appendValues(all, args)
	a.l.Log(context.Background(), slogLevel(level), msg, all...)
}

// quiet is the level a raft record is logged at: raft's info records at
// debug, and so its warning that a follower heard no leader and starts an
// election when it never knew one (every shard's first election at start;
// a lost leader is still a warning), and the error of a transport read
// cut by this node's own close ("use of closed network connection": one
// per shard and peer connection at every stop of a cluster node).
func quiet(level hclog.Level, msg string, args []any) hclog.Level {
	switch {
	case level > hclog.Debug && carriesQuiet(args):
		// A follower on a full disk fails every append the leader retries,
		// a shard whose vote is withheld every vote it would ask for: the
		// node logged each state once (diskguard.go, votegate.go).
		return hclog.Debug
	case level == hclog.Info:
		return hclog.Debug
	case level == hclog.Warn && msg == "heartbeat timeout reached, starting election" && argIs(args, "last-leader-id", ""):
		return hclog.Debug
	case level == hclog.Error && msg == "failed to decode incoming command" && argHas(args, "error", net.ErrClosed.Error()):
		return hclog.Debug
	}
	return level
}

// argHas reports whether key's value among args contains s.
func argHas(args []any, key, s string) bool {
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok && k == key {
			return strings.Contains(fmt.Sprint(args[i+1]), s)
		}
	}
	return false
}

func first(v []any) any {
	if len(v) == 0 {
		return nil
	}
	return v[0]
}

// argIs reports whether key's value among args (key, value pairs) is v.
func argIs(args []any, key string, v string) bool {
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok && k == key {
			return fmt.Sprint(args[i+1]) == v
		}
	}
	return false
}

// appendValues appends key, value pairs with hclog's formatting types made
// text: hclog.Fmt("%+v", x) is a Format, a []any that slog would print as
// "[%+v [...]]"; Hex, Octal, Binary and Quote print as hclog prints them.
func appendValues(dst, args []any) []any {
	for _, v := range args {
		switch v := v.(type) {
		case hclog.Format:
			if f, ok := first(v).(string); ok {
				dst = append(dst, fmt.Sprintf(f, v[1:]...))
			} else {
				dst = append(dst, fmt.Sprint([]any(v)...))
			}
		case hclog.Hex:
			dst = append(dst, "0x"+strconv.FormatInt(int64(v), 16))
		case hclog.Octal:
			dst = append(dst, "0"+strconv.FormatInt(int64(v), 8))
		case hclog.Binary:
			dst = append(dst, "0b"+strconv.FormatInt(int64(v), 2))
		case hclog.Quote:
			dst = append(dst, strconv.Quote(string(v)))
		default:
			dst = append(dst, v)
		}
	}
	return dst
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

// hclogWriter turns lines written by a standard logger into records, at
// the level their "[ERR]", "[WARN]" ... prefix names (info without one).
// They are rare and not raft's state changes: none is quietened.
type hclogWriter struct{ a *hclogAdapter }

func (w hclogWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	level := hclog.Info
	for _, pre := range []struct {
		tag   string
		level hclog.Level
	}{{"[ERR]", hclog.Error}, {"[ERROR]", hclog.Error}, {"[WARN]", hclog.Warn}, {"[INFO]", hclog.Info},
		{"[DEBUG]", hclog.Debug}, {"[TRACE]", hclog.Trace}} {
		if rest, ok := strings.CutPrefix(line, pre.tag); ok {
			line, level = strings.TrimSpace(rest), pre.level
			break
		}
	}
	w.a.emit(level, line, nil)
	return len(p), nil
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
		for _, q := range []error{ErrDiskFull, errVoteWithheld} {
			if errors.Is(err, q) || strings.Contains(err.Error(), q.Error()) {
				return true
			}
		}
	}
	return false
}
