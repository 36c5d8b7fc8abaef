// Table tests of Parse: every rule a catalog row must keep, each broken on
// purpose, and the header and CSV problems around them.
//
// What they prove: each bad input gives exactly the expected errors, each
// with the right line number (the line where the row starts, counting the
// header, blank lines and line breaks inside quoted cells), the right
// column and a message that says what is wrong; a file with any error gives
// no rows at all; inputs on the edge of each rule (64-byte ids, stock at
// the engine's maximum, 64 windows, adjacent windows) are accepted.
//
// How: each case is a small CSV text and the errors expected as
// (line, column, part of the message); rows are read with the default
// Limits. Good files are checked field by field.
package catalog

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

const hdr = "sku,store,stock,limit,opens_at,closes_at,member_tier,member_units,member_cutoff,pickup_windows\n"

// want is one expected error: its line, its column and part of its message.
type want struct {
	line int
	col  string
	msg  string
}

// windowsCell returns n adjacent one-hour windows from 2026-09-20T00:00Z.
func windowsCell(n int) string {
	parts := make([]string, n)
	t0 := time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC)
	for i := range parts {
		start := t0.Add(time.Duration(i) * time.Hour)
		parts[i] = start.Format(time.RFC3339) + "/" + start.Add(time.Hour).Format(time.RFC3339) + "/5"
	}
	return strings.Join(parts, ";")
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("x", engine.MaxIDBytes+1)
	cases := []struct {
		name string
		in   string
		want []want
	}{
		// The file and its header.
		{"empty file", "", []want{{1, "", "the file is empty"}}},
		{"only blank lines", "\n\n", []want{{1, "", "the file is empty"}}},
		{"unknown column", "sku,store,stok\n", []want{{1, "", `unknown column "stok"`}, {1, "", `column "stock" is missing`}}},
		{"data where the header belongs", "4710088412345,TPE0427,10\n", []want{{1, "", "the first row must be the header"}}},
		{"column twice", "sku,store,stock,Stock\n", []want{{1, "", `column "stock" appears twice`}}},
		{"required column missing", "sku,stock\nA,1\n", []want{{1, "", `column "store" is missing`}}},
		{"header after blank lines", "\n\nsku,store,stok\n", []want{{3, "", `unknown column "stok"`}, {3, "", `column "stock" is missing`}}},

		// The shape of a row.
		{"too few fields", "sku,store,stock\nA,S1\n", []want{{2, "", "has 2 fields but the header has 3"}}},
		{"too many fields", "sku,store,stock\nA,S1,1,000\n", []want{{2, "", "has 4 fields but the header has 3"}}},
		{"bare quote, reading goes on", "sku,store,stock\nA,S\"1,1\nB,S1,x\n", []want{
			{2, "", "malformed CSV at line 2, column 4"}, {3, "stock", `"x" is not a whole number`}}},
		{"unclosed quote", "sku,store,stock\nA,S1,1\n\"B,S1,1\nC,S1,1\n", []want{{3, "", "malformed CSV"}}},
		{"duplicate item", "sku,store,stock\nA,S1,1\nA,S2,1\nA,S1,2\n", []want{{4, "", `sku "A" at store "S1" is already on line 2`}}},
		{"duplicate of a bad row", "sku,store,stock\nA,S1,x\nA,S1,2\n", []want{
			{2, "stock", "not a whole number"}, {3, "", "already on line 2"}}},

		// The limit is the SKU's: every row of a SKU gives the same.
		{"limits of one SKU disagree", "sku,store,stock,limit\nA,S1,1,2\nB,S1,1,\nA,S2,1,3\nA,S3,1,\nB,S2,1,\n", []want{
			{4, "limit", `sku "A" has limit 3 here but 2 on line 2`}, {5, "limit", `sku "A" has limit none (empty) here but 2 on line 2`}}},

		// Ids.
		{"sku empty", "sku,store,stock\n,S1,1\n", []want{{2, "sku", "is empty"}}},
		{"store empty", "sku,store,stock\nA,,1\n", []want{{2, "store", "is empty"}}},
		{"sku too long", "sku,store,stock\n" + long + ",S1,1\n", []want{{2, "sku", "is 65 bytes; ids have at most 64"}}},
		{"store too long", "sku,store,stock\nA," + long + ",1\n", []want{{2, "store", "is 65 bytes"}}},
		{"sku not UTF-8", "sku,store,stock\nA\xff,S1,1\n", []want{{2, "sku", "is not valid UTF-8"}}},
		{"sku control character", "sku,store,stock\n\"A\x01\",S1,1\n", []want{{2, "sku", `"A\x01" has an unprintable character U+0001`}}},
		{"store with a zero-width space", "sku,store,stock\nA,S\u200b1,1\n", []want{{2, "store", "has an unprintable character U+200B"}}},
		{"tab inside an id", "sku,store,stock\nA\tB,S1,1\n", []want{{2, "sku", "U+0009"}}},
		{"line break in an id", "sku,store,stock\n\"A\nB\",S1,1\nC,,1\n", []want{
			{2, "sku", "has an unprintable character U+000A"}, {4, "store", "is empty"}}},
		{"leading space", "sku,store,stock\n A,S1,1\n", []want{{2, "sku", `" A" has leading or trailing spaces`}}},
		{"trailing space", "sku,store,stock\nA,S1 ,1\n", []want{{2, "store", `"S1 " has leading or trailing spaces`}}},
		{"barcode in scientific notation", "sku,store,stock\n4.71009E+12,S1,1\n", []want{{2, "sku", "scientific notation"}}},

		// Numbers.
		{"stock empty", "sku,store,stock\nA,S1,\n", []want{{2, "stock", "is empty"}}},
		{"stock blank", "sku,store,stock\nA,S1,  \n", []want{{2, "stock", "is empty"}}},
		{"stock not a number", "sku,store,stock\nA,S1,12a\n", []want{{2, "stock", `"12a" is not a whole number`}}},
		{"stock with a fraction", "sku,store,stock\nA,S1,1.5\n", []want{{2, "stock", `"1.5" is not a whole number`}}},
		{"stock with a thousands separator", "sku,store,stock\nA,S1,\"1,000\"\n", []want{{2, "stock", `"1,000" is not a whole number`}}},
		{"stock negative", "sku,store,stock\nA,S1,-1\n", []want{{2, "stock", "-1 is negative"}}},
		{"stock over the engine's maximum", fmt.Sprintf("sku,store,stock\nA,S1,%d\n", engine.MaxStock+1), []want{{2, "stock", "is above 1073741824"}}},
		{"stock overflows int64", "sku,store,stock\nA,S1,99999999999999999999\n", []want{{2, "stock", "is out of range"}}},
		{"limit negative", "sku,store,stock,limit\nA,S1,1,-2\n", []want{{2, "limit", "-2 is negative"}}},
		{"limit over the maximum", fmt.Sprintf("sku,store,stock,limit\nA,S1,1,%d\n", engine.MaxStock+1), []want{{2, "limit", "is above"}}},
		{"limit not a number", "sku,store,stock,limit\nA,S1,1,two\n", []want{{2, "limit", `"two" is not a whole number`}}},

		// Sale window.
		{"opens_at not RFC3339", "sku,store,stock,opens_at\nA,S1,1,2026-09-01 12:00\n", []want{{2, "opens_at", "is not an RFC3339 time"}}},
		{"opens_at without offset", "sku,store,stock,opens_at\nA,S1,1,2026-09-01T12:00:00\n", []want{{2, "opens_at", "with an offset"}}},
		{"opens_at at the epoch", "sku,store,stock,opens_at\nA,S1,1,1970-01-01T00:00:00Z\n", []want{{2, "opens_at", "is not after 1970-01-01T00:00:00Z"}}},
		{"opens_at before 1970", "sku,store,stock,opens_at\nA,S1,1,1969-12-31T23:00:00Z\n", []want{{2, "opens_at", "is not after 1970"}}},
		{"closes_at after 2262", "sku,store,stock,closes_at\nA,S1,1,2263-01-01T00:00:00Z\n", []want{{2, "closes_at", "the last time the engine can hold"}}},
		{"closes before opens", "sku,store,stock,opens_at,closes_at\nA,S1,1,2026-09-02T00:00:00Z,2026-09-01T00:00:00Z\n", []want{{2, "closes_at", "must be after opens_at"}}},
		{"closes when opens", "sku,store,stock,opens_at,closes_at\nA,S1,1,2026-09-01T08:00:00+08:00,2026-09-01T00:00:00Z\n", []want{{2, "closes_at", "must be after opens_at"}}},

		// Member share.
		{"tier without units", "sku,store,stock,member_tier\nA,S1,1,1\n", []want{{2, "member_units", "is missing"}}},
		{"cutoff without units", "sku,store,stock,member_cutoff\nA,S1,1,2026-09-01T00:00:00Z\n", []want{{2, "member_units", "is missing"}}},
		{"units without tier", "sku,store,stock,member_units,member_cutoff\nA,S1,1,5,2026-09-01T00:00:00Z\n", []want{{2, "member_tier", "needs a tier 1..15"}}},
		{"units with tier 0", "sku,store,stock,member_tier,member_units,member_cutoff\nA,S1,1,0,5,2026-09-01T00:00:00Z\n", []want{{2, "member_tier", "needs a tier"}}},
		{"units without cutoff", "sku,store,stock,member_tier,member_units\nA,S1,1,1,5\n", []want{{2, "member_cutoff", "is missing"}}},
		{"tier over the maximum", "sku,store,stock,member_tier,member_units,member_cutoff\nA,S1,1,16,5,2026-09-01T00:00:00Z\n", []want{{2, "member_tier", "16 is not a tier (0..15)"}}},
		{"tier not a number", "sku,store,stock,member_tier,member_units,member_cutoff\nA,S1,1,gold,5,2026-09-01T00:00:00Z\n", []want{{2, "member_tier", `"gold" is not a whole number`}}},
		{"units negative", "sku,store,stock,member_tier,member_units,member_cutoff\nA,S1,1,1,-5,2026-09-01T00:00:00Z\n", []want{{2, "member_units", "-5 is negative"}}},
		{"cutoff not a time", "sku,store,stock,member_tier,member_units,member_cutoff\nA,S1,1,1,5,tomorrow\n", []want{{2, "member_cutoff", `"tomorrow" is not an RFC3339 time`}}},

		// Pickup windows.
		{"window not START/END/QUOTA", "sku,store,stock,pickup_windows\nA,S1,1,2026-09-20T10:00:00Z/2026-09-20T12:00:00Z\n", []want{{2, "pickup_windows", "window 1 (2026-09-20T10:00:00Z/2026-09-20T12:00:00Z): is not START/END/QUOTA"}}},
		{"window start not a time", "sku,store,stock,pickup_windows\nA,S1,1,10:00/2026-09-20T12:00:00Z/5\n", []want{{2, "pickup_windows", `window 1 (10:00/2026-09-20T12:00:00Z/5): start "10:00" is not an RFC3339 time`}}},
		{"window end not a time", "sku,store,stock,pickup_windows\nA,S1,1,2026-09-20T10:00:00Z/noon/5\n", []want{{2, "pickup_windows", `end "noon" is not an RFC3339 time`}}},
		{"window quota not a number", "sku,store,stock,pickup_windows\nA,S1,1,2026-09-20T10:00:00Z/2026-09-20T12:00:00Z/lots\n", []want{{2, "pickup_windows", `quota "lots" is not a whole number`}}},
		{"window quota negative", "sku,store,stock,pickup_windows\nA,S1,1,2026-09-20T10:00:00Z/2026-09-20T12:00:00Z/-1\n", []want{{2, "pickup_windows", "window 1 (2026-09-20T10:00:00Z/2026-09-20T12:00:00Z/-1): quota -1 is negative"}}},
		{"window quota over the maximum", fmt.Sprintf("sku,store,stock,pickup_windows\nA,S1,1,2026-09-20T10:00:00Z/2026-09-20T12:00:00Z/%d\n", engine.MaxStock+1), []want{{2, "pickup_windows", "quota 1073741825 is above"}}},
		{"window ends before it starts", "sku,store,stock,pickup_windows\nA,S1,1,2026-09-20T12:00:00Z/2026-09-20T10:00:00Z/5\n", []want{{2, "pickup_windows", "window 1 (2026-09-20T12:00:00Z/2026-09-20T10:00:00Z/5) must end after it starts"}}},
		{"window ends at its start", "sku,store,stock,pickup_windows\nA,S1,1,2026-09-20T12:00:00Z/2026-09-20T20:00:00+08:00/5\n", []want{{2, "pickup_windows", "must end after it starts"}}},
		{"windows overlap", "sku,store,stock,pickup_windows\nA,S1,1,2026-09-20T14:00:00Z/2026-09-20T16:00:00Z/5;2026-09-20T10:00:00Z/2026-09-20T12:00:00Z/5;2026-09-20T11:00:00Z/2026-09-20T13:00:00Z/5\n",
			[]want{{2, "pickup_windows", "windows 2 (2026-09-20T10:00:00Z/2026-09-20T12:00:00Z/5) and 3 (2026-09-20T11:00:00Z/2026-09-20T13:00:00Z/5) overlap"}}},
		{"window inside another", "sku,store,stock,pickup_windows\nA,S1,1,2026-09-20T10:00:00Z/2026-09-20T18:00:00Z/5;2026-09-20T12:00:00Z/2026-09-20T13:00:00Z/5\n", []want{{2, "pickup_windows", "windows 1 (2026-09-20T10:00:00Z/2026-09-20T18:00:00Z/5) and 2"}}},
		{"windows start together", "sku,store,stock,pickup_windows\nA,S1,1,2026-09-20T10:00:00Z/2026-09-20T12:00:00Z/5;2026-09-20T18:00:00+08:00/2026-09-20T11:00:00Z/5\n", []want{{2, "pickup_windows", "start at the same time"}}},
		{"too many windows", "sku,store,stock,pickup_windows\nA,S1,1," + windowsCell(engine.MaxWindowsPerItem+1) + "\n", []want{{2, "pickup_windows", "has 65 windows; an item has at most 64"}}},

		// Several problems of one row, and rows after a bad one.
		{"every problem of a row", "sku,store,stock,limit\n,S1,-1,x\nB,S1,1,1\nC,S1,y,1\n", []want{
			{2, "limit", `"x" is not a whole number`}, {2, "sku", "is empty"}, {2, "stock", "-1 is negative"},
			{4, "stock", `"y" is not a whole number`}}},
		{"line numbers count blank lines and CRLF", "sku,store,stock\r\n\r\nA,S1,1\r\n\r\n\r\nB,S1,x\r\n", []want{{6, "stock", `"x"`}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, errs := Parse(strings.NewReader(tc.in))
			if rows != nil {
				t.Errorf("rows = %v, want none from a bad file", rows)
			}
			checkErrors(t, errs, tc.want)
		})
	}
}

