// The documents' shell sessions run as written: every block of README.md
// and docs/OPERATIONS.md fenced as ```sh (the blocks meant to be pasted;
// synopses and config snippets are fenced plainly) runs in bash -e -o
// pipefail, in order, against a fresh invd built from this tree, from a
// folder laid out like the repository after make run (bin/invd,
// bin/invctl, examples/), with INV_ADDR naming the test's invd. A command
// that exits non-zero fails the test with its block's line and output.
package main_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invsys/inv/internal/invdtest"
)

// shellBlock is one ```sh block: its text and the line its fence is on.
type shellBlock struct {
	line int
	text string
}

// shellBlocks returns the ```sh blocks of a Markdown text.
func shellBlocks(md []byte) []shellBlock {
	var out []shellBlock
	var cur *shellBlock
	sc := bufio.NewScanner(bytes.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```sh":
			cur = &shellBlock{line: n}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return out
}

func TestDocsRun(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{"README.md", "docs/OPERATIONS.md"} {
		t.Run(doc, func(t *testing.T) {
			md, err := os.ReadFile(filepath.Join(repo, doc))
			if err != nil {
				t.Fatal(err)
			}
			blocks := shellBlocks(md)
			if len(blocks) == 0 {
				t.Fatalf("%s has no ```sh block", doc)
			}
			p, err := invdtest.Start(invdtest.Options{Bin: bins["invd"], Data: t.TempDir() + "/data",
				Config: "heartbeat_timeout = 100ms\nelection_timeout = 100ms\nleader_lease_timeout = 50ms\n"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				p.Kill()
				if t.Failed() {
					t.Logf("invd log:\n%s", p.Logs())
				}
			})
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
				t.Fatal(err)
			}
			for name, bin := range bins {
				if err := os.Symlink(bin, filepath.Join(dir, "bin", name)); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(filepath.Join(repo, "examples"), filepath.Join(dir, "examples")); err != nil {
				t.Fatal(err)
			}
			env := append(invdtest.Env(), "INV_ADDR="+p.Addr(), "INV_TOKEN=", "HOME="+dir)
			for _, b := range blocks {
				cmd := exec.Command(bash, "-e", "-o", "pipefail", "-c", b.text)
				cmd.Dir, cmd.Env = dir, env
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("%s:%d: %v\n%s\noutput:\n%s", doc, b.line, err, b.text, out)
				}
			}
		})
	}
}
