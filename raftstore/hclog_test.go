// Tests of the hclog → slog adapter raft logs through. They prove that
// levels map onto slog's and are filtered by both the adapter's floor and
// the handler, that names and With arguments reach the record, that raft's
// chatty info records are quietened to debug while its warnings stay, and
// that hclog's formatting values are formatted.
package raftstore

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHCLogAdapter(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := newHCLog(l, "raft", hclog.Debug)

	h.Debug("hidden by the handler")
	h.Trace("hidden by the floor")
	h.Named("snap").With("index", 7).Warn("compacting", "from", 1)
	h.Error("failed", "error", "boom")
	h.StandardLogger(nil).Print("from a std logger")
	h.Info("raft's own info, at debug: hidden")

	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Fatalf("filtered records leaked:\n%s", out)
	}
	for _, want := range []string{
		`level=WARN msg=compacting logger=raft.snap index=7 from=1`,
		`level=ERROR msg=failed logger=raft error=boom`,
		`level=INFO msg="from a std logger"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if h.IsDebug() || !h.IsInfo() || h.IsTrace() {
		t.Fatal("Is* must reflect the handler's level and the floor")
	}
	if h.Named("x").Name() != "raft.x" || h.ResetNamed("y").Name() != "y" {
		t.Fatal("names")
	}
}

// Raft's info records (each shard's state changes, elections, snapshots)
// go out at debug, as does the warning of a follower's first election
// (it never knew a leader); a lost leader stays a warning. hclog.Fmt
// values are formatted, not printed as "[%+v ...]".
func TestHCLogQuietAndFormatted(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := newHCLog(l, "raft", hclog.Debug)
	h.Info("entering leader state", "leader", "node-1")
	h.Warn("heartbeat timeout reached, starting election", "last-leader-addr", "", "last-leader-id", "")
	h.Warn("heartbeat timeout reached, starting election", "last-leader-addr", "127.0.0.1:1", "last-leader-id", "node-2")
	h.Error("failed to contact", "servers", hclog.Fmt("%+v", struct{ ID string }{"node-3"}), "code", hclog.Hex(255))
	h.StandardLogger(nil).Print("[ERR] raft-net: failed to decode")
	h.Error("failed to decode incoming command", "error", errors.New("read tcp 10.0.0.1:7430->10.0.0.2:5000: use of closed network connection"))
	h.Error("failed to decode incoming command", "error", errors.New("unknown rpc type 9"))
	out := buf.String()
	for _, hidden := range []string{"entering leader state", "last-leader-id=\"\"", "use of closed network connection"} {
		if strings.Contains(out, hidden) {
			t.Errorf("%q logged at info:\n%s", hidden, out)
		}
	}
	for _, want := range []string{
		`level=WARN msg="heartbeat timeout reached, starting election" logger=raft last-leader-addr=127.0.0.1:1 last-leader-id=node-2`,
		`level=ERROR msg="failed to contact" logger=raft servers={ID:node-3} code=0xff`,
		`level=ERROR msg="raft-net: failed to decode" logger=raft`,
		`level=ERROR msg="failed to decode incoming command" logger=raft error="unknown rpc type 9"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "%+v") {
		t.Errorf("a format verb printed literally:\n%s", out)
	}
	buf.Reset()
	dl := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	newHCLog(dl, "raft", hclog.Debug).Info("entering leader state")
	if !strings.Contains(buf.String(), `level=DEBUG msg="entering leader state"`) {
		t.Errorf("at debug, raft's info records are there: %q", buf.String())
	}
}
