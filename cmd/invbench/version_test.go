// invbench --version prints its version and exits 0 before anything else
// (no server is dialled).
package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--version", "--addr", "127.0.0.1:1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "invbench ") || !strings.Contains(out.String(), "(") {
		t.Fatalf("printed %q", out.String())
	}
}
