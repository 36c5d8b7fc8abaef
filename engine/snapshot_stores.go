package engine

import (
	"slices"
	"sort"
)

// Snapshot section of the stores (version 3, stores.go), after the claims:
//
//	stores: count, then by name every store with a zone or a window:
//	  name, zone, windows count, then (start, end, capacity, used) by start
//
// A store with neither is not written: its record comes back with its
// items (restoreStoreItems), which every store record without a zone or a
// window has.

func (s *state) snapStores(e *enc) {
	names := make([]string, 0, len(s.stores.list))
	for i := range s.stores.list {
		if st := &s.stores.list[i]; st.zone != "" || len(st.windows) > 0 {
			names = append(names, st.name)
		}
	}
	sort.Strings(names)
	e.u(uint64(len(names)))
	for _, name := range names {
		st := s.stores.find(name)
		e.s(st.name)
		e.s(st.zone)
		e.u(uint64(len(st.windows)))
		for _, w := range st.windows {
			e.i(w.start)
			e.i(w.end)
			e.i(int64(w.quota))
			e.i(int64(w.used))
		}
	}
}

// restoreStoreItems makes the record of every item's store, listing its
// items in slot order (the order they were made in).
func (s *state) restoreStoreItems(d *dec) {
	if d.err != nil {
		return // the items are not all there, nor all checked
	}
	// Each item's store found once, the lists then made at their size:
	// appended one by one, a store's list of thousands would be copied
	// a dozen times into fresh memory.
	of := make([]uint32, s.items.len())
	for i := range of {
		of[i] = s.stores.index(s.items.at(uint32(i)).storeName())
	}
	n := make([]int32, len(s.stores.list))
	for _, k := range of {
		n[k]++
	}
	for k := range s.stores.list {
		st := &s.stores.list[k]
		st.items = slices.Grow(st.items, int(n[k]))
	}
	for i, k := range of {
		st := &s.stores.list[k]
		st.items = append(st.items, uint32(i))
	}
}

func (s *state) restoreStores(d *dec) {
	n := d.count(3)
	last := ""
	for i := 0; i < n && d.err == nil; i++ {
		name := d.str(MaxIDBytes)
		zone := d.str(MaxZoneBytes)
		m := d.count(4)
		if d.err != nil || name == "" || name <= last || (zone != "" && !validZone([]byte(zone))) ||
			m > MaxWindowsPerStore || (zone == "" && m == 0) {
			d.fail()
			return
		}
		last = name
		st := s.stores.get(name)
		st.zone = zone
		for j := 0; j < m && d.err == nil; j++ {
			w := window{start: d.i(), end: d.i(), quota: d.i32(0, MaxStock), used: d.i32(0, MaxStock)}
			if w.start <= 0 || w.end <= w.start || (j > 0 && st.windows[j-1].end > w.start) {
				d.fail()
				return
			}
			st.windows = append(st.windows, w)
		}
	}
}
