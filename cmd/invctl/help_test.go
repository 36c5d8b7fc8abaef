// Help and the command line's conventions, without a server: -h on a
// command, invctl help COMMAND and invctl NOUN -h print to stdout and exit
// 0; required flags show as required (no "default -1"), and a command
// line without them is a usage error naming them; --version prints the
// version; invctl completion bash gives a script that bash really
// completes commands, verbs and flags with.
package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"item", "put", "-h"}, []string{"invctl [global flags] item put", "--stock int", "units allotted to the store (not given: the stock stays)", "-limit", "-window START,END,QUOTA"},
			[]string{"default -1"}},
		{[]string{"--addr", "127.0.0.1:1", "confirm", "--help"}, []string{"invctl [global flags] confirm ID [flags]", "-qty", "-key"}, nil},
		{[]string{"cluster", "drain", "-h"}, []string{"cluster drain ID [flags]", "-to"}, nil},
		{[]string{"-h"}, []string{"commands:", "item put", "cluster status", "COMMAND -h", "completion bash|zsh", "--addr"}, nil},
		{[]string{"help"}, []string{"commands:", "reserve", "store put", "global flags"}, nil},
		{[]string{"help", "item", "put"}, []string{"invctl [global flags] item put", "--sku string", "SKU (required)"}, nil},
		{[]string{"help", "reserve"}, []string{"reserve [flags]", "--customer string", "customer id (required)", "--qty int", "(default 1)"}, nil},
		{[]string{"item", "-h"}, []string{"item commands:", "item put", "item sale-window", "item member-share"}, []string{"cluster status"}},
		{[]string{"cluster", "-h"}, []string{"cluster commands:", "cluster add-node ID RAFT_ADDR CLIENT_ADDR", "cluster undrain"}, []string{"item put"}},
		{[]string{"help", "store"}, []string{"store commands:", "store import FILE.csv"}, nil},
		{[]string{"window", "put", "-h"}, []string{"--quota int", "(required)"}, []string{"default -1"}},
		{[]string{"customer", "tier", "-h"}, []string{"customer tier CUSTOMER [flags]", "--tier uint"}, []string{"default 256"}},
		{[]string{"--version"}, []string{"invctl ", "go1."}, nil},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", tc.args, code, errb.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: %q missing from\n%s", tc.args, w, out.String())
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out.String(), w) {
				t.Errorf("%v: %q in\n%s", tc.args, w, out.String())
			}
		}
	}
	// Usage errors exit 2 and say what is missing or wrong.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"item", "put", "--no-such-flag"}, "flag provided but not defined"},
		{[]string{"item", "put", "--sku", "a"}, "--store is required"},
		{[]string{"item", "put", "--sku", "a", "--store", "s", "--stock", "-3"}, "--stock -3: want 0 or more units"},
		{[]string{"item", "put", "--sku", "a", "--store", "s", "--stock=-5"}, "--stock -5: want 0 or more units"},
		{[]string{"item", "put", "--sku", "a", "--store", "s"}, "nothing to change; give --stock, --opens, --closes, --clear or --window"},
		{[]string{"item", "put", "--sku", "a", "--store", "s", "--clear", "limit"}, `--clear "limit": want some of closes, opens, sale, share`},
		{[]string{"item", "put", "--sku", "a", "--store", "s", "--opens", "1", "--clear", "sale"}, "--clear sale and --opens: give a new value or clear it, not both"},
		{[]string{"item", "put", "--sku", "a", "--store", "s", "--closes", ""}, `--closes "": give a time, or --clear closes to remove it`},
		{[]string{"reserve", "--sku", "a", "--store", "s", "--customer", "c", "--qty", "0"}, "--qty 0: want 1 or more units"},
		{[]string{"reserve", "--sku", "a", "--store", "s", "--customer", "c", "--qty", "-2"}, "--qty -2: want 1 or more units"},
		{[]string{"reserve", "--sku", "a", "--store", "s", "--customer", "c", "--ttl", "-5s"}, "--ttl -5s: want a positive duration"},
		{[]string{"extend", "12", "--ttl", "-5s"}, "--ttl -5s: want a positive duration"},
		{[]string{"item", "restock", "--sku", "a", "--store", "s", "--qty", "0"}, "--qty 0: want a number of units"},
		{[]string{"item", "restock", "--sku", "a", "--store", "s", "--qty", "-4"}, "--qty -4: restock adds units"},
		{[]string{"item", "member-share", "--sku", "a", "--store", "s", "--units", "-3"}, "--units -3: want 0 or more units"},
		{[]string{"reserve", "--sku", "", "--store", "s", "--customer", "c"}, "--sku is required"},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"item"}, "which operation? put, get"},
		{[]string{"completion", "fish"}, "want bash or zsh"},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), exitUsage, tc.want)
		}
	}
}

func TestCompletion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"completion", "zsh"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "#compdef invctl") {
		t.Fatalf("completion zsh: exit %d, %q", code, out.String()[:min(80, out.Len())])
	}
	out.Reset()
	if code := run([]string{"completion", "bash"}, &out, &errb); code != 0 {
		t.Fatalf("completion bash: exit %d, %s", code, errb.String())
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run the script")
	}
	script := filepath.Join(t.TempDir(), "invctl.bash")
	if err := os.WriteFile(script, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string // the words typed, the last one being completed
		want string // COMPREPLY, space separated
	}{
		{"invctl res", "reserve reschedule reservation"},
		{"invctl item sa", "sale-window"},
		{"invctl --addr 127.0.0.1:7420 cluster dr", "drain"},
		{"invctl item put --st", "--stock --store"},
		{"invctl reserve --sku a --cu", "--customer"},
		{"invctl --j", "--json"},
		{"invctl completion z", "zsh"},
	} {
		words := strings.Fields(tc.line)
		cmd := exec.Command(bash, "-c", `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _invctl; echo "${COMPREPLY[*]}"`,
			"bash", script)
		cmd.Args = append(cmd.Args, words...)
		got, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.line, err, got)
		}
		if strings.TrimSpace(string(got)) != tc.want {
			t.Errorf("%q completes to %q, want %q", tc.line, strings.TrimSpace(string(got)), tc.want)
		}
	}
}
