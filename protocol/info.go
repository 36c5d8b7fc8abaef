package protocol

import "github.com/invsys/inv/engine"

// Reads (get_item, get_window, get_reservation, get_customer and the lists)
// return whole records. Their layouts are fixed, every field always present:
// reads are rare next to reserves, and a fixed layout is the simplest thing
// for another implementation to get right.

// Smallest encodings, used to check a declared count against the bytes left
// before allocating the list.
const (
	windowBytes         = 4 * 8                     // start, end, quota, used
	minItemBytes        = 1 + 1 + 8*8 + 1 + 3*8 + 2 // empty ids, no windows
	minReservationBytes = 8 + 1 + 1 + 1 + 2*8 + 1 + 3*8 + 8 + 8 + 1
	minStoreStockBytes  = 1 + 8
)

// ItemInfo: sku str8, store str8, stock, held, confirmed, picked_up,
// available, limit, opens_at, closes_at (i64), member_tier u8,
// member_units, member_used, member_cutoff (i64), u16 window count,
// WindowInfo × count.
func appendItem(dst []byte, it *engine.ItemInfo) []byte {
	dst = appendStr8(dst, it.SKU, MaxIDBytes, "item sku")
	dst = appendStr8(dst, it.Store, MaxIDBytes, "item store")
	for _, v := range [...]int64{it.Stock, it.Held, it.Confirmed, it.PickedUp, it.Available,
		it.Limit, it.OpensAt, it.ClosesAt} {
		dst = appendI64(dst, v)
	}
	dst = appendU8(dst, it.MemberTier)
	dst = appendI64(dst, it.MemberUnits)
	dst = appendI64(dst, it.MemberUsed)
	dst = appendI64(dst, it.MemberCutoff)
	dst = appendCount(dst, len(it.Windows), MaxWindowsPerItem, "item windows")
	for i := range it.Windows {
		dst = appendWindow(dst, &it.Windows[i])
	}
	return dst
}

func decodeItem(c *cursor, it *engine.ItemInfo) {
	it.SKU = string(c.str8(MaxIDBytes, "item sku bytes"))
	it.Store = string(c.str8(MaxIDBytes, "item store bytes"))
	for _, p := range [...]*int64{&it.Stock, &it.Held, &it.Confirmed, &it.PickedUp, &it.Available,
		&it.Limit, &it.OpensAt, &it.ClosesAt} {
		*p = c.i64()
	}
	it.MemberTier = c.u8()
	it.MemberUnits = c.i64()
	it.MemberUsed = c.i64()
	it.MemberCutoff = c.i64()
	n := c.count(MaxWindowsPerItem, windowBytes, "item windows")
	if n > 0 {
		it.Windows = make([]engine.WindowInfo, n)
		for i := range it.Windows {
			decodeWindow(c, &it.Windows[i])
		}
	}
}

func checkItem(it *engine.ItemInfo) error {
	if len(it.SKU) > MaxIDBytes {
		return tooLarge("item sku bytes", len(it.SKU), MaxIDBytes)
	}
	if len(it.Store) > MaxIDBytes {
		return tooLarge("item store bytes", len(it.Store), MaxIDBytes)
	}
	if len(it.Windows) > MaxWindowsPerItem {
		return tooLarge("item windows", len(it.Windows), MaxWindowsPerItem)
	}
	return nil
}

// WindowInfo: start, end, quota, used (i64).
func appendWindow(dst []byte, w *engine.WindowInfo) []byte {
	dst = appendI64(dst, w.Start)
	dst = appendI64(dst, w.End)
	dst = appendI64(dst, w.Quota)
	return appendI64(dst, w.Used)
}

func decodeWindow(c *cursor, w *engine.WindowInfo) {
	w.Start = c.i64()
	w.End = c.i64()
	w.Quota = c.i64()
	w.Used = c.i64()
}

