// Proves that Build takes binaries from PrebuiltEnv's folder only when each
// was built as this test binary would build it: it builds a stand-in
// command (testdata/tiny, quick to build) with and without the failpoints
// tag, then asks for each build both ways, for a command the folder lacks,
// and for a file that is no Go binary.
package invdtest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPrebuiltOnlyWhenBuiltTheSameWay(t *testing.T) {
	t.Setenv(PrebuiltEnv, "") // build here, whatever make test prebuilt
	const invd = "github.com/invsys/inv/internal/invdtest/testdata/tiny"
	plain, tagged := t.TempDir(), t.TempDir()
	if _, err := BuildTags(plain, "", invd); err != nil {
		t.Fatal(err)
	}
	if _, err := BuildTags(tagged, "failpoints", invd); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, tags string
		pkgs      []string
		want      bool
	}{
		{plain, "", []string{invd}, true},
		{tagged, "failpoints", []string{invd}, true},
		{plain, "failpoints", []string{invd}, false},
		{tagged, "", []string{invd}, false},
		{plain, "", []string{invd, "github.com/invsys/inv/cmd/invctl"}, false},
		{"", "", []string{invd}, false},
	} {
		out, ok := prebuilt(tc.dir, tc.tags, tc.pkgs)
		if ok != tc.want || ok && out["tiny"] != filepath.Join(tc.dir, "tiny") {
			t.Errorf("prebuilt(%q, %q, %v) = %v, %v; want %v", tc.dir, tc.tags, tc.pkgs, out, ok, tc.want)
		}
	}
	if out, ok := prebuilt(plain, "", []string{invd}); ok {
		t.Setenv(PrebuiltEnv, plain)
		if got, err := Build(t.TempDir(), invd); err != nil || got["tiny"] != out["tiny"] {
			t.Errorf("Build with %s set: %v %v, want the prebuilt %s", PrebuiltEnv, got, err, out["tiny"])
		}
	}
	// A file that is no Go binary is not taken either.
	junk := t.TempDir()
	if err := os.WriteFile(filepath.Join(junk, "tiny"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, ok := prebuilt(junk, "", []string{invd}); ok {
		t.Error("a shell script was taken for a Go command")
	}
}
