package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// table prints rows under a header, columns aligned.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// show prints v as JSON with --json, else as the table rows gives.
func show(e *env, v any, header []string, rows func() [][]string) error {
	if e.json {
		return json.NewEncoder(e.stdout).Encode(v)
	}
	return table(e.stdout, header, rows())
}

// timeText prints a time for a table: RFC 3339 in UTC, "-" when unset.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func num[T ~int64 | ~uint64 | ~uint8 | ~int](n T) string { return fmt.Sprint(n) }
