package invdtest

import (
	"debug/buildinfo"
	"path/filepath"
	"strings"
)

// PrebuiltEnv names the environment variable that points Build at a folder
// of binaries built beforehand (make test sets it after one go build of the
// commands). Building invd under the race detector takes tens of seconds;
// each test package that starts servers used to do it once more.
const PrebuiltEnv = "INV_TEST_BIN"

// prebuilt returns the binaries of pkgs from dir when every one is there
// and was built as this test binary would build it: with the race
// detector exactly when RaceEnabled, and with exactly tags. Anything else
// (no folder, a binary missing, built otherwise) makes the caller build.
func prebuilt(dir, tags string, pkgs []string) (map[string]string, bool) {
	if dir == "" {
		return nil, false
	}
	out := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		name := p[strings.LastIndex(p, "/")+1:]
		path := filepath.Join(dir, name)
		if !builtAs(path, p, tags) {
			return nil, false
		}
		out[name] = path
	}
	return out, true
}

// builtAs reports whether the binary at path is package pkg built with the
// race detector exactly when RaceEnabled and with exactly tags.
func builtAs(path, pkg, tags string) bool {
	bi, err := buildinfo.ReadFile(path)
	if err != nil || bi.Path != pkg {
		return false
	}
	race, gotTags := false, ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "-race":
			race = s.Value == "true"
		case "-tags":
			gotTags = s.Value
		}
	}
	return race == RaceEnabled && gotTags == tags
}
