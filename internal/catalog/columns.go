package catalog

import (
	"fmt"
	"strings"
)

// The columns of the format, in the order Write writes them.
const (
	colSKU = iota
	colStore
	colStock
	colLimit
	colOpensAt
	colClosesAt
	colMemberTier
	colMemberUnits
	colMemberCutoff
	colWindows
	numCols
)

var colNames = [numCols]string{
	"sku", "store", "stock", "limit", "opens_at", "closes_at",
	"member_tier", "member_units", "member_cutoff", "pickup_windows",
}

// required columns: a row without them does not say what to load.
var required = []int{colSKU, colStore, colStock}

// header maps a header row to the index of each column in a record (-1 =
// absent). It returns every problem of the header: an unknown, repeated or
// missing column makes every row unreadable, so Parse stops there.
func header(rec []string) ([numCols]int, []string) {
	var idx [numCols]int
	for i := range idx {
		idx[i] = -1
	}
	known := 0
	for _, name := range rec {
		if colIndex(strings.ToLower(strings.TrimSpace(name))) >= 0 {
			known++
		}
	}
	if known == 0 {
		return idx, []string{fmt.Sprintf("the first row must be the header, but none of its cells names a column (columns are %s)",
			strings.Join(colNames[:], ", "))}
	}
	var msgs []string
	for i, name := range rec {
		key := strings.ToLower(strings.TrimSpace(name))
		c := colIndex(key)
		switch {
		case c < 0:
			msgs = append(msgs, fmt.Sprintf("unknown column %q (columns are %s)",
				name, strings.Join(colNames[:], ", ")))
		case idx[c] >= 0:
			msgs = append(msgs, fmt.Sprintf("column %q appears twice", key))
		default:
			idx[c] = i
		}
	}
	for _, c := range required {
		if idx[c] < 0 {
			msgs = append(msgs, fmt.Sprintf("column %q is missing (required: sku, store, stock)", colNames[c]))
		}
	}
	return idx, msgs
}

func colIndex(name string) int {
	for c, n := range colNames {
		if n == name {
			return c
		}
	}
	return -1
}
