// Table cases of stores (stores.go): a store's time zone, its pickup
// windows with a capacity across every SKU of the store, the per-SKU
// limit, reserves that must name a window, and pickups before their window.
//
// What they prove, in the runner of table_test.go (same fixture, results,
// events, reads and CheckInvariants after every batch): two SKUs of one
// store share the store window's capacity (the second is refused
// window_full); every way a reservation ends gives the store window's
// units back, and reschedule moves them; windows of a store and of its
// items either coincide or stay apart; a store window cannot be put below
// what its items already hold; a failed cart leaves the capacity as it
// was; bad input is refused and changes nothing.
package engine

import (
	"fmt"
	"strings"
	"time"
)

func (o tbOps) putStore(store, zone string) tbStep {
	return o.cmd(Command{Op: OpPutStore, Store: []byte(store), Zone: []byte(zone)})
}
func (o tbOps) putStoreWindow(store, start, end string, capacity int64) tbStep {
	return o.cmd(Command{Op: OpPutStoreWindow, Store: []byte(store), Window: tbAbs(start), WindowEnd: tbAbs(end), Quota: capacity})
}
func (o tbOps) getStore(store string) tbStep {
	return o.cmd(Command{Op: OpGetStore, Store: []byte(store)})
}

// tbFmtStore prints a store read: "S1 zone=Asia/Taipei window[1d..1d2h capacity=2 used=1]".
func tbFmtStore(st StoreInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s zone=%s", st.Store, st.Zone)
	for _, w := range st.Windows {
		fmt.Fprintf(&b, " window[%s..%s capacity=%d used=%d]", tbAt(w.Start), tbAt(w.End), w.Quota, w.Used)
	}
	return b.String()
}

// storeIs checks the store in the result (get_store, put_store, put_store_window).
func (s tbStep) storeIs(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Store == nil {
			return "no store in the result"
		}
		return tbDiff("store", tbFmtStore(*r.Store), want)
	})
}

// windowIs checks the window a refusal names (too_early).
func (s tbStep) windowIs(off string) tbStep {
	return s.chk(func(_ *Engine, r Result) string { return tbDiff("window", tbTimeOrNone(r.Window), off) })
}

// tbStoreWindowsUpTo puts n one-hour windows on store S2 starting at 20d.
func tbStoreWindowsUpTo(n int) []tbStep {
	out := make([]tbStep, n)
	for i := range out {
		start := tbFmtDur(20*24*time.Hour + time.Duration(i)*time.Hour)
		end := tbFmtDur(20*24*time.Hour + time.Duration(i+1)*time.Hour)
		out[i] = do.putStoreWindow("S2", start, end, 1)
	}
	return out
}

// tbShared is the story of the field report: the store's counter takes
// one pre-order in the window 1d..1d2h, across SKUs W and A.
var tbShared = []tbStep{
	do.putWindow("A", "S1", "1d", "1d2h", 5),
	do.putStoreWindow("S1", "1d", "1d2h", 1).storeIs("S1 zone= window[1d..1d2h capacity=1 used=0]"),
}

