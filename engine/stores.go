package engine

import "fmt"

// Stores: a store's time zone and its pickup windows with a capacity
// across every SKU of the store (docs/adr/0071). Items are placed on shards
// by their store, so every item of a store is in this shard and the
// capacity is counted here, exactly.
//
// A store window [start, end) holds the units of every reservation of the
// store's items made into an item window with the same start: held,
// confirmed and picked up, as an item window does for one item. Item
// windows and store windows of one store either coincide (same start and
// end) or do not overlap, so no item window can slip past a store's
// capacity; put_window and put_store_window refuse anything else with
// window_conflict.

// storeTable keeps one record per store this shard knows: every store with
// an item here (made with the item), and every store given a zone or a
// window.
type storeTable struct {
	list   []store
	byName map[string]uint32
}

type store struct {
	name    string
	zone    string   // IANA time zone name; "" = none set (reads print UTC)
	windows []window // sorted by start, never overlapping; quota is the capacity
	items   []uint32 // slots of the store's items, in creation order
}

func (t *storeTable) init() { t.byName = make(map[string]uint32) }

// find returns the store's record, or nil.
func (t *storeTable) find(name string) *store {
	if i, ok := t.byName[name]; ok {
		return &t.list[i]
	}
	return nil
}

// get returns the store's record, made if new. Records are never removed,
// and the list only grows, so a pointer stays valid until the next get.
func (t *storeTable) get(name string) *store { return &t.list[t.index(name)] }

// index returns the place of the store's record in list, made if new.
func (t *storeTable) index(name string) uint32 {
	if i, ok := t.byName[name]; ok {
		return i
	}
	t.byName[name] = uint32(len(t.list))
	t.list = append(t.list, store{name: name})
	return uint32(len(t.list) - 1)
}