func checkErrors(t *testing.T, got []RowError, want []want) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = got[i].Line == want[i].line && got[i].Column == want[i].col && strings.Contains(got[i].Msg, want[i].msg)
	}
	if !ok {
		var b strings.Builder
		for _, e := range got {
			fmt.Fprintf(&b, "\n\t%s", e.Error())
		}
		t.Errorf("errors:%s\nwant %v", b.String(), want)
	}
}

func TestParseGood(t *testing.T) {
	id64 := strings.Repeat("7", engine.MaxIDBytes)
	cases := []struct {
		name string
		in   string
		want []Row
	}{
		{"header only", hdr, nil},
		{"columns by name, in any order, any case", "Stock, SKU ,store\n5,A,S1\n",
			[]Row{{Line: 2, SKU: "A", Store: "S1", Stock: 5}}},
		{"byte order mark", "\ufeffsku,store,stock\nA,S1,1\n", []Row{{Line: 2, SKU: "A", Store: "S1", Stock: 1}}},
		{"byte order mark before a quoted header", "\ufeff\"sku\",store,stock\nA,S1,1\n", []Row{{Line: 2, SKU: "A", Store: "S1", Stock: 1}}},
		{"edges of every range", fmt.Sprintf("sku,store,stock,limit,member_tier,member_units,member_cutoff\n%s,%s,%d,%d,15,%d,2262-04-11T23:47:16.854775807Z\n", id64, id64, engine.MaxStock, engine.MaxStock, engine.MaxStock),
			[]Row{{Line: 2, SKU: id64, Store: id64, Stock: engine.MaxStock, Limit: engine.MaxStock, LimitGiven: true, MemberTier: 15, MemberUnits: engine.MaxStock, MemberCutoff: 1<<63 - 1}}},
		{"ids are taken as written", "sku,store,stock\n\"a,\"\"b\"\"\",台北信義,0\n", []Row{{Line: 2, SKU: `a,"b"`, Store: "台北信義", Stock: 0}}},
		{"a SKU's limit on each of its rows", "sku,store,stock,limit\nA,S1,1,2\nB,S1,1,\nA,S2,1,2\n",
			[]Row{{Line: 2, SKU: "A", Store: "S1", Stock: 1, Limit: 2, LimitGiven: true}, {Line: 3, SKU: "B", Store: "S1", Stock: 1, LimitGiven: true},
				{Line: 4, SKU: "A", Store: "S2", Stock: 1, Limit: 2, LimitGiven: true}}},
		{"spaces around other cells", "sku,store,stock,limit,opens_at\nA,S1, 3 , 2 , 2026-09-01T12:00:00+08:00 \n",
			[]Row{{Line: 2, SKU: "A", Store: "S1", Stock: 3, Limit: 2, LimitGiven: true, OpensAt: 1788235200e9}}},
		{"windows sorted, adjacent, empty items skipped", "sku,store,stock,pickup_windows\nA,S1,1, 2026-09-20T11:00:00Z/2026-09-20T12:00:00Z/0 ; ;2026-09-20T10:00:00Z/2026-09-20T11:00:00Z/7;\n",
			[]Row{{Line: 2, SKU: "A", Store: "S1", Stock: 1, Windows: []Window{{1789898400e9, 1789902000e9, 7}, {1789902000e9, 1789905600e9, 0}}}}},
		{"64 windows", "sku,store,stock,pickup_windows\nA,S1,1," + windowsCell(engine.MaxWindowsPerItem) + "\n", nil}, // checked below by count
		{"multi-line cell moves the next row's line", "sku,store,stock,pickup_windows\nA,S1,1,\"2026-09-20T10:00:00Z/2026-09-20T11:00:00Z/7;\n2026-09-20T11:00:00Z/2026-09-20T12:00:00Z/7\"\nB,S1,2,\n",
			[]Row{{Line: 2, SKU: "A", Store: "S1", Stock: 1, Windows: []Window{{1789898400e9, 1789902000e9, 7}, {1789902000e9, 1789905600e9, 7}}}, {Line: 4, SKU: "B", Store: "S1", Stock: 2}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, errs := Parse(strings.NewReader(tc.in))
			checkErrors(t, errs, nil)
			if tc.name == "64 windows" {
				if len(rows) != 1 || len(rows[0].Windows) != engine.MaxWindowsPerItem {
					t.Fatalf("rows = %+v", rows)
				}
				return
			}
			for i := range rows {
				rows[i].Absent = 0 // which settings the header names: TestAbsentSettings
			}
			if got, want := fmt.Sprintf("%+v", rows), fmt.Sprintf("%+v", tc.want); got != want {
				t.Errorf("rows\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestRowErrorString(t *testing.T) {
	for _, tc := range []struct {
		e    RowError
		want string
	}{
		{RowError{Line: 7, Column: "stock", Msg: `"x" is not a whole number`}, `line 7: stock: "x" is not a whole number`},
		{RowError{Line: 3, Msg: "malformed CSV"}, "line 3: malformed CSV"},
		{RowError{Column: "sku", Msg: "is empty"}, "sku: is empty"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%#v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

// TestSKULimits: one limit per SKU, in the order of the SKUs' first rows,
// from a file with a limit column; none from a file without one.
func TestSKULimits(t *testing.T) {
	rows, errs := Parse(strings.NewReader("sku,store,stock,limit\nB,S1,1,\nA,S1,1,2\nA,S2,1,2\nB,S2,1,\n"))
	checkErrors(t, errs, nil)
	got := SKULimits(rows)
	want := []SKULimit{{SKU: "B", Limit: 0, Line: 2}, {SKU: "A", Limit: 2, Line: 3}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SKULimits = %+v, want %+v", got, want)
	}
	rows, _ = Parse(strings.NewReader("sku,store,stock\nA,S1,1\n"))
	if got := SKULimits(rows); len(got) != 0 {
		t.Errorf("a file without a limit column: %+v", got)
	}
}
