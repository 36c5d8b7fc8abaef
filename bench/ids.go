package bench

import (
	"fmt"
	"strconv"
	"time"
)

// How the workloads' numbers become the engine's byte ids.
//
// The peers number everything from 0 (SKU, store, customer = order number,
// window index). The engine names things with byte strings, so we fix one
// text form per kind of id. The forms are zero-padded to a fixed width so that
// ids sort in numeric order (the engine and Pebble order keys bytewise) and so
// that every request of one kind has the same length on the wire:
//
//	SKU s        -> "sku-%06d"  sku-000123      (at most 1,000 SKUs)
//	store t      -> "st-%04d"   st-0042         (at most 500 stores)
//	customer c   -> "c-%09d"    c-000001234     (customer c sends order c; at most 2,000,000)
//	window w     -> start WindowBase + w*WindowLength, end start + WindowLength
//	reserve key  -> "o-%09d-r"  idempotency key of order c's reserve (confirm "-c", cancel "-x")
//
// Pickup windows are 8 windows of 2 hours on one day, 08:00 to 24:00 UTC, far
// enough ahead that no window has started or ended while a benchmark runs. The
// engine uses window start 0 for "no window", so every start is non-zero.
const (
	skuIDFormat      = "sku-%06d"
	storeIDFormat    = "st-%04d"
	customerIDPrefix = "c-"
	customerIDDigits = 9
	keyIDPrefix      = "o-"
	WindowLength     = 2 * time.Hour
)

// WindowBase is the start of pickup window 0. Fixed, so that every run loads
// the same catalog and figures stay comparable across runs.
var WindowBase = time.Date(2030, time.January, 7, 8, 0, 0, 0, time.UTC)

// SKUID returns the id of SKU number s.
func SKUID(s int) string { return fmt.Sprintf(skuIDFormat, s) }

// StoreID returns the id of store number t.
func StoreID(t int) string { return fmt.Sprintf(storeIDFormat, t) }

// CustomerID returns the id of customer number c.
func CustomerID(c int64) string { return string(AppendCustomerID(nil, c)) }

// AppendCustomerID appends the id of customer c to dst. The driver formats one
// customer id per order into a reused buffer, so the hot path does not allocate.
func AppendCustomerID(dst []byte, c int64) []byte {
	dst = append(dst, customerIDPrefix...)
	return appendPadded(dst, c, customerIDDigits)
}

// WindowStart returns the start of pickup window w in Unix nanoseconds; w < 0
// (no window) gives 0, the engine's "no window".
func WindowStart(w int) int64 {
	if w < 0 {
		return 0
	}
	return WindowBase.Add(time.Duration(w) * WindowLength).UnixNano()
}

// WindowEnd returns the end of pickup window w in Unix nanoseconds.
func WindowEnd(w int) int64 { return WindowStart(w) + int64(WindowLength) }

// AppendKey appends the idempotency key of one request of order c. An adapter
// that retries a request whose reply was lost sends the same key again, so the
// retry cannot take a second unit.
func AppendKey(dst []byte, c int64, k Kind) []byte {
	dst = append(dst, keyIDPrefix...)
	dst = appendPadded(dst, c, customerIDDigits)
	return append(dst, '-', k.keySuffix())
}

func appendPadded(dst []byte, v int64, width int) []byte {
	var b [20]byte
	s := strconv.AppendInt(b[:0], v, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}
