package catalog

import (
	"bufio"
	"bytes"
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

// The stores file: one row per store with its time zone and its pickup
// windows, whose capacity every SKU of the store shares (docs/adr/0071).
//
//	column          required  empty means     value
//	store           yes       -               store id, 1-64 bytes, as in the catalog
//	time_zone       no        left as it is   IANA name (Asia/Taipei) of the zone the store's windows print in
//	pickup_windows  no        none            START/END/CAPACITY;... : units of every SKU together per window
//
// The rules of the catalog hold (UTF-8 CSV, a byte order mark skipped,
// columns by name in any order, ids as written, times RFC3339 with an
// offset); a store appears on one row only, has at most 256 windows
// (engine.MaxWindowsPerStore), none overlapping. ParseStores checks the
// whole file first, as Parse does.

var storeColNames = [...]string{"store", "time_zone", "pickup_windows"}

const (
	scStore = iota
	scZone
	scWindows
)

// StoreRow is one valid row of a stores file. Times are Unix nanoseconds;
// a window's Quota is its capacity.
type StoreRow struct {
	Line    int
	Store   string
	Zone    string // "" = not given
	Windows []Window
}

// Commands returns the commands that load the row: put_store when it gives
// a zone, then one put_store_window per window in start order.
func (r StoreRow) Commands() []engine.Command {
	store := []byte(r.Store)
	var cmds []engine.Command
	if r.Zone != "" {
		cmds = append(cmds, engine.Command{Op: engine.OpPutStore, Store: store, Zone: []byte(r.Zone)})
	}
	for _, w := range r.Windows {
		cmds = append(cmds, engine.Command{Op: engine.OpPutStoreWindow, Store: store, Window: w.Start, WindowEnd: w.End, Quota: w.Quota})
	}
	return cmds
}

// ParseStores reads a stores file with the default Limits.
func ParseStores(r io.Reader) ([]StoreRow, []RowError) { return Limits{}.ParseStores(r) }

// ParseStores reads a stores file and checks every row: it returns every
// row, or every error found and no row.
func (l Limits) ParseStores(r io.Reader) ([]StoreRow, []RowError) {
	l = l.withDefaults()
	in := &boundedReader{r: r, maxFile: l.MaxFileBytes, maxLine: l.MaxLineBytes, line: 1}
	buf := bufio.NewReader(in)
	if bom, _ := buf.Peek(3); bytes.Equal(bom, []byte("\ufeff")) {
		buf.Discard(3)
	}
	cr := csv.NewReader(buf)
	cr.FieldsPerRecord = -1
	var errs []RowError
	fail := func(line int, col, format string, args ...any) {
		errs = append(errs, RowError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)})
	}
	head, err := cr.Read()
	if err != nil {
		fail(1, "", "the file has no header row (store,time_zone,pickup_windows): %v", err)
		return nil, errs
	}
	cols := [3]int{-1, -1, -1}
	for i, name := range head {
		k := -1
		for j, n := range storeColNames {
			if strings.EqualFold(strings.TrimSpace(name), n) {
				k = j
			}
		}
		switch {
		case k < 0:
			fail(1, "", "header: unknown column %q (store, time_zone, pickup_windows)", name)
		case cols[k] >= 0:
			fail(1, "", "header: column %q twice", name)
		default:
			cols[k] = i
		}
	}
	if cols[scStore] < 0 {
		fail(1, "", "header: the store column is missing")
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var rows []StoreRow
	seen := map[string]int{}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		var le *limitError
		switch {
		case errors.As(err, &le):
			fail(le.line, "", "%s", le.msg)
			return nil, errs
		case err != nil:
			fail(line, "", "malformed CSV: %v", err)
			return nil, errs
		case n >= l.MaxRows:
			fail(line, "", "more than %d rows", l.MaxRows)
			return nil, errs
		case len(rec) != len(head):
			fail(line, "", "has %d fields but the header has %d", len(rec), len(head))
			continue
		}
		row, rowErrs := storeRecord(rec, cols)
		row.Line = line
		for _, e := range rowErrs {
			e.Line = line
			errs = append(errs, e)
		}
		if first, dup := seen[row.Store]; dup {
			fail(line, "", "store %q is already on line %d", row.Store, first)
		} else {
			seen[row.Store] = line
		}
		if len(errs) > l.MaxErrors {
			errs = errs[:l.MaxErrors]
			fail(line, "", "stopped after %d errors", l.MaxErrors)
			return nil, errs
		}
		rows = append(rows, row)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return rows, nil
}

// storeRecord reads and checks one row.
func storeRecord(rec []string, cols [3]int) (StoreRow, []RowError) {
	get := func(k int) string {
		if cols[k] < 0 {
			return ""
		}
		return rec[cols[k]]
	}
	var errs []RowError
	add := func(k int, format string, args ...any) {
		errs = append(errs, RowError{Column: storeColNames[k], Msg: fmt.Sprintf(format, args...)})
	}
	r := StoreRow{Store: strings.Clone(get(scStore)), Zone: strings.TrimSpace(get(scZone))}
	if msg := checkID(r.Store); msg != "" {
		add(scStore, "%s", msg)
	}
	if r.Zone != "" {
		if _, err := time.LoadLocation(r.Zone); err != nil || r.Zone == "Local" {
			add(scZone, "%q is not a time zone of the IANA database (such as Asia/Taipei)", r.Zone)
		}
	}
	var labels []string
	for _, item := range strings.Split(get(scWindows), ";") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		label := fmt.Sprintf("%d (%s)", len(r.Windows)+1, item)
		w, msg := parseWindow(item)
		if msg != "" {
			add(scWindows, "window %s: %s", label, strings.Replace(msg, "quota", "capacity", 1))
			continue
		}
		r.Windows, labels = append(r.Windows, w), append(labels, label)
	}
	for _, msg := range checkWindowsOf(r.Windows, "a store", engine.MaxWindowsPerStore, func(i int) string { return labels[i] }) {
		add(scWindows, "%s", strings.Replace(msg, "quota", "capacity", 1))
	}
	sortWindows(r.Windows)
	return r, errs
}

// WriteStores writes stores in the format ParseStores reads, one row per
// store sorted by store, each store's windows in its own zone.
func WriteStores(w io.Writer, stores []engine.StoreInfo) error {
	sorted := append([]engine.StoreInfo(nil), stores...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Store < sorted[j].Store })
	cw := csv.NewWriter(w)
	cw.Write(storeColNames[:])
	for _, st := range sorted {
		if msg := checkID(st.Store); msg != "" {
			return fmt.Errorf("store %q: %s", st.Store, msg)
		}
		loc := time.UTC
		if st.Zone != "" {
			if l, err := time.LoadLocation(st.Zone); err == nil {
				loc = l
			}
		}
		ws := make([]string, len(st.Windows))
		for i, win := range st.Windows {
			ws[i] = formatTime(win.Start, loc) + "/" + formatTime(win.End, loc) + "/" + strconv.FormatInt(win.Quota, 10)
		}
		cw.Write([]string{st.Store, st.Zone, strings.Join(ws, ";")})
	}
	cw.Flush()
	return cw.Error()
}
