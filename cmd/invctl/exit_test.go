// Tests of how invctl reports a server's refusals of the disk reserve: the
// exit code (a failure, not a refusal of the request's content), the
// code's name first with the server's message, and a hint telling the
// operator what disk_full means and that it clears by itself. They call
// exitCode with the errors the client library returns.
package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
)

func TestExitCodeDiskFull(t *testing.T) {
	var errb bytes.Buffer
	e := &env{stdout: &bytes.Buffer{}, stderr: &errb}
	err := &client.ServerError{Code: engine.CodeDiskFull, Message: "raftstore: disk full"}
	if code := exitCode(err, e); code != exitFailed {
		t.Fatalf("exit %d, want %d", code, exitFailed)
	}
	out := errb.String()
	if !strings.HasPrefix(out, "disk_full: ") || !strings.Contains(out, "free-space reserve") ||
		!strings.Contains(out, "reads still work") || strings.Count(out, "disk_full") != 1 {
		t.Fatalf("stderr:\n%s", out)
	}
}
