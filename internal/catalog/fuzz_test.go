// FuzzParse feeds Parse arbitrary bytes.
//
// What it proves: Parse never panics and never hangs on any input; it
// returns rows or errors, never both; errors carry a line, a message and
// come in line order, no more than the limit allows; and every file Parse
// accepts is one the engine accepts whole (each row's Commands succeed and
// the engine then holds exactly the rows), and one that survives a round
// trip: Write of the rows parses back to the same rows, and writing those
// gives the same bytes again.
//
// How: go test's fuzzing engine, seeded with the files in
// testdata/fuzz/FuzzParse/ (good catalogs, and each kind of bad one), with
// small Limits so that each run is quick. Run it with
// `go test ./internal/catalog -run '^$' -fuzz FuzzParse -fuzztime 30s`.
package catalog

import (
	"bytes"
	"reflect"
	"testing"
)

var fuzzLimits = Limits{MaxFileBytes: 64 << 10, MaxLineBytes: 8 << 10, MaxRows: 64, MaxErrors: 16}

func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, errs := fuzzLimits.Parse(bytes.NewReader(data))
		if rows != nil && errs != nil {
			t.Fatalf("both rows and errors: %d rows, %v", len(rows), errs)
		}
		if errs != nil {
			checkErrorList(t, errs)
			return
		}
		if len(rows) == 0 {
			return // a header alone, or blank lines after it
		}
		for i, r := range rows {
			if r.Line < 2 || (i > 0 && r.Line <= rows[i-1].Line) {
				t.Fatalf("row %d has line %d after line %d", i, r.Line, rows[max(i-1, 0)].Line)
			}
		}
		held := load(t, rows) // fails the test if the engine refuses any command
		if want := catalogOf(itemsOf(rows)); !reflect.DeepEqual(held, want) {
			t.Fatalf("the engine holds\n%+v\nwant\n%+v", held, want)
		}
		var first, second bytes.Buffer
		if err := Write(&first, itemsOf(rows)); err != nil {
			t.Fatalf("Write refuses rows Parse accepted: %v", err)
		}
		again, errs := fuzzLimits.Parse(bytes.NewReader(first.Bytes()))
		if errs != nil {
			t.Fatalf("Parse(Write(rows)) errors: %v\n%s", errs, first.String())
		}
		if got, want := itemsOf(again), catalogOf(itemsOf(rows)); !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
		}
		if err := Write(&second, itemsOf(again)); err != nil || second.String() != first.String() {
			t.Fatalf("second Write differs (%v):\n%s\n%s", err, second.String(), first.String())
		}
	})
}

func checkErrorList(t *testing.T, errs []RowError) {
	t.Helper()
	if len(errs) > fuzzLimits.MaxErrors+1 { // the limit, and the error saying Parse stopped
		t.Fatalf("%d errors, limit %d", len(errs), fuzzLimits.MaxErrors)
	}
	for i, e := range errs {
		if e.Line < 1 || e.Msg == "" {
			t.Fatalf("error without a line or a message: %#v", e)
		}
		if i > 0 && e.Line < errs[i-1].Line {
			t.Fatalf("errors out of line order: %v after %v", e, errs[i-1])
		}
	}
}
