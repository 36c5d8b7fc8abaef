// Package promtext puts a Prometheus text page (exposition format 0.0.4)
// into the shape Prometheus and its tools expect of it, whatever order and
// metadata its writers produced:
//
//   - every metric family once, its series together (writers that loop over
//     shards and write several families per shard interleave them);
//   - one "# HELP family text" and one "# TYPE family type" line before each
//     family, the text from a table the caller gives;
//   - counters named "…_total" and "…_total" families typed counter (the
//     process and Go runtime writers of github.com/VictoriaMetrics/metrics
//     write go_cgo_calls_count and go_gc_forced_count as counters, and
//     process_io_read_bytes_total and its kin as gauges).
//
// It reads the TYPE lines the writers emit (metrics.ExposeMetadata(true));
// a sample whose family has no TYPE line is typed "untyped". Comment lines
// other than TYPE, and the writers' own HELP lines, are dropped.
package promtext

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// Help returns the help text of a metric family ("" for none).
type Help func(family string) string

type family struct {
	name, typ string
	lines     [][]byte
}

// Normalize reads the page in src and writes it to w, normalized as the
// package says. It keeps the order in which the families first appear.
func Normalize(w io.Writer, src []byte, help Help) error {
	var order []*family
	byName := map[string]*family{}
	types := map[string]string{} // family → TYPE as written
	get := func(name string) *family {
		f := byName[name]
		if f == nil {
			f = &family{name: name, typ: types[name]}
			byName[name] = f
			order = append(order, f)
		}
		return f
	}
	for line := range bytes.Lines(src) {
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if line[0] == '#' {
			fields := strings.Fields(string(line[1:]))
			if len(fields) >= 3 && fields[0] == "TYPE" {
				types[fields[1]] = fields[2]
				if f := byName[fields[1]]; f != nil && f.typ == "" {
					f.typ = fields[2]
				}
			}
			continue
		}
		name := sampleName(line)
		fam := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base, ok := strings.CutSuffix(name, suffix)
			if ok && (types[base] == "histogram" || types[base] == "summary") {
				fam = base
				break
			}
		}
		f := get(fam)
		f.lines = append(f.lines, line)
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	for _, f := range order {
		typ := f.typ
		if typ == "" {
			typ = "untyped"
		}
		name := f.name
		var rename string
		switch {
		case typ == "counter" && !strings.HasSuffix(name, "_total"):
			rename = strings.TrimSuffix(name, "_count") + "_total"
		case strings.HasSuffix(name, "_total") && typ != "counter":
			typ = "counter"
		}
		out := name
		if rename != "" {
			out = rename
		}
		text := ""
		if help != nil {
			text = help(out)
		}
		bw.WriteString("# HELP ")
		bw.WriteString(out)
		if text != "" {
			bw.WriteByte(' ')
			bw.WriteString(escapeHelp(text))
		}
		bw.WriteString("\n# TYPE ")
		bw.WriteString(out)
		bw.WriteByte(' ')
		bw.WriteString(typ)
		bw.WriteByte('\n')
		for _, l := range f.lines {
			if rename != "" {
				bw.WriteString(rename)
				l = l[len(name):]
			}
			bw.Write(l)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// sampleName returns the metric name of a sample line: up to the labels or
// the value.
func sampleName(line []byte) string {
	i := bytes.IndexAny(line, "{ \t")
	if i < 0 {
		return string(line)
	}
	return string(line[:i])
}

// escapeHelp escapes a help text as the format asks: backslash and newline.
func escapeHelp(s string) string {
	if !strings.ContainsAny(s, "\\\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}
