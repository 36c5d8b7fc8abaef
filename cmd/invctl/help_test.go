package main

import (
	"bytes"
	"strings"
	"testing"
)

// -h on a command prints that command's arguments and flags to stdout and
// exits 0, without dialing a server; on invctl itself, the command list;
// --version, the version.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"item", "put", "-h"}, []string{"invctl [global flags] item put", "-stock", "-limit", "-window"}},
		{[]string{"--addr", "127.0.0.1:1", "confirm", "--help"}, []string{"confirm (1 argument(s))", "-qty", "-key"}},
		{[]string{"cluster", "drain", "-h"}, []string{"cluster drain (1 argument(s))", "-to"}},
		{[]string{"-h"}, []string{"commands:", "item put", "cluster status", "COMMAND -h"}},
		{[]string{"--version"}, []string{"invctl ", "go1."}},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", tc.args, code, errb.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Fatalf("%v: %q missing from\n%s", tc.args, w, out.String())
			}
		}
	}
	// A wrong flag is still a usage error.
	var out, errb bytes.Buffer
	if code := run([]string{"item", "put", "--no-such-flag"}, &out, &errb); code != exitUsage {
		t.Fatalf("bad flag: exit %d, want %d", code, exitUsage)
	}
}
