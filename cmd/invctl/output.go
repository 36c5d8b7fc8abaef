package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
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

// jsonID is an id in invctl's JSON output: a decimal string. Reservation
// ids use all 64 bits (the shard is in the top bits), and JSON readers
// that hold numbers as doubles (jq, JavaScript) lose digits above 2^53;
// every id is a string so that none has to be special-cased. Reading one
// accepts a string or a number.
type jsonID uint64

func (id jsonID) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatUint(uint64(id), 10)), nil
}

func (id *jsonID) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseUint(unquote(string(b)), 10, 64)
	if err != nil {
		return fmt.Errorf("id %s: want a decimal number or string", b)
	}
	*id = jsonID(v)
	return nil
}

func jsonIDs[T ~uint32 | ~uint64](ids []T) []jsonID {
	out := make([]jsonID, len(ids))
	for i, v := range ids {
		out[i] = jsonID(v)
	}
	return out
}

// unquote strips the double quotes of an id pasted from invctl's JSON.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