// ReservationInfo: id u64, sku str8, store str8, customer str8, qty i64,
// window i64, state u8, created_at, expires_at, updated_at (i64),
// pickup_code u64, attempts i64, locked bool.
func appendReservation(dst []byte, r *engine.ReservationInfo) []byte {
	dst = appendU64(dst, r.ID)
	dst = appendStr8(dst, r.SKU, MaxIDBytes, "reservation sku")
	dst = appendStr8(dst, r.Store, MaxIDBytes, "reservation store")
	dst = appendStr8(dst, r.Customer, MaxIDBytes, "reservation customer")
	dst = appendI64(dst, r.Qty)
	dst = appendI64(dst, r.Window)
	dst = appendU8(dst, uint8(r.State))
	dst = appendI64(dst, r.CreatedAt)
	dst = appendI64(dst, r.ExpiresAt)
	dst = appendI64(dst, r.UpdatedAt)
	dst = appendU64(dst, r.PickupCode)
	dst = appendI64(dst, r.Attempts)
	return appendBool(dst, r.Locked)
}

func decodeReservation(c *cursor, r *engine.ReservationInfo) {
	r.ID = c.u64()
	r.SKU = string(c.str8(MaxIDBytes, "reservation sku bytes"))
	r.Store = string(c.str8(MaxIDBytes, "reservation store bytes"))
	r.Customer = string(c.str8(MaxIDBytes, "reservation customer bytes"))
	r.Qty = c.i64()
	r.Window = c.i64()
	r.State = engine.State(c.u8())
	r.CreatedAt = c.i64()
	r.ExpiresAt = c.i64()
	r.UpdatedAt = c.i64()
	r.PickupCode = c.u64()
	r.Attempts = c.i64()
	r.Locked = c.bool()
}

func checkReservation(r *engine.ReservationInfo) error {
	for _, s := range [...]string{r.SKU, r.Store, r.Customer} {
		if len(s) > MaxIDBytes {
			return tooLarge("reservation id bytes", len(s), MaxIDBytes)
		}
	}
	return nil
}

// CustomerInfo: id str8, tier u8, blocked bool, auto_blocked bool,
// no_shows i64, open i64.
func appendCustomer(dst []byte, cu *engine.CustomerInfo) []byte {
	dst = appendStr8(dst, cu.ID, MaxIDBytes, "customer id")
	dst = appendU8(dst, cu.Tier)
	dst = appendBool(dst, cu.Blocked)
	dst = appendBool(dst, cu.AutoBlocked)
	dst = appendI64(dst, cu.NoShows)
	return appendI64(dst, cu.Open)
}

func decodeCustomer(c *cursor, cu *engine.CustomerInfo) {
	cu.ID = string(c.str8(MaxIDBytes, "customer id bytes"))
	cu.Tier = c.u8()
	cu.Blocked = c.bool()
	cu.AutoBlocked = c.bool()
	cu.NoShows = c.i64()
	cu.Open = c.i64()
}

// StoreInfo: store str8, zone str8 (empty: none set), u16 window count,
// WindowInfo × count, where quota is the store window's capacity across
// every SKU of the store.
func appendStore(dst []byte, st *engine.StoreInfo) []byte {
	dst = appendStr8(dst, st.Store, MaxIDBytes, "store id")
	dst = appendStr8(dst, st.Zone, MaxZoneBytes, "store zone")
	dst = appendCount(dst, len(st.Windows), MaxWindowsPerStore, "store windows")
	for i := range st.Windows {
		dst = appendWindow(dst, &st.Windows[i])
	}
	return dst
}

func decodeStore(c *cursor, st *engine.StoreInfo) {
	st.Store = string(c.str8(MaxIDBytes, "store id bytes"))
	st.Zone = string(c.str8(MaxZoneBytes, "store zone bytes"))
	n := c.count(MaxWindowsPerStore, windowBytes, "store windows")
	if n > 0 {
		st.Windows = make([]engine.WindowInfo, n)
		for i := range st.Windows {
			decodeWindow(c, &st.Windows[i])
		}
	}
}

func checkStore(st *engine.StoreInfo) error {
	if len(st.Store) > MaxIDBytes {
		return tooLarge("store id bytes", len(st.Store), MaxIDBytes)
	}
	if len(st.Zone) > MaxZoneBytes {
		return tooLarge("store zone bytes", len(st.Zone), MaxZoneBytes)
	}
	if len(st.Windows) > MaxWindowsPerStore {
		return tooLarge("store windows", len(st.Windows), MaxWindowsPerStore)
	}
	return nil
}
