// Examples of the package's use, run as tests: what an importer does with
// a bad file and with a good one.
//
// What they prove: the messages an operator reads (line, column, what is
// wrong) are exactly those shown, and a good row becomes the commands shown.
//
// How: go test compares each example's output with its Output comment.
package catalog_test

import (
	"fmt"
	"strings"

	"github.com/invsys/inv/internal/catalog"
)

func ExampleParse() {
	file := `sku,store,stock,limit,pickup_windows
4710088412345,TPE0427,120,2,2026-09-20T10:00:00+08:00/2026-09-20T14:00:00+08:00/60
4710088412345,TPE0511,12a,2,
4710088412345,TPE0427,80,-1,
`
	rows, errs := catalog.Parse(strings.NewReader(file))
	fmt.Println(len(rows), "rows loaded")
	for _, e := range errs {
		fmt.Println(e)
	}
	// Output:
	// 0 rows loaded
	// line 3: stock: "12a" is not a whole number
	// line 4: sku "4710088412345" at store "TPE0427" is already on line 2
	// line 4: limit: -1 is negative
}

func ExampleRow_Commands() {
	file := `sku,store,stock,pickup_windows
4710088412345,TPE0427,120,2026-09-20T10:00:00+08:00/2026-09-20T14:00:00+08:00/60
`
	rows, _ := catalog.Parse(strings.NewReader(file))
	for _, c := range rows[0].Commands() {
		fmt.Println(c.Op, string(c.SKU), string(c.Store), c.Stock, c.Window, c.WindowEnd, c.Quota)
	}
	// Output:
	// update_item 4710088412345 TPE0427 120 0 0 0
	// put_window 4710088412345 TPE0427 0 1789869600000000000 1789884000000000000 60
}
