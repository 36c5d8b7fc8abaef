// What this file proves: invctl import puts a catalogue's items in bulk
// puts (docs/adr/0121) and keeps its promise that a row the engine refuses
// is reported while every other row loads: a bulk put is all or none, so
// the refused row is taken out and the rest put again. A file of 60 rows
// over 3 stores (every shard of the server), where one row would take its
// item's stock below a hold made before the import: that row is listed
// with its line and refusal, exit 1, "imported 59 of 60 rows", every other
// row at its new stock with its window, and the refused item as it was,
// without the row's window.
package main_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestInvctlImportRefusedRowInBulk(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	a := startServer(t, 4).Addr()
	ok(t, a, "item", "put", "--sku", "4710000000007", "--store", "TPE0001", "--stock", "5")
	ok(t, a, "reserve", "--sku", "4710000000007", "--store", "TPE0001", "--customer", "c1", "--qty", "3")
	var b strings.Builder
	b.WriteString("sku,store,stock,pickup_windows\n")
	const rows = 60
	for i := range rows {
		stock := 20 + i
		if i == 22 { // line 24: 4710000000007 at TPE0001, below the 3 units held
			stock = 2
		}
		fmt.Fprintf(&b, "47100000000%02d,TPE%04d,%d,2039-06-01T10:00:00Z/2039-06-01T12:00:00Z/3\n", i/3, i%3, stock)
	}
	file := filepath.Join(t.TempDir(), "catalog.csv")
	writeFile(t, file, b.String())
	out, errs, code := invctl(t, a, "import", "--quiet", file)
	if code != 1 || out != fmt.Sprintf("imported %d of %d rows", rows-1, rows) {
		t.Fatalf("import: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	mustContain(t, "the refused row", errs, "line 24: 4710000000007/TPE0001: below_promised")
	var items []itemOut
	okJSON(t, a, &items, "item", "list")
	if len(items) != rows {
		t.Fatalf("%d items after the import, want %d", len(items), rows)
	}
	for _, it := range items {
		refused := it.SKU == "4710000000007" && it.Store == "TPE0001"
		if refused && (it.Stock != 5 || len(it.Windows) != 0) || !refused && (it.Stock < 20 || len(it.Windows) != 1) {
			t.Fatalf("after the import: %+v (the refused row's item: %v)", it, refused)
		}
	}
}
