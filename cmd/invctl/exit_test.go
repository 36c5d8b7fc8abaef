// Tests of how invctl reports a server's refusals: the exit code by kind,
// the code's name first, and for a refusal whose name alone does not say
// what to do (disk_full), a line telling the operator. They call exitCode
// with the errors the client library returns.
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
	err := &client.ServerError{Code: engine.CodeDiskFull, Message: "raftstore: disk full"}
	if code := exitCode(err, &errb); code != exitFailed {
		t.Fatalf("exit %d, want %d", code, exitFailed)
	}
	out := errb.String()
	if !strings.HasPrefix(out, "disk_full\n") || !strings.Contains(out, "free-space reserve") ||
		!strings.Contains(out, "reads still work") {
		t.Fatalf("stderr:\n%s", out)
	}
	// Other server refusals print no hint.
	errb.Reset()
	exitCode(&client.ServerError{Code: engine.CodeBusy}, &errb)
	if strings.Count(errb.String(), "\n") != 2 {
		t.Fatalf("busy: %q", errb.String())
	}
}
