package catalog

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/invsys/inv/engine"
)

// Times the engine's clock can hold: Unix nanoseconds in an int64, 0 kept
// for "none".
var (
	timeMin = time.Unix(0, 1)
	timeMax = time.Unix(0, math.MaxInt64)
)

// cells turns the cells of one record into a Row, noting which columns did
// not parse so that check leaves their rules out.
type cells struct {
	rec  []string
	cols *[numCols]int
	bad  colSet
	errs []RowError
}

func (c *cells) get(col int) string {
	if i := c.cols[col]; i >= 0 {
		return c.rec[i]
	}
	return ""
}

func (c *cells) fail(col int, format string, args ...any) {
	c.errs = append(c.errs, RowError{Column: colNames[col], Msg: fmt.Sprintf(format, args...)})
	c.bad |= 1 << col
}

// parseRecord reads and checks one record. Ids are taken as written; other
// cells are trimmed of spaces.
func parseRecord(rec []string, cols *[numCols]int) (Row, []RowError) {
	c := &cells{rec: rec, cols: cols}
	// Cloned: the ids would otherwise keep the whole line's text alive.
	r := Row{SKU: strings.Clone(c.get(colSKU)), Store: strings.Clone(c.get(colStore))}
	if strings.TrimSpace(c.get(colStock)) == "" {
		c.fail(colStock, "is empty; give the units allotted to the store (0 or more)")
	}
	r.Stock = c.number(colStock)
	r.Limit = c.number(colLimit)
	r.OpensAt = c.time(colOpensAt)
	r.ClosesAt = c.time(colClosesAt)
	if t := c.number(colMemberTier); t >= 0 && t <= engine.MaxTier {
		r.MemberTier = uint8(t)
	} else if c.bad&(1<<colMemberTier) == 0 {
		c.fail(colMemberTier, "%d is not a tier (0..%d)", t, engine.MaxTier)
	}
	r.MemberUnits = c.number(colMemberUnits)
	r.MemberCutoff = c.time(colMemberCutoff)
	ws, labels := c.windows(colWindows)
	r.Windows = ws
	errs := append(c.errs, check(&r, c.bad, func(i int) string { return labels[i] })...)
	sortWindows(r.Windows)
	return r, errs
}

// number reads a whole number; empty is 0. Ranges are check's business.
func (c *cells) number(col int) int64 {
	s := strings.TrimSpace(c.get(col))
	if s == "" {
		return 0
	}
	n, err := parseNumber(s)
	if err != "" {
		c.fail(col, "%s", err)
	}
	return n
}

func parseNumber(s string) (int64, string) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Sprintf("%q is out of range", s)
	case err != nil:
		return 0, fmt.Sprintf("%q is not a whole number", s)
	}
	return n, ""
}

// time reads an RFC3339 time as Unix nanoseconds; empty is 0 (none).
func (c *cells) time(col int) int64 {
	s := strings.TrimSpace(c.get(col))
	if s == "" {
		return 0
	}
	t, err := parseTime(s)
	if err != "" {
		c.fail(col, "%s", err)
	}
	return t
}

func parseTime(s string) (int64, string) {
	t, err := time.Parse(time.RFC3339, s)
	switch {
	case err != nil:
		return 0, fmt.Sprintf("%q is not an RFC3339 time with an offset, such as 2025-07-01T10:00:00+08:00", s)
	case t.Before(timeMin):
		return 0, fmt.Sprintf("%q is not after 1970-01-01T00:00:00Z", s)
	case t.After(timeMax):
		return 0, fmt.Sprintf("%q is after %s, the last time the engine can hold", s, timeMax.UTC().Format(time.RFC3339))
	}
	return t.UnixNano(), ""
}

// windows reads START/END/QUOTA items separated by semicolons (empty items
// skipped) and returns them with a label per window for messages.
func (c *cells) windows(col int) ([]Window, []string) {
	cell := c.get(col)
	if n := countItems(cell); n > engine.MaxWindowsPerItem {
		c.fail(col, "has %d windows; an item has at most %d", n, engine.MaxWindowsPerItem)
		return nil, nil
	}
	var ws []Window
	var labels []string
	for _, item := range strings.Split(cell, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		label := fmt.Sprintf("%d (%s)", len(ws)+1, item)
		w, msg := parseWindow(item)
		if msg != "" {
			c.fail(col, "window %s: %s", label, msg)
		}
		ws = append(ws, w)
		labels = append(labels, label)
	}
	return ws, labels
}

func countItems(cell string) int {
	n := 0
	for _, item := range strings.Split(cell, ";") {
		if strings.TrimSpace(item) != "" {
			n++
		}
	}
	return n
}

func parseWindow(item string) (Window, string) {
	parts := strings.Split(item, "/")
	if len(parts) != 3 {
		return Window{}, "is not START/END/QUOTA"
	}
	var w Window
	var msg string
	if w.Start, msg = parseTime(strings.TrimSpace(parts[0])); msg != "" {
		return w, "start " + msg
	}
	if w.End, msg = parseTime(strings.TrimSpace(parts[1])); msg != "" {
		return w, "end " + msg
	}
	if w.Quota, msg = parseNumber(strings.TrimSpace(parts[2])); msg != "" {
		return w, "quota " + msg
	}
	return w, ""
}
