// Package catalog reads and writes a shop's catalog as CSV: one row per
// SKU × store with its stock, its SKU's per-customer limit, sale window,
// member share and pickup windows with their quotas.
//
// `invctl import` reads a file with Parse, which checks every row before
// anything is loaded and returns either every row or every bad row (with
// its line number), never a mix; each good row's Commands are the
// OpPutItem and OpPutWindow commands that load it, and SKULimits gives one
// OpSetLimit per SKU. `invctl export` writes
// what the engine holds with Write, in the same format, so that an export
// can be edited in a spreadsheet and imported again.
//
// # Format
//
// UTF-8 CSV (RFC 4180: comma separated, fields with commas, quotes or line
// breaks in double quotes). A UTF-8 byte order mark, as spreadsheets write
// it, is skipped. Blank lines are skipped. The first row is the header; it
// names the columns, in any order, case-insensitively:
//
//	column          required  empty means     value
//	sku             yes       -               SKU id, 1-64 bytes, taken exactly as written
//	store           yes       -               store id, 1-64 bytes, taken exactly as written
//	stock           yes       -               units allotted to the store, 0..1073741824
//	limit           no        no limit        units one customer may own of the SKU at all stores together, 0 (none)..1073741824
//	opens_at        no        open already    RFC3339 time the sale opens
//	closes_at       no        never closes    RFC3339 time the sale closes, after opens_at
//	member_tier     no        no share        tier 1..15 whose customers (or higher tiers) may take the share
//	member_units    no        no share        units kept for members until member_cutoff
//	member_cutoff   no        no share        RFC3339 time after which the share is open to everyone
//	pickup_windows  no        no windows      START/END/QUOTA;START/END/QUOTA;...
//
// Every data row has as many fields as the header. Ids are opaque bytes
// to the engine but must be printable text here: valid UTF-8, printable
// characters only (no line breaks, tabs or zero-width spaces), no spaces at
// either end (a stray space would otherwise make a different store). Other cells may have spaces
// around them. Numbers are whole decimal numbers. Times are RFC3339 with
// an offset (2025-07-01T10:00:00+08:00 or 2025-07-01T02:00:00Z, fractions
// of a second allowed) between 1970 and 2262, the range of the engine's
// Unix-nanosecond clock.
//
// A member share is all three member columns or none of them. Pickup
// windows are [START, END) with a quota of units that may be collected in
// them; an item has at most 64 (engine.MaxWindowsPerItem), none ending at or
// before its start, no two overlapping. They may be listed in any order,
// with spaces or line breaks around each, and are kept sorted by start. A (sku, store) pair appears on one row only.
//
// The per-customer limit is the SKU's, the same at every store: every row
// of a SKU gives the same limit (an empty cell is no limit), and rows that
// disagree are refused, naming both lines. A file without the column
// leaves the SKUs' limits as they are.
//
// Importing puts: it sets each SKU's limit (when the file has the column),
// then creates an item or changes its stock, sale window, member share and
// the listed windows. It never removes an item or
// a window that the file does not list, and the engine still refuses what
// would go below what is already promised.
//
// Write writes every column, in the order above, items sorted by SKU then
// store, times in UTC (WriteIn takes another zone), zero limits and absent
// shares as empty cells. Counts that are state rather than catalog (held,
// confirmed, picked up, used) are not written.
//
// # Limits
//
// Everything Parse reads is bounded (Limits): the file's bytes, a line's
// bytes, the rows, and the errors reported before Parse stops.
//
// It imports the standard library and package engine (for Command,
// ItemInfo and the engine's limits) only.
package catalog
