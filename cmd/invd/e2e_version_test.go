// invd says which build it is: --version prints "invd VERSION (...)" and
// exits 0 without opening anything, and /metrics carries
// inv_build_info{version,revision,goversion} 1 with the same version and
// the toolchain that built it.
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