// windowAt returns the window of ws (sorted by start) starting at start, or nil.
func windowAt(ws []window, start int64) *window {
	lo, hi := 0, len(ws)
	for lo < hi {
		m := (lo + hi) / 2
		if ws[m].start < start {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(ws) && ws[lo].start == start {
		return &ws[lo]
	}
	return nil
}

// storeWindow returns the window of the item's store starting at start, or
// nil when the store has none there (then only the item's quota applies).
func (s *state) storeWindow(it *item, start int64) *window {
	if start == 0 {
		return nil
	}
	st := s.stores.find(it.storeName())
	if st == nil {
		return nil
	}
	return windowAt(st.windows, start)
}

// hasWindows reports whether the item has pickup windows: it is then
// reserved into one.
func (it *item) hasWindows() bool { return it.ext != nil && len(it.ext.windows) > 0 }

// skuLimit is the per-customer limit of the item's SKU (0 = none).
func (s *state) skuLimit(it *item) int32 { return s.skus[it.sku].limit }

// skuIndex returns the SKU's index, adding it if new.
func (s *state) skuIndex(skuID []byte) uint32 {
	k, ok := s.skuByName[string(skuID)]
	if !ok {
		k = uint32(len(s.skus))
		s.skus = append(s.skus, sku{name: string(skuID)})
		s.skuByName[s.skus[k].name] = k
	}
	return k
}

// overlapsApart reports whether [start, end) overlaps w without being the
// same window: the one pair of an item window and a store window that
// put_window and put_store_window refuse.
func overlapsApart(start, end int64, w *window) bool {
	return w.start < end && start < w.end && (w.start != start || w.end != end)
}

// validZone checks a time zone name's form: 1..MaxZoneBytes bytes of the
// characters IANA names use. Whether the zone exists is the edge's check
// (time.LoadLocation): the engine keeps the name and never reads the
// zone database, so every replica decides alike.
func validZone(z []byte) bool {
	if len(z) < 1 || len(z) > MaxZoneBytes {
		return false
	}
	for _, b := range z {
		switch {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		case b == '/' || b == '_' || b == '-' || b == '+':
		default:
			return false
		}
	}
	return true
}

// putStore sets a store's time zone.
func (s *state) putStore(c *Command) Result {
	if !validID(c.Store) || !validZone(c.Zone) {
		return s.refuse(CodeBadRequest)
	}
	st := s.stores.get(string(c.Store))
	st.zone = string(c.Zone)
	s.emit(Event{Kind: EvStorePut, Store: st.name, Zone: st.zone})
	return Result{Store: s.storeInfo(st)}
}

// putStoreWindow creates a store's pickup window or changes its end or
// capacity. A new window starts with the units the store's items already
// hold in their windows of the same start.
func (s *state) putStoreWindow(c *Command) Result {
	if !validID(c.Store) || c.Window <= 0 || c.WindowEnd <= c.Window || c.Quota < 0 || c.Quota > MaxStock {
		return s.refuse(CodeBadRequest)
	}
	st := s.stores.find(string(c.Store))
	var ws []window
	if st != nil {
		ws = st.windows
	}
	for i := range ws {
		if ws[i].start != c.Window && ws[i].start < c.WindowEnd && c.Window < ws[i].end {
			return s.refuse(CodeWindowConflict)
		}
	}
	var used int32
	if st != nil {
		for _, slot := range st.items {
			it := s.items.at(slot)
			if it.ext == nil {
				continue
			}
			for i := range it.ext.windows {
				if w := &it.ext.windows[i]; overlapsApart(c.Window, c.WindowEnd, w) {
					return s.refuse(CodeWindowConflict)
				} else if w.start == c.Window {
					used += w.used
				}
			}
		}
	}
	w := windowAt(ws, c.Window)
	switch {
	case int64(used) > c.Quota:
		return s.refuse(CodeBelowPromised)
	case w == nil && len(ws) >= MaxWindowsPerStore:
		return s.refuse(CodeTooMany)
	}
	if st == nil {
		st = s.stores.get(string(c.Store))
	}
	if w != nil {
		w.end, w.quota = c.WindowEnd, int32(c.Quota)
	} else {
		i := 0
		for i < len(st.windows) && st.windows[i].start < c.Window {
			i++
		}
		st.windows = append(st.windows, window{})
		copy(st.windows[i+1:], st.windows[i:])
		st.windows[i] = window{start: c.Window, end: c.WindowEnd, quota: int32(c.Quota), used: used}
		w = &st.windows[i]
	}
	s.emit(Event{Kind: EvStoreWindow, Store: st.name, Window: w.start, Qty: int64(w.quota)})
	return Result{Store: s.storeInfo(st)}
}

// storeConflict reports whether an item window [start, end) at the store
// would overlap one of the store's windows without coinciding with it.
func (s *state) storeConflict(store string, start, end int64) bool {
	st := s.stores.find(store)
	if st == nil {
		return false
	}
	for i := range st.windows {
		if overlapsApart(start, end, &st.windows[i]) {
			return true
		}
	}
	return false
}

func (s *state) storeInfo(st *store) *StoreInfo {
	info := &StoreInfo{Store: st.name, Zone: st.zone}
	for _, w := range st.windows {
		info.Windows = append(info.Windows, WindowInfo{Start: w.start, End: w.end, Quota: int64(w.quota), Used: int64(w.used)})
	}
	return info
}

// getStore reads a store: not_found when this shard knows nothing of it.
func (s *state) getStore(c *Command) Result {
	if !validID(c.Store) {
		return Result{Code: CodeBadRequest}
	}
	st := s.stores.find(string(c.Store))
	if st == nil {
		return Result{Code: CodeNotFound}
	}
	return Result{Store: s.storeInfo(st)}
}

// setLimit sets a SKU's per-customer limit, which every store's item of the
// SKU applies. Customers already over a lowered limit keep what they have;
// they cannot take more.
func (s *state) setLimit(c *Command) Result {
	if !validID(c.SKU) || len(c.Store) != 0 || c.Limit < 0 || c.Limit > MaxStock {
		return s.refuse(CodeBadRequest)
	}
	k := s.skuIndex(c.SKU)
	s.skus[k].limit = int32(c.Limit)
	s.emit(Event{Kind: EvLimitSet, SKU: s.skus[k].name, Qty: c.Limit})
	return Result{Qty: c.Limit}
}

// checkStores: every store's windows are in order and within capacity,
// each store window holds exactly what the store's items hold in their
// windows of the same start, and at least what the store's active
// reservations in it hold (picked-up orders whose records were forgotten
// stay counted, as in item windows); item windows coincide with or stay
// clear of their store's; every item is listed by its store once.
func (s *state) checkStores() error {
	type winKey struct {
		store string
		start int64
	}
	active := map[winKey]int32{}
	s.res.each(func(r *reservation) {
		if r.state.Active() && r.window != 0 && r.item < s.items.len() {
			active[winKey{s.items.at(r.item).storeName(), r.window}] += r.qty
		}
	})
	listed := 0
	for i := range s.stores.list {
		st := &s.stores.list[i]
		if j, ok := s.stores.byName[st.name]; !ok || j != uint32(i) || (st.zone != "" && !validZone([]byte(st.zone))) {
			return fmt.Errorf("store %q: not found by its name, or a bad zone %q", st.name, st.zone)
		}
		for j, slot := range st.items {
			if slot >= s.items.len() || s.items.at(slot).storeName() != st.name || (j > 0 && slot <= st.items[j-1]) {
				return fmt.Errorf("store %q: lists item %d, not one of its own in order", st.name, slot)
			}
		}
		listed += len(st.items)
		for j, w := range st.windows {
			if w.start <= 0 || w.end <= w.start || (j > 0 && st.windows[j-1].end > w.start) || w.used < 0 || w.used > w.quota {
				return fmt.Errorf("store %q window %d: bounds %d..%d, capacity %d, used %d, or overlapping", st.name, w.start, w.start, w.end, w.quota, w.used)
			}
			var items int32
			for _, slot := range st.items {
				it := s.items.at(slot)
				if it.ext == nil {
					continue
				}
				for k := range it.ext.windows {
					iw := &it.ext.windows[k]
					if overlapsApart(w.start, w.end, iw) {
						return fmt.Errorf("store %q window %d: item %q has window %d..%d across it", st.name, w.start, it.skuName(), iw.start, iw.end)
					}
					if iw.start == w.start {
						items += iw.used
					}
				}
			}
			if n := active[winKey{st.name, w.start}]; w.used != items || w.used < n {
				return fmt.Errorf("store %q window %d: used %d, its items' windows %d, active reservations %d", st.name, w.start, w.used, items, n)
			}
		}
	}
	if listed != int(s.items.len()) {
		return fmt.Errorf("stores list %d items, the shard has %d", listed, s.items.len())
	}
	for _, k := range s.skus {
		if k.limit < 0 || k.limit > MaxStock {
			return fmt.Errorf("sku %q: limit %d", k.name, k.limit)
		}
	}
	return nil
}
