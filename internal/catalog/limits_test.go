// Tests of the bounds of Parse: file bytes, line bytes, rows and errors,
// and a reader that fails.
//
// What they prove: input exactly at a limit is read in full; one byte, one
// row or one error more stops Parse with an error that names the limit and
// the line where it was reached, and no rows; an endless input (one
// endless line, or endless short lines) is stopped by the limits instead of
// filling memory; a read error is reported, not swallowed.
//
// How: small Limits against small texts built to sit on each edge, and
// readers that never end or fail part way.
package catalog

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestLimits(t *testing.T) {
	three := "sku,store,stock\nA,S1,1\nB,S1,1\nC,S1,1\n" // 37 bytes, lines of at most 15
	bad := "sku,store,stock\nA,S1,x\nB,S1,x\nC,S1,x\nD,S1,x\nE,S1,x\n"
	cases := []struct {
		name  string
		lim   Limits
		in    string
		rows  int
		wants []want
	}{
		{"file at the limit", Limits{MaxFileBytes: int64(len(three))}, three, 3, nil},
		{"file one byte over", Limits{MaxFileBytes: int64(len(three)) - 1}, three, 0, []want{{4, "", "the file is larger than 36 bytes"}}},
		{"lines at the limit", Limits{MaxLineBytes: 15}, three, 3, nil},
		{"a line one byte over", Limits{MaxLineBytes: 14}, three, 0, []want{{1, "", "the line is longer than 14 bytes"}}},
		{"a later line over", Limits{MaxLineBytes: 15}, three + "D,S1,123456789012\n", 0, []want{{5, "", "longer than 15 bytes"}}},
		{"CR counts in a line", Limits{MaxLineBytes: 15}, "sku,store,stock\r\nA,S1,1\r\n", 0, []want{{1, "", "longer than 15 bytes"}}},
		{"rows at the limit", Limits{MaxRows: 3}, three, 3, nil},
		{"one row over", Limits{MaxRows: 2}, three, 0, []want{{4, "", "more than 2 rows"}}},
		{"malformed rows count", Limits{MaxRows: 2}, "sku,store,stock\nA,S\"1,1\nB,S\"1,1\nC,S1,1\n", 0, []want{
			{2, "", "malformed CSV"}, {3, "", "malformed CSV"}, {4, "", "more than 2 rows"}}},
		{"errors at the limit", Limits{MaxErrors: 5}, bad, 0, []want{
			{2, "stock", "x"}, {3, "stock", "x"}, {4, "stock", "x"}, {5, "stock", "x"}, {6, "stock", "x"}}},
		{"one error over", Limits{MaxErrors: 3}, bad, 0, []want{
			{2, "stock", "x"}, {3, "stock", "x"}, {4, "stock", "x"}, {5, "", "stopped after 3 errors"}}},
		{"errors of one row cut at the limit", Limits{MaxErrors: 2}, "sku,store,stock,limit\n,,x,y\n", 0, []want{
			{2, "stock", "x"}, {2, "limit", "y"}, {2, "", "stopped after 2 errors"}}},
		{"header errors count", Limits{MaxErrors: 2}, "sku,store,stock,a,b,c\n", 0, []want{
			{1, "", `unknown column "a"`}, {1, "", `unknown column "b"`}, {1, "", "stopped after 2 errors"}}},
		{"malformed CSV counts as errors", Limits{MaxErrors: 1}, "sku,store,stock\nA,S\"1,1\nB,S\"1,1\n", 0, []want{
			{2, "", "malformed CSV"}, {3, "", "stopped after 1 errors"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, errs := tc.lim.Parse(strings.NewReader(tc.in))
			checkErrors(t, errs, tc.wants)
			if len(rows) != tc.rows {
				t.Errorf("%d rows, want %d", len(rows), tc.rows)
			}
		})
	}
}

// endless is a reader that never ends: each Read gives the next piece.
type endless struct {
	next func() string
	buf  string
}

func (e *endless) Read(p []byte) (int, error) {
	for len(e.buf) < len(p) {
		e.buf += e.next()
	}
	n := copy(p, e.buf)
	e.buf = e.buf[n:]
	return n, nil
}

func TestEndlessInput(t *testing.T) {
	t.Run("one endless line", func(t *testing.T) {
		_, errs := Parse(&endless{next: func() string { return "xxxxxxxxxxxxxxxx" }})
		checkErrors(t, errs, []want{{1, "", "the line is longer than 16384 bytes"}})
	})
	t.Run("endless short lines", func(t *testing.T) {
		n := 0
		in := &endless{next: func() string {
			n++
			if n == 1 {
				return "sku,store,stock\n"
			}
			return fmt.Sprintf("SKU%d,S1,1\n", n)
		}}
		_, errs := Limits{MaxFileBytes: 1 << 20}.Parse(in)
		if len(errs) != 1 || !strings.Contains(errs[0].Msg, "the file is larger than 1048576 bytes") {
			t.Fatalf("errors = %v", errs)
		}
	})
	t.Run("endless quoted cell", func(t *testing.T) {
		n := 0
		in := &endless{next: func() string {
			n++
			if n == 1 {
				return "sku,store,stock\nA,\""
			}
			return "line\n"
		}}
		_, errs := Limits{MaxFileBytes: 1 << 16}.Parse(in)
		if len(errs) != 1 || !strings.Contains(errs[0].Msg, "the file is larger than 65536 bytes") {
			t.Fatalf("errors = %v", errs)
		}
	})
}

func TestReadError(t *testing.T) {
	failing := io.MultiReader(strings.NewReader("sku,store,stock\nA,S1,1\nB,S1,1\n"), iotest.ErrReader(errors.New("disk on fire")))
	rows, errs := Parse(failing)
	checkErrors(t, errs, []want{{4, "", "reading the file: disk on fire"}})
	if rows != nil {
		t.Errorf("rows = %v, want none", rows)
	}
}
