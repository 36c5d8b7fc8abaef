// What this file is: the reference model's stores (a time zone and pickup
// windows with a capacity across every SKU of the store) and SKU limits,
// written straight from the rules (docs/adr/0071) over plain maps, for
// TestModelRandom; and TestModelStoreCapacityShared, the field report's
// story (two SKUs of one store filling a store window of capacity 1) run
// through the engine and the model, which must both refuse the second.
package engine

import (
	"sort"
	"testing"
	"time"
)

type refStore struct {
	zone    string
	windows []refWindow // sorted by start; quota is the capacity
}

// storeWindow is the store's window starting at start, or nil.
func (m *refModel) storeWindow(store string, start int64) *refWindow {
	st := m.stores[store]
	if st == nil || start == 0 {
		return nil
	}
	for i := range st.windows {
		if st.windows[i].start == start {
			return &st.windows[i]
		}
	}
	return nil
}

// refApart: [start, end) overlaps w but is not the same window.
func refApart(start, end int64, w refWindow) bool {
	return w.start < end && start < w.end && (w.start != start || w.end != end)
}

func refZoneOK(z []byte) bool {
	if len(z) == 0 || len(z) > MaxZoneBytes {
		return false
	}
	for _, b := range z {
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '/' || b == '_' || b == '-' || b == '+') {
			return false
		}
	}
	return true
}

// storeKnown: a store with an item, a zone or a window.
func (m *refModel) storeKnown(store string) bool {
	if m.stores[store] != nil {
		return true
	}
	for k := range m.items {
		if k.store == store {
			return true
		}
	}
	return false
}

func (m *refModel) storeInfo(name string) *StoreInfo {
	info := &StoreInfo{Store: name}
	if st := m.stores[name]; st != nil {
		info.Zone = st.zone
		for _, w := range st.windows {
			info.Windows = append(info.Windows, WindowInfo{Start: w.start, End: w.end, Quota: w.quota, Used: w.used})
		}
	}
	return info
}

func (m *refModel) putStore(c *Command) Result {
	if !refValidID(c.Store) || !refZoneOK(c.Zone) {
		return refBad(CodeBadRequest)
	}
	st := m.stores[string(c.Store)]
	if st == nil {
		st = &refStore{}
		m.stores[string(c.Store)] = st
	}
	st.zone = string(c.Zone)
	return Result{Store: m.storeInfo(string(c.Store))}
}

// putStoreWindow: a new window starts with what the store's items hold in
// their windows of the same start; none may cross it without coinciding.
func (m *refModel) putStoreWindow(c *Command) Result {
	if !refValidID(c.Store) || c.Window <= 0 || c.WindowEnd <= c.Window || c.Quota < 0 || c.Quota > MaxStock {
		return refBad(CodeBadRequest)
	}
	name := string(c.Store)
	st := m.stores[name]
	if st == nil {
		st = &refStore{}
	}
	for _, w := range st.windows {
		if w.start != c.Window && w.start < c.WindowEnd && c.Window < w.end {
			return refBad(CodeWindowConflict)
		}
	}
	var held int64
	for k, it := range m.items {
		if k.store != name {
			continue
		}
		for _, w := range it.windows {
			if refApart(c.Window, c.WindowEnd, w) {
				return refBad(CodeWindowConflict)
			}
			if w.start == c.Window {
				held += w.used
			}
		}
	}
	var w *refWindow
	for i := range st.windows {
		if st.windows[i].start == c.Window {
			w = &st.windows[i]
		}
	}
	switch {
	case w != nil && c.Quota < w.used, w == nil && c.Quota < held:
		return refBad(CodeBelowPromised)
	case w == nil && len(st.windows) >= MaxWindowsPerStore:
		return refBad(CodeTooMany)
	case w != nil:
		w.end, w.quota = c.WindowEnd, c.Quota
	default:
		st.windows = append(st.windows, refWindow{start: c.Window, end: c.WindowEnd, quota: c.Quota, used: held})
		sort.Slice(st.windows, func(i, j int) bool { return st.windows[i].start < st.windows[j].start })
	}
	m.stores[name] = st
	return Result{Store: m.storeInfo(name)}
}

func (m *refModel) getStore(c *Command) Result {
	if !refValidID(c.Store) {
		return refBad(CodeBadRequest)
	}
	if !m.storeKnown(string(c.Store)) {
		return refBad(CodeNotFound)
	}
	return Result{Store: m.storeInfo(string(c.Store))}
}

func (m *refModel) setLimit(c *Command) Result {
	if !refValidID(c.SKU) || len(c.Store) != 0 || c.Limit < 0 || c.Limit > MaxStock {
		return refBad(CodeBadRequest)
	}
	m.limits[string(c.SKU)] = c.Limit
	return Result{Qty: c.Limit}
}

// TestModelStoreCapacityShared: a store takes one pre-order in a window
// across its SKUs; a second SKU's reserve into it is refused window_full,
// by the engine and by the model alike, and a cancel frees it for the other.
func TestModelStoreCapacityShared(t *testing.T) {
	cfg := Config{ShardID: 1, PickupSecret: []byte("s")}
	e, m := New(cfg), newRefModel(cfg)
	now := int64(1_700_000_000) * int64(time.Second)
	w0, w1 := now+int64(time.Hour), now+int64(3*time.Hour)
	S := []byte("TPE0427")
	cmds := []Command{
		{Op: OpPutStore, Store: S, Zone: []byte("Asia/Taipei")},
		{Op: OpPutItem, SKU: []byte("CAKE"), Store: S, Stock: 10},
		{Op: OpPutItem, SKU: []byte("TART"), Store: S, Stock: 10},
		{Op: OpPutWindow, SKU: []byte("CAKE"), Store: S, Window: w0, WindowEnd: w1, Quota: 5},
		{Op: OpPutWindow, SKU: []byte("TART"), Store: S, Window: w0, WindowEnd: w1, Quota: 5},
		{Op: OpPutStoreWindow, Store: S, Window: w0, WindowEnd: w1, Quota: 1},
		{Op: OpReserve, SKU: []byte("CAKE"), Store: S, Customer: []byte("amy"), Qty: 1, Window: w0},
		{Op: OpReserve, SKU: []byte("TART"), Store: S, Customer: []byte("ben"), Qty: 1, Window: w0},
		{Op: OpReserve, SKU: []byte("TART"), Store: S, Customer: []byte("ben"), Qty: 1},
		{Op: OpCancel, ID: MakeID(1, 1)},
		{Op: OpReserve, SKU: []byte("TART"), Store: S, Customer: []byte("ben"), Qty: 1, Window: w0},
		{Op: OpGetStore, Store: S},
	}
	got, _ := e.Apply(now, cmds)
	want := m.apply(now, cmds)
	for i := range cmds {
		if !refEqual(got[i], want[i]) {
			t.Fatalf("command %d %s: engine %s, model %s", i, refFmtCmd(&cmds[i]), refFmtResult(got[i]), refFmtResult(want[i]))
		}
	}
	for i, code := range map[int]Code{6: OK, 7: CodeWindowFull, 8: CodeWindowRequired, 10: OK} {
		if got[i].Code != code {
			t.Errorf("command %d %s: %v, want %v", i, refFmtCmd(&cmds[i]), got[i].Code, code)
		}
	}
	if st := got[11].Store; st == nil || st.Zone != "Asia/Taipei" || len(st.Windows) != 1 || st.Windows[0].Used != 1 || st.Windows[0].Quota != 1 {
		t.Errorf("store: %+v", st)
	}
	if err := e.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
