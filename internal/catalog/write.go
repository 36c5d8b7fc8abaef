package catalog

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/invsys/inv/engine"
)

// Write writes items as a catalog, times in UTC. See WriteIn.
func Write(w io.Writer, items []engine.ItemInfo) error { return WriteIn(w, items, time.UTC) }

// WriteIn writes items as a catalog, in the format Parse reads, with times
// in loc (nil is UTC): a header with every column, then one row per item
// sorted by SKU then store, its windows by start. Only the catalog of an
// item is written, not its counts.
//
// It first checks every item with the rules Parse applies and writes
// nothing if one breaks them, since an export the import refuses is no
// export; the error names each such item (the first DefaultMaxErrors).
// Items is left unchanged.
func WriteIn(w io.Writer, items []engine.ItemInfo, loc *time.Location) error {
	return WriteZoned(w, items, func(string) *time.Location { return loc })
}

// WriteZoned writes items as WriteIn does, each row's times in the zone
// zoneOf gives for its store (nil is UTC): a catalog whose windows read as
// the stores' own clocks do (docs/adr/0102). The instants are the same in
// any zone, so Parse reads back the same catalog.
func WriteZoned(w io.Writer, items []engine.ItemInfo, zoneOf func(store string) *time.Location) error {
	in := func(store string) *time.Location {
		if loc := zoneOf(store); loc != nil {
			return loc
		}
		return time.UTC
	}
	rows := make([]Row, len(items))
	for i := range items {
		rows[i] = rowOf(items[i])
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].SKU != rows[j].SKU {
			return rows[i].SKU < rows[j].SKU
		}
		return rows[i].Store < rows[j].Store
	})
	if err := checkItems(rows, in); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write(colNames[:])
	rec := make([]string, numCols)
	for i := range rows {
		cw.Write(record(&rows[i], in(rows[i].Store), rec))
	}
	cw.Flush()
	return cw.Error()
}

// checkItems returns every problem of sorted rows, joined, or nil.
func checkItems(rows []Row, in func(store string) *time.Location) error {
	var errs []error
	for i := range rows {
		r := &rows[i]
		loc := in(r.Store)
		if i > 0 && rows[i-1].SKU == r.SKU && rows[i-1].Store == r.Store {
			errs = append(errs, fmt.Errorf("item sku %q at store %q is given twice", r.SKU, r.Store))
		}
		label := func(k int) string { return fmt.Sprintf("%d (%s)", k+1, formatWindow(r.Windows[k], loc)) }
		for _, e := range check(r, 0, label) {
			errs = append(errs, fmt.Errorf("item sku %q at store %q: %w", r.SKU, r.Store, e))
		}
		if len(errs) >= DefaultMaxErrors {
			errs = errs[:DefaultMaxErrors]
			break
		}
	}
	return errors.Join(errs...)
}

// record fills rec with the cells of r, in colNames order.
func record(r *Row, loc *time.Location, rec []string) []string {
	rec[colSKU], rec[colStore] = r.SKU, r.Store
	rec[colStock] = strconv.FormatInt(r.Stock, 10)
	rec[colLimit] = ""
	if r.Limit != 0 {
		rec[colLimit] = strconv.FormatInt(r.Limit, 10)
	}
	rec[colOpensAt], rec[colClosesAt] = formatTime(r.OpensAt, loc), formatTime(r.ClosesAt, loc)
	rec[colMemberTier], rec[colMemberUnits], rec[colMemberCutoff] = "", "", ""
	if r.MemberUnits != 0 {
		rec[colMemberTier] = strconv.Itoa(int(r.MemberTier))
		rec[colMemberUnits] = strconv.FormatInt(r.MemberUnits, 10)
		rec[colMemberCutoff] = formatTime(r.MemberCutoff, loc)
	}
	var b strings.Builder
	for i, w := range r.Windows {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(formatWindow(w, loc))
	}
	rec[colWindows] = b.String()
	return rec
}

func formatWindow(w Window, loc *time.Location) string {
	return formatTime(w.Start, loc) + "/" + formatTime(w.End, loc) + "/" + strconv.FormatInt(w.Quota, 10)
}

// formatTime writes Unix nanoseconds as RFC3339 in loc; 0 is "" (none).
func formatTime(ns int64, loc *time.Location) string {
	if ns == 0 {
		return ""
	}
	t := time.Unix(0, ns).In(loc)
	if _, offset := t.Zone(); offset%60 != 0 {
		t = t.UTC() // RFC3339 offsets have no seconds (Monrovia until 1972 had): the time would change
	}
	return t.Format(time.RFC3339Nano)
}
