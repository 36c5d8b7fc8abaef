package catalog

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/invsys/inv/engine"
)

// Row is one valid catalog row: an item (a SKU at a store) and its pickup
// windows. Times are Unix nanoseconds, as in engine.Command.
type Row struct {
	Line int // line of the file where the row starts (the header is line 1); 0 when not read from a file

	SKU, Store   string
	Stock        int64    // units allotted to the store
	Limit        int64    // per-customer limit of the SKU (every row of a SKU gives the same); 0 = none
	LimitGiven   bool     // the file has a limit column: the SKU's limit is set (SKULimits)
	OpensAt      int64    // sale window; 0 = open since forever
	ClosesAt     int64    // 0 = never closes
	MemberTier   uint8    // customers of this tier or higher may take the member share; 0 without a share
	MemberUnits  int64    // units kept for members until MemberCutoff; 0 = no share
	MemberCutoff int64    // 0 without a share
	Windows      []Window // sorted by Start, none overlapping
	// Absent are the settings the file has no column for (opens_at,
	// closes_at, the member share): loading the row leaves them as the
	// item has them (docs/adr/0100). Zero, as in a row built by hand,
	// names every setting.
	Absent engine.ItemSet
}

// Window is one pickup window [Start, End) and the units that may be
// collected in it.
type Window struct {
	Start, End int64
	Quota      int64
}

// Commands returns the commands that load the row: one OpUpdateItem naming
// the stock and every setting the file has a column for (an empty cell of
// such a column clears the setting), then one OpPutWindow per window in
// start order. The item must exist before its
// windows, so they are sent in this order. They are not Linked: the engine
// links only storefront operations, which is why Parse checks every row
// before the importer sends any. The SKU's limit is not the row's to set:
// SKULimits gives one OpSetLimit per SKU.
func (r Row) Commands() []engine.Command {
	sku, store := []byte(r.SKU), []byte(r.Store) // shared by every command: the engine copies what it keeps
	cmds := make([]engine.Command, 0, 1+len(r.Windows))
	cmds = append(cmds, engine.Command{
		Op: engine.OpUpdateItem, SKU: sku, Store: store, Set: engine.ItemSetAll &^ r.Absent,
		Stock: r.Stock, OpensAt: r.OpensAt, ClosesAt: r.ClosesAt,
		MemberTier: r.MemberTier, MemberUnits: r.MemberUnits, MemberCutoff: r.MemberCutoff,
	})
	for _, w := range r.Windows {
		cmds = append(cmds, engine.Command{
			Op: engine.OpPutWindow, SKU: sku, Store: store,
			Window: w.Start, WindowEnd: w.End, Quota: w.Quota,
		})
	}
	return cmds
}

// Item returns the row as the engine reports the item right after loading
// it (and its SKU's limit) into an empty shard: nothing held, everything
// available.
func (r Row) Item() engine.ItemInfo {
	it := engine.ItemInfo{
		SKU: r.SKU, Store: r.Store, Stock: r.Stock, Available: r.Stock, Limit: r.Limit,
		OpensAt: r.OpensAt, ClosesAt: r.ClosesAt,
		MemberTier: r.MemberTier, MemberUnits: r.MemberUnits, MemberCutoff: r.MemberCutoff,
	}
	for _, w := range r.Windows {
		it.Windows = append(it.Windows, engine.WindowInfo{Start: w.Start, End: w.End, Quota: w.Quota})
	}
	return it
}

// rowOf is the catalog part of an item the engine reports; the windows are
// copied and sorted so that the caller's slice is left alone.
func rowOf(it engine.ItemInfo) Row {
	r := Row{
		SKU: it.SKU, Store: it.Store, Stock: it.Stock, Limit: it.Limit,
		OpensAt: it.OpensAt, ClosesAt: it.ClosesAt,
		MemberTier: it.MemberTier, MemberUnits: it.MemberUnits, MemberCutoff: it.MemberCutoff,
	}
	for _, w := range it.Windows {
		r.Windows = append(r.Windows, Window{Start: w.Start, End: w.End, Quota: w.Quota})
	}
	sortWindows(r.Windows)
	return r
}

func sortWindows(ws []Window) {
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].Start < ws[j].Start })
}

// colSet is a set of columns (bit i = column i).
type colSet uint16

func (s colSet) has(cols ...int) bool {
	for _, c := range cols {
		if s&(1<<c) != 0 {
			return true
		}
	}
	return false
}

// check applies the rules every row keeps: the engine's own rules for
// OpPutItem and OpPutWindow, so that a row Parse accepts is a row the engine
// accepts, and the catalog's (printable ids, a share given whole, windows
// not repeated). Rules that read a column in skip (one that did not parse)
// are left out, so that one typo gives one message. label names window i
// in messages. The errors carry no line; the caller sets it.
func check(r *Row, skip colSet, label func(i int) string) []RowError {
	var errs []RowError
	add := func(col int, format string, args ...any) {
		errs = append(errs, RowError{Column: colNames[col], Msg: fmt.Sprintf(format, args...)})
	}
	if msg := checkID(r.SKU); msg != "" {
		add(colSKU, "%s", msg)
	}
	if msg := checkID(r.Store); msg != "" {
		add(colStore, "%s", msg)
	}
	if msg := checkUnits(r.Stock); msg != "" && !skip.has(colStock) {
		add(colStock, "%s", msg)
	}
	if msg := checkUnits(r.Limit); msg != "" && !skip.has(colLimit) {
		add(colLimit, "%s", msg)
	}
	if !skip.has(colOpensAt, colClosesAt) {
		if col, msg := checkSaleWindow(r.OpensAt, r.ClosesAt); msg != "" {
			add(col, "%s", msg)
		}
	}
	if !skip.has(colMemberTier, colMemberUnits, colMemberCutoff) {
		if col, msg := checkShare(r.MemberTier, r.MemberUnits, r.MemberCutoff); msg != "" {
			add(col, "%s", msg)
		}
	}
	if !skip.has(colWindows) {
		for _, msg := range checkWindows(r.Windows, label) {
			add(colWindows, "%s", msg)
		}
	}
	return errs
}