func tbStoreTable() []tbCase {
	R := do.reserve
	W1 := func(sku, cust string, qty int64) tbStep { return R(sku, "S1", cust, qty).win(1) }
	return []tbCase{
		// ---- put_store / get_store ----
		tc("put_store: sets the time zone", do.putStore("S1", "Asia/Taipei").storeIs("S1 zone=Asia/Taipei").
			events("store_put /S1 zone=Asia/Taipei"), do.getStore("S1").storeIs("S1 zone=Asia/Taipei"),
			do.putStore("S1", "UTC").storeIs("S1 zone=UTC")),
		tc("put_store: a store with no item yet", do.putStore("S9", "America/Argentina/Buenos_Aires").storeIs("S9 zone=America/Argentina/Buenos_Aires"),
			do.getStore("S9").storeIs("S9 zone=America/Argentina/Buenos_Aires")),
		tc("put_store: a zone that is no IANA name, or no store, is a bad request",
			do.putStore("S1", "").is(CodeBadRequest).events(), do.putStore("S1", "Asia/Taipei ").is(CodeBadRequest),
			do.putStore("S1", "../etc/passwd").is(CodeBadRequest), do.putStore("S1", strings.Repeat("A", MaxZoneBytes+1)).is(CodeBadRequest),
			do.putStore("", "UTC").is(CodeBadRequest), do.putStore(id65, "UTC").is(CodeBadRequest),
			do.getStore("S1").storeIs("S1 zone=")),
		tc("get_store: a store with items and nothing else", do.getStore("S2").storeIs("S2 zone=")),
		tc("get_store: unknown store, bad id", do.getStore("S7").is(CodeNotFound), do.getStore("").is(CodeBadRequest)),

		// ---- put_store_window ----
		tc("put_store_window: creates and changes a window", do.putStoreWindow("S2", "1d", "1d2h", 3).
			storeIs("S2 zone= window[1d..1d2h capacity=3 used=0]").events("store_window_put /S2 qty=3 window=1d"),
			do.putStoreWindow("S2", "1d", "1d3h", 4).storeIs("S2 zone= window[1d..1d3h capacity=4 used=0]"),
			do.putStoreWindow("S2", "2h", "3h", 0).storeIs("S2 zone= window[2h..3h capacity=0 used=0] window[1d..1d3h capacity=4 used=0]")),
		tc("put_store_window: bad bounds or capacity", do.putStoreWindow("S2", "1d", "1d", 1).is(CodeBadRequest).events(),
			do.putStoreWindow("S2", "1d", "23h", 1).is(CodeBadRequest), do.putStoreWindow("S2", "1d", "1d2h", -1).is(CodeBadRequest),
			do.putStoreWindow("S2", "1d", "1d2h", MaxStock+1).is(CodeBadRequest),
			do.putStoreWindow("S2", "1d", "1d2h", 1).withCmd(func(c *Command) { c.Window = 0 }).is(CodeBadRequest),
			do.putStoreWindow("", "1d", "1d2h", 1).is(CodeBadRequest), do.getStore("S2").storeIs("S2 zone=")),
		tc("put_store_window: overlapping another store window", do.putStoreWindow("S2", "1d", "1d2h", 1),
			do.putStoreWindow("S2", "1d1h", "1d3h", 1).is(CodeWindowConflict), do.putStoreWindow("S2", "1d2h", "1d3h", 1)),
		tc("put_store_window: across an item's window without coinciding",
			do.putStoreWindow("S1", "1d1h", "1d3h", 9).is(CodeWindowConflict), do.putStoreWindow("S1", "1d", "1d1h", 9).is(CodeWindowConflict),
			do.putStoreWindow("S1", "23h", "1d2h", 9).is(CodeWindowConflict), do.putStoreWindow("S1", "1d", "1d2h", 9),
			do.putStoreWindow("S1", "1d", "1d3h", 9).is(CodeWindowConflict), do.putStoreWindow("S1", "1d2h", "1d3h", 9)),
		tc("put_window: an item window across a store window without coinciding is refused",
			do.putStoreWindow("S2", "1d", "1d2h", 9), do.putWindow("A", "S2", "1d1h", "1d3h", 1).is(CodeWindowConflict),
			do.putWindow("A", "S2", "1d", "1d1h", 1).is(CodeWindowConflict), do.putWindow("A", "S2", "1d", "1d2h", 1),
			do.putWindow("A", "S2", "1d2h", "1d4h", 1)),
		tc("put_store_window: counts what the store's items already hold, and refuses less",
			W1("W", "c1", 2), do.putWindow("A", "S1", "1d", "1d2h", 5), W1("A", "c2", 1),
			do.putStoreWindow("S1", "1d", "1d2h", 2).is(CodeBelowPromised).events(),
			do.putStoreWindow("S1", "1d", "1d2h", 3).storeIs("S1 zone= window[1d..1d2h capacity=3 used=3]"),
			do.putStoreWindow("S1", "1d", "1d2h", 2).is(CodeBelowPromised), W1("A", "c3", 1).is(CodeWindowFull)),
		tcc("put_store_window: at most MaxWindowsPerStore", nil, tbCat(tbStoreWindowsUpTo(MaxWindowsPerStore), []tbStep{
			do.putStoreWindow("S2", "40d", "40d1h", 1).is(CodeTooMany),
			do.putStoreWindow("S2", "20d", "20d1h", 5).storeIs(func() string {
				b := "S2 zone="
				for i := 0; i < MaxWindowsPerStore; i++ {
					c := int64(1)
					if i == 0 {
						c = 5
					}
					b += fmt.Sprintf(" window[%s..%s capacity=%d used=0]", tbFmtDur(20*24*time.Hour+time.Duration(i)*time.Hour),
						tbFmtDur(20*24*time.Hour+time.Duration(i+1)*time.Hour), c)
				}
				return b
			}())})...),

		// ---- reserve into a store window ----
		tc("reserve: two SKUs of one store share the store window's capacity", tbCat(tbShared, []tbStep{
			W1("W", "c1", 1).res("held id=1 qty=1 window=1d expires=10m"),
			W1("A", "c2", 1).is(CodeWindowFull).events(),
			do.getStore("S1").storeIs("S1 zone= window[1d..1d2h capacity=1 used=1]"),
			do.getWindow("A", "S1", 1).wnd("1d..1d2h quota=5 used=0")})...),
		tc("reserve: the item's own quota still binds under the store's capacity", do.putStoreWindow("S1", "1d", "1d2h", 9),
			W1("W", "c1", 2), W1("W", "c2", 1).is(CodeWindowFull), do.getStore("S1").storeIs("S1 zone= window[1d..1d2h capacity=9 used=2]")),
		tc("reserve: a store window the item does not have is unknown", do.putStoreWindow("S1", "5d", "5d2h", 9),
			R("W", "S1", "c1", 1).window(tbAbs("5d")).is(CodeUnknownWindow)),
		tc("reserve: an item with windows needs one", R("W", "S1", "c1", 1).is(CodeWindowRequired).events(),
			do.getItem("W", "S1").item("stock=10 available=10 window[1h..2h quota=5 used=0] window[1d..1d2h quota=2 used=0] window[2d..2d2h quota=3 used=0]"),
			R("A", "S1", "c1", 1).res("held id=1 qty=1 expires=10m")),
		tc("reserve: an item whose windows are all over still needs one", R("W", "S1", "c1", 1).at("3d").is(CodeWindowRequired),
			R("W", "S1", "c1", 1).win(2).is(CodeClosed)),
		tc("reserve: a cart refused on a later line leaves the store window as it was", tbCat(tbShared, []tbStep{
			W1("W", "c1", 1).linked().is(CodeLinkFailed), R("Z", "S1", "c1", 2).is(CodeSoldOut),
			do.getStore("S1").storeIs("S1 zone= window[1d..1d2h capacity=1 used=0]"),
			W1("A", "c2", 1).res("held id=1 qty=1 window=1d expires=10m")})...),

		// ---- every end of a reservation gives the store window back ----
		tc("cancel gives the store window back", tbCat(tbShared, []tbStep{W1("W", "c1", 1), do.cancel(1),
			do.getStore("S1").storeIs("S1 zone= window[1d..1d2h capacity=1 used=0]"), W1("A", "c2", 1)})...),
		tc("expiry gives the store window back", tbCat(tbShared, []tbStep{W1("W", "c1", 1),
			do.getStore("S1").at("10m").storeIs("S1 zone= window[1d..1d2h capacity=1 used=0]"), W1("A", "c2", 1)})...),
		tc("a no-show gives the store window back", tbCat(tbShared, []tbStep{W1("W", "c1", 1), do.confirm(1, 0),
			do.getStore("S1").at("1d2h").storeIs("S1 zone= window[1d..1d2h capacity=1 used=0]")})...),
		tc("a partial confirm gives the rest back", do.putStoreWindow("S1", "1d", "1d2h", 2), W1("W", "c1", 2), do.confirm(1, 1),
			do.getStore("S1").storeIs("S1 zone= window[1d..1d2h capacity=2 used=1]")),
		tc("a pickup keeps counting; a return gives it back", tbCat(tbShared, []tbStep{W1("W", "c1", 1), do.confirm(1, 0),
			do.pickup(1, "S1", tbPin(1)).at("1d"), do.getStore("S1").storeIs("S1 zone= window[1d..1d2h capacity=1 used=1]"),
			do.ret(1, true), do.getStore("S1").storeIs("S1 zone= window[1d..1d2h capacity=1 used=0]")})...),
		tc("reschedule moves units between store windows", do.putWindow("A", "S1", "1d", "1d2h", 5), do.putWindow("A", "S1", "2d", "2d2h", 5),
			do.putStoreWindow("S1", "1d", "1d2h", 1), do.putStoreWindow("S1", "2d", "2d2h", 1),
			W1("W", "c1", 1), do.reschedule(1, 2).res("held id=1 qty=1 window=2d expires=10m"),
			do.getStore("S1").storeIs("S1 zone= window[1d..1d2h capacity=1 used=0] window[2d..2d2h capacity=1 used=1]"),
			W1("A", "c2", 1), do.reschedule(2, 2).is(CodeWindowFull), do.getRes(2).res("held id=2 qty=1 window=1d expires=10m")),

		// ---- pickup before the window ----
		tc("pickup: before the window starts is too early, and counts no attempt", W1("W", "c1", 1), do.confirm(1, 0),
			do.pickup(1, "S1", tbPin(1)).at("23h59m").is(CodeTooEarly).windowIs("1d").events(),
			do.pickup(1, "S1", tbPin(1)+1).is(CodeTooEarly), do.pickupByCode("S1", tbPin(1)).is(CodeTooEarly).windowIs("1d"),
			do.getRes(1).resv("id=1 W/S1 c1 qty=1 confirmed window=1d pickup-by=1d2h code=ok"),
			do.pickup(1, "S1", tbPin(1)).at("1d").res("picked_up id=1 qty=1 window=1d code=ok")),
		tc("pickup: too early at another store is the wrong store", W1("W", "c1", 1), do.confirm(1, 0),
			do.pickup(1, "S2", tbPin(1)).is(CodeWrongStore)),
	}
}
