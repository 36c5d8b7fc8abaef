// invd says which build it is: --version prints "invd VERSION (...)" and
// exits 0 without opening anything, and /metrics carries
// inv_build_info{version,revision,goversion} 1 with the same version and
// the toolchain that built it. invd -h is help, exit 0.
package main_test

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(invdBin, "--version", "--data", dir+"/never")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("invd --version: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`^invd (\S+) \((?:revision \S+, )?(go\S+)\)\n$`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("invd --version printed %q", out)
	}
	version, goVersion := m[1], m[2]

	p := startInvd(t, 1, "")
	code, body, err := p.HTTPGet("/metrics")
	if err != nil || code != 200 {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	var line string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "inv_build_info{") {
			line = l
		}
	}
	want := regexp.MustCompile(`^inv_build_info\{version="` + regexp.QuoteMeta(version) + `",revision="[^"]*",goversion="` +
		regexp.QuoteMeta(goVersion) + `"\} 1$`)
	if !want.MatchString(line) {
		t.Fatalf("/metrics: build info line %q, want version %s and %s", line, version, goVersion)
	}
}

// invd -h prints the flags and the hash-token form on stdout and exits 0;
// an unknown flag exits 1 pointing at -h.
func TestHelpExitsZero(t *testing.T) {
	out, err := exec.Command(invdBin, "-h").Output()
	if err != nil || !strings.Contains(string(out), "usage: invd [flags]") || !strings.Contains(string(out), "--shards int") ||
		!strings.Contains(string(out), "invd hash-token") {
		t.Fatalf("invd -h: %v\n%s", err, out)
	}
	out, err = exec.Command(invdBin, "hash-token", "--help").Output()
	if err != nil || !strings.HasPrefix(string(out), "usage: invd hash-token") {
		t.Fatalf("invd hash-token --help: %v\n%s", err, out)
	}
	out, err = exec.Command(invdBin, "--no-such-flag").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "invd -h lists the flags") {
		t.Fatalf("invd --no-such-flag: %v\n%s", err, out)
	}
}