// checkID returns what is wrong with an id, or "".
func checkID(id string) string {
	switch {
	case id == "":
		return "is empty"
	case len(id) > engine.MaxIDBytes:
		return fmt.Sprintf("is %d bytes; ids have at most %d", len(id), engine.MaxIDBytes)
	case !utf8.ValidString(id):
		return "is not valid UTF-8"
	case strings.IndexFunc(id, unprintable) >= 0:
		// Line breaks, tabs and invisible characters (zero-width spaces, byte
		// order marks) make ids that look alike and are not.
		r, _ := utf8.DecodeRuneInString(id[strings.IndexFunc(id, unprintable):])
		return fmt.Sprintf("%q has an unprintable character U+%04X", id, r)
	case startsOrEndsWithSpace(id):
		return fmt.Sprintf("%q has leading or trailing spaces", id)
	case looksScientific(id):
		// A spreadsheet opening a CSV turns a long barcode into 4.71009E+12:
		// the digits are lost, so say how to keep them.
		return fmt.Sprintf("%q looks like a number a spreadsheet rewrote in scientific notation; import the column as text", id)
	}
	return ""
}

func unprintable(r rune) bool { return !unicode.IsPrint(r) }

func startsOrEndsWithSpace(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsSpace(first) || unicode.IsSpace(last)
}

// looksScientific reports whether s has the form D[.DDD]E+DD.
func looksScientific(s string) bool {
	mant, exp, ok := strings.Cut(strings.ToUpper(s), "E+")
	if !ok || mant == "" || exp == "" || !allDigits(exp) {
		return false
	}
	whole, frac, dot := strings.Cut(mant, ".")
	return len(whole) == 1 && allDigits(whole) && (!dot || (frac != "" && allDigits(frac)))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func checkUnits(n int64) string {
	switch {
	case n < 0:
		return fmt.Sprintf("%d is negative", n)
	case n > engine.MaxStock:
		return fmt.Sprintf("%d is above %d, the most units an item may have", n, engine.MaxStock)
	}
	return ""
}

// checkSaleWindow returns the column at fault and what is wrong with a sale
// window, or "".
func checkSaleWindow(opens, closes int64) (int, string) {
	switch {
	case opens < 0:
		return colOpensAt, "is before 1970"
	case closes < 0:
		return colClosesAt, "is before 1970"
	case opens != 0 && closes != 0 && closes <= opens:
		return colClosesAt, "must be after opens_at"
	}
	return 0, ""
}

// checkShare returns the column at fault and what is wrong with a member
// share, or "". A share is whole (units, tier and cutoff) or absent.
func checkShare(tier uint8, units, cutoff int64) (int, string) {
	if msg := checkUnits(units); msg != "" {
		return colMemberUnits, msg
	}
	switch {
	case tier > engine.MaxTier:
		return colMemberTier, fmt.Sprintf("%d is not a tier (0..%d)", tier, engine.MaxTier)
	case cutoff < 0:
		return colMemberCutoff, "is before 1970"
	case units == 0 && (tier != 0 || cutoff != 0):
		return colMemberUnits, "is missing: a member share needs member_tier, member_units and member_cutoff"
	case units > 0 && tier == 0:
		return colMemberTier, fmt.Sprintf("is missing: a member share needs a tier 1..%d", engine.MaxTier)
	case units > 0 && cutoff == 0:
		return colMemberCutoff, "is missing: a member share needs the time it opens to everyone"
	}
	return 0, ""
}

// checkWindows returns what is wrong with an item's windows, one message
// per problem.
func checkWindows(ws []Window, label func(i int) string) []string {
	return checkWindowsOf(ws, "an item", engine.MaxWindowsPerItem, label)
}

// checkWindowsOf checks the windows of an item or a store, at most most.
func checkWindowsOf(ws []Window, of string, most int, label func(i int) string) []string {
	if len(ws) > most {
		return []string{fmt.Sprintf("has %d windows; %s has at most %d", len(ws), of, most)}
	}
	var msgs []string
	for i, w := range ws {
		switch {
		case w.Start <= 0:
			msgs = append(msgs, fmt.Sprintf("window %s starts before 1970", label(i)))
		case w.End <= w.Start:
			msgs = append(msgs, fmt.Sprintf("window %s must end after it starts", label(i)))
		}
		if msg := checkUnits(w.Quota); msg != "" {
			msgs = append(msgs, fmt.Sprintf("window %s: quota %s", label(i), msg))
		}
	}
	if len(msgs) > 0 {
		return msgs // overlaps of windows that are themselves wrong would only confuse
	}
	order := make([]int, len(ws))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ws[order[a]].Start < ws[order[b]].Start })
	for k := 1; k < len(order); k++ {
		i, j := order[k-1], order[k]
		switch {
		case ws[i].Start == ws[j].Start:
			msgs = append(msgs, fmt.Sprintf("windows %s and %s start at the same time", label(i), label(j)))
		case ws[j].Start < ws[i].End:
			msgs = append(msgs, fmt.Sprintf("windows %s and %s overlap", label(i), label(j)))
		}
	}
	return msgs
}
