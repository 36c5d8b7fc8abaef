// Tests of the hclog → slog adapter raft logs through. They prove that
// levels map onto slog's and are filtered by both the adapter's floor and
// the handler, and that names and With arguments reach the record.
package raftstore

import (
	"bytes"
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
