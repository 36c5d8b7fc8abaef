// Package buildinfo says which build of inv is running: the module's
// version and the source revision it was built from, as the Go toolchain
// recorded them in the binary (runtime/debug.ReadBuildInfo). invd, invctl
// and invbench print it for --version, and invd exports it as the
// inv_build_info gauge. It imports only the standard library.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Devel is the version of a build that carries none: a test binary, or a
// build the toolchain did not stamp.
const Devel = "devel"

// Info is one build's identity.
type Info struct {
	Version   string // the module version (v1.2.0, a pseudo-version), or Devel
	Revision  string // the source revision, "+dirty" when the tree had changes; "" when unknown
	GoVersion string // the toolchain (go1.26.8)
}

// Read returns the running binary's build info.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: Devel, GoVersion: runtime.Version()}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo reads the version and revision from bi. The revision is the
// vcs.revision setting of a build inside a checkout; a binary installed
// with go install module@version has none, and then it is the commit that
// a pseudo-version names (v0.0.0-20260102150405-76bb2d6e1a2b).
func FromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if in.Version == "" || in.Version == "(devel)" {
		in.Version = Devel
	}
	if in.GoVersion == "" {
		in.GoVersion = runtime.Version()
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if in.Revision == "" {
		in.Revision = pseudoRevision(in.Version)
	}
	if modified && in.Revision != "" {
		in.Revision += "+dirty"
	}
	return in
}

// pseudoRevision is the commit prefix a pseudo-version ends with, "" for
// any other version.
func pseudoRevision(v string) string {
	v, _, _ = strings.Cut(v, "+") // build metadata: +dirty, +incompatible
	i := strings.LastIndexByte(v, '-')
	if i < 0 {
		return ""
	}
	rev := v[i+1:]
	if len(rev) != 12 || strings.Trim(rev, "0123456789abcdef") != "" {
		return ""
	}
	return rev
}

// String is the line --version prints after the command's name:
// "v1.2.0 (revision 76bb2d6e1a2b, go1.26.8)", or "devel (go1.26.8)" when
// the revision is unknown.
func (in Info) String() string {
	if in.Revision == "" {
		return fmt.Sprintf("%s (%s)", in.Version, in.GoVersion)
	}
	return fmt.Sprintf("%s (revision %s, %s)", in.Version, in.Revision, in.GoVersion)
}

// Metric is the name, with labels, of the gauge that says which build runs:
// inv_build_info{version="...",revision="...",goversion="..."}. Its value
// is always 1; a dashboard joins on the labels.
func (in Info) Metric() string {
	return fmt.Sprintf(`inv_build_info{version=%s,revision=%s,goversion=%s}`,
		label(in.Version), label(in.Revision), label(in.GoVersion))
}

// label quotes a label value as the Prometheus text format does: a
// backslash, a double quote and a newline are escaped.
func label(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(v) + `"`
}
