// Package cli holds what invd, invctl and invbench share on the command
// line, on top of the standard flag package (docs/adr/0082): flags marked
// required, which help shows as such and a parse without them refuses, and
// one layout of a flag list. It imports only the standard library.
package cli

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// requiredMark ends the usage text of a required flag; Missing looks for it.
const requiredMark = " (required)"

// Require marks the named flags of fs as required: help shows them so, and
// Missing lists those not given. A name fs lacks is a programming error.
func Require(fs *flag.FlagSet, names ...string) {
	for _, n := range names {
		f := fs.Lookup(n)
		if f == nil {
			panic("cli.Require: no flag --" + n)
		}
		if !IsRequired(f) {
			f.Usage += requiredMark
		}
	}
}

// IsRequired reports whether Require marked f.
func IsRequired(f *flag.Flag) bool { return strings.HasSuffix(f.Usage, requiredMark) }

// Missing returns the required flags of fs that the parsed command line
// did not give, or gave empty (--sku ""), in order.
func Missing(fs *flag.FlagSet) []string {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = f.Value.String() != "" })
	var out []string
	fs.VisitAll(func(f *flag.Flag) {
		if IsRequired(f) && !given[f.Name] {
			out = append(out, f.Name)
		}
	})
	return out
}

// MissingError is nil when every required flag was given, else an error
// naming them ("--sku and --store are required").
func MissingError(fs *flag.FlagSet) error {
	m := Missing(fs)
	switch len(m) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("--%s is required", m[0])
	}
	for i := range m {
		m[i] = "--" + m[i]
	}
	return fmt.Errorf("%s and %s are required", strings.Join(m[:len(m)-1], ", "), m[len(m)-1])
}

// PrintFlags writes fs's flags one a line, aligned: "--name TYPE  usage",
// with the default when it is not the zero value and the flag is not
// required (a required flag's default is never used).
func PrintFlags(w io.Writer, fs *flag.FlagSet) {
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	sort.SliceStable(flags, func(i, j int) bool { // required ones first
		return IsRequired(flags[i]) && !IsRequired(flags[j])
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range flags {
		typ, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if typ != "" {
			name += " " + typ
		}
		if !IsRequired(f) && !zeroDefault(f.DefValue) {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, usage)
	}
	tw.Flush()
}

func zeroDefault(v string) bool {
	switch v {
	case "", "0", "false", "0s", "[]":
		return true
	}
	return strings.HasPrefix(v, "0 ") // a repeatable flag's "0 windows"
}

// Names lists fs's flags as "--name", for shell completion.
func Names(fs *flag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) { out = append(out, "--"+f.Name) })
	return out
}
