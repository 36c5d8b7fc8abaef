// The build's identity is read from what the toolchain recorded: a stamped
// version and the vcs revision, a pseudo-version's commit when the binary
// was installed with go install module@version (no vcs settings), "devel"
// when there is no version, and a gauge name whose labels are quoted as
// the Prometheus text format wants.
package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want Info
	}{
		{"a checkout with changes", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "76bb2d6e1a2b3c4d"}, {Key: "vcs.modified", Value: "true"}}},
			Info{Version: Devel, Revision: "76bb2d6e1a2b3c4d+dirty", GoVersion: "go1.26.8"}},
		{"go install at a tag", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			Info{Version: "v1.2.0", GoVersion: "go1.26.8"}},
		{"go install at a commit", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261204152517-76bb2d6e1a2b"}},
			Info{Version: "v0.0.0-20261204152517-76bb2d6e1a2b", Revision: "76bb2d6e1a2b", GoVersion: "go1.26.8"}},
		{"a stamped checkout", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261204152517-76bb2d6e1a2b+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "76bb2d6e1a2b3c4d"}}},
			Info{Version: "v0.0.0-20261204152517-76bb2d6e1a2b+dirty", Revision: "76bb2d6e1a2b3c4d", GoVersion: "go1.26.8"}},
		{"no version", debug.BuildInfo{GoVersion: "go1.26.8"}, Info{Version: Devel, GoVersion: "go1.26.8"}},
	} {
		if got := FromBuildInfo(&tc.bi); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestStringAndMetric(t *testing.T) {
	in := Info{Version: "v1.2.0", Revision: "76bb2d6e1a2b", GoVersion: "go1.26.8"}
	if got := in.String(); got != "v1.2.0 (revision 76bb2d6e1a2b, go1.26.8)" {
		t.Errorf("String: %q", got)
	}
	if got := (Info{Version: Devel, GoVersion: "go1.26.8"}).String(); got != "devel (go1.26.8)" {
		t.Errorf("String without a revision: %q", got)
	}
	if got := in.Metric(); got != `inv_build_info{version="v1.2.0",revision="76bb2d6e1a2b",goversion="go1.26.8"}` {
		t.Errorf("Metric: %q", got)
	}
	odd := Info{Version: `v"1\`, GoVersion: "go"}
	if got := odd.Metric(); !strings.Contains(got, `version="v\"1\\"`) {
		t.Errorf("Metric escapes: %q", got)
	}
	if r := Read(); r.Version == "" || r.GoVersion == "" {
		t.Errorf("Read: %+v", r)
	}
}
