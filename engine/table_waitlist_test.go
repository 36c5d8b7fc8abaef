// Table tests of the fair waitlist (waitlist.go, docs/adr/0105).
//
// What they prove: a customer joins only a sold-out item's line, within
// its bounds (units, TTL, lines per customer, entries per item, at and past
// each edge); the units freed by a cancel, an expiry, a no-show, a restock
// or an adjustment go to the head of the line as a hold of its own TTL,
// announced by reserved and waitlist_promoted in the same batch, and no
// one else may reserve them; the head waits (and those behind it) while
// too few units are free; a head the limit or a block forbids leaves the
// line instead; entries end with their TTL or when the customer leaves;
// get_waitlist reports the line's length and a customer's place.
//
// How: the cases run on the table's shop (table_test.go: Z@S1 has one unit,
// L is limited to 2 per customer, M@S1 has a member share until 1h) with
// CheckInvariants after every batch; .wl checks the line in a result.
// TestWaitlistPerItemBound fills a line to its bound and past it, and
// TestWaitlistSnapshot restores lines from a snapshot and promotes alike.
package engine

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func (o tbOps) join(sku, store, cust string, qty int64) tbStep {
	return o.cmd(Command{Op: OpJoinWaitlist, SKU: []byte(sku), Store: []byte(store), Customer: []byte(cust), Qty: qty})
}
func (o tbOps) leave(sku, store, cust string) tbStep {
	return o.cmd(Command{Op: OpLeaveWaitlist, SKU: []byte(sku), Store: []byte(store), Customer: []byte(cust)})
}
func (o tbOps) getWait(sku, store, cust string) tbStep {
	return o.cmd(Command{Op: OpGetWaitlist, SKU: []byte(sku), Store: []byte(store), Customer: []byte(cust)})
}

// wl checks the line in a result: "len=2 pos=1 qty=1 expires=1h" (pos,
// qty and expires only while the customer is in line).
func (s tbStep) wl(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Waitlist == nil {
			return "no waitlist in the result"
		}
		got := fmt.Sprintf("len=%d", r.Waitlist.Length)
		if r.Waitlist.Position != 0 {
			got += fmt.Sprintf(" pos=%d qty=%d expires=%s", r.Waitlist.Position, r.Qty, tbAt(r.ExpiresAt))
		}
		return tbDiff("waitlist", got, want)
	})
}

// snapWaitlistsEmpty is the size of an empty waitlists section: seq 0,
// no lines, an empty due heap.
const snapWaitlistsEmpty = 3

func tbWaitlistTable() []tbCase {
	R, J := do.reserve, do.join
	soldZ := R("Z", "S1", "c1", 1) // Z@S1 has one unit: id 1
	promoted := func(seq int, cust string, qty int, exp string) []string {
		return []string{fmt.Sprintf("reserved id=%d Z/S1 %s qty=%d held", seq, cust, qty),
			fmt.Sprintf("waitlist_promoted id=%d Z/S1 %s qty=%d held", seq, cust, qty)}
	}
	return []tbCase{
		tc("join: refused while units are there to reserve", J("Z", "S1", "c2", 1).is(CodeWrongState).events()),
		tc("join: a sold-out item's line, default TTL 1h",
			soldZ, J("Z", "S1", "c2", 1).wl("len=1 pos=1 qty=1 expires=1h").events("waitlist_joined Z/S1 c2 qty=1"),
			J("Z", "S1", "c3", 1).at("1m").wl("len=2 pos=2 qty=1 expires=1h1m"),
			do.getWait("Z", "S1", "c2").wl("len=2 pos=1 qty=1 expires=1h"), do.getWait("Z", "S1", "").wl("len=2"),
			do.getWait("Z", "S1", "nobody").wl("len=2")),
		tc("join: again changes nothing", soldZ, J("Z", "S1", "c2", 1),
			J("Z", "S1", "c2", 2).at("1m").wl("len=1 pos=1 qty=1 expires=1h").events()),
		tc("join: a key replays, with the line as it stands", soldZ, J("Z", "S1", "c2", 1).key("j"),
			J("Z", "S1", "c3", 1), J("Z", "S1", "c2", 1).key("j").wl("len=2 pos=1 qty=1 expires=1h").events(),
			J("Z", "S1", "c2", 2).key("j").is(CodeKeyConflict)),
		tc("join: bounds of qty and TTL, at and past the edge",
			soldZ, J("Z", "S1", "c2", 0).is(CodeBadRequest), J("Z", "S1", "c2", -1).is(CodeBadRequest),
			J("Z", "S1", "c2", MaxWaitlistQty+1).is(CodeBadRequest), J("Z", "S1", "c2", 1).rawTTL(-1).is(CodeBadRequest),
			J("Z", "S1", "c2", 1).rawTTL(MaxWaitlistTTL+1).is(CodeBadRequest),
			J("Z", "S1", "c2", MaxWaitlistQty).rawTTL(MaxWaitlistTTL).wl("len=1 pos=1 qty=8 expires=1d")),
		tc("join: bad ids, unknown item, windows, blocked, sale window",
			J("", "S1", "c2", 1).is(CodeBadRequest), J("Z", "S1", id65, 1).is(CodeBadRequest),
			J("X", "S1", "c2", 1).is(CodeUnknownItem), J("W", "S1", "c2", 1).is(CodeWindowRequired),
			J("W", "S1", "c2", 1).win(0).is(CodeBadRequest), soldZ, J("Z", "S1", "bad", 1).is(CodeBlocked),
			J("F", "S1", "c2", 1).is(CodeNotOpen), J("F", "S1", "c2", 1).at("2h").is(CodeClosed)),
		tc("join: a customer in MaxWaitlistPerCustomer lines may join no more", waitStock0(MaxWaitlistPerCustomer+1,
			func(i int) tbStep {
				if i < MaxWaitlistPerCustomer {
					return J(fmt.Sprint("X", i), "S1", "c2", 1)
				}
				return J(fmt.Sprint("X", i), "S1", "c2", 1).is(CodeTooMany)
			})...),
		tc("join: a limited SKU's customer at its limit is refused",
			do.adjust("L", "S1", -8), R("L", "S1", "c1", 2), J("L", "S1", "c1", 1).is(CodeLimitExceeded),
			J("L", "S1", "c2", 2).wl("len=1 pos=1 qty=2 expires=1h"), J("L", "S1", "c3", 3).is(CodeLimitExceeded)),
		tcc("join: a limited SKU's customer of another home is refused claim_required", tbClaimCfg,
			do.adjust("L", "S1", -10), J("L", "S1", tbFar, 1).is(CodeClaimRequired), J("L", "S1", tbNear, 1).wl("len=1 pos=1 qty=1 expires=1h")),

		tc("promotion: a cancel's unit goes to the head, FIFO, and no one else may take it",
			soldZ, J("Z", "S1", "c2", 1), J("Z", "S1", "c3", 1),
			do.cancel(1).at("1m").events(append([]string{"cancelled id=1 Z/S1 c1 qty=1 cancelled"}, promoted(2, "c2", 1, "11m")...)...),
			do.getRes(2).resv("id=2 Z/S1 c2 qty=1 held expires=11m"), do.getWait("Z", "S1", "c3").wl("len=1 pos=1 qty=1 expires=1h"),
			R("Z", "S1", "c4", 1).is(CodeSoldOut), do.cancel(2).events(append([]string{"cancelled id=2 Z/S1 c2 qty=1 cancelled"}, promoted(3, "c3", 1, "")...)...),
			do.getWait("Z", "S1", "c3").wl("len=0"), do.cancel(3), R("Z", "S1", "c4", 1).res("held id=4 qty=1 expires=11m")),
		tc("promotion: an expired hold's unit, in the expiry's batch", soldZ, J("Z", "S1", "c2", 1),
			do.getItem("Z", "S1").at("10m").item("stock=1 held=1 available=0").events(append([]string{"expired id=1 Z/S1 c1 qty=1 expired"}, promoted(2, "c2", 1, "")...)...),
			do.getRes(2).resv("id=2 Z/S1 c2 qty=1 held expires=20m")),
		tcc("promotion: the promoted hold's TTL is WaitlistHoldTTL", func(c *Config) { c.WaitlistHoldTTL = 3 * time.Minute },
			soldZ, J("Z", "S1", "c2", 1), do.cancel(1).at("1m"), do.getRes(2).resv("id=2 Z/S1 c2 qty=1 held expires=4m"),
			do.getItem("Z", "S1").at("4m").item("stock=1 available=1").events("expired id=2 Z/S1 c2 qty=1 expired")),
		tcc("promotion: a no-show's unit", func(c *Config) { c.PickupPeriod = time.Hour },
			soldZ, do.confirm(1, 0), J("Z", "S1", "c2", 1).ttl("2h"),
			do.getItem("Z", "S1").at("1h").events(append([]string{"no_show id=1 Z/S1 c1 qty=1 no_show code=ok"}, promoted(2, "c2", 1, "")...)...)),
		tc("promotion: a restock's and an adjustment's units", soldZ, J("Z", "S1", "c2", 1), J("Z", "S1", "c3", 1),
			do.restock("Z", "S1", 1).events(append([]string{"stock_changed Z/S1 qty=1 stock=2"}, promoted(2, "c2", 1, "")...)...),
			do.adjust("Z", "S1", 1).events(append([]string{"stock_changed Z/S1 qty=1 stock=3"}, promoted(3, "c3", 1, "")...)...),
			do.adjust("Z", "S1", 1).events("stock_changed Z/S1 qty=1 stock=4")),
		tc("promotion: the head waits for all its units, and those behind it wait too",
			soldZ, J("Z", "S1", "c2", 2), J("Z", "S1", "c3", 1), do.restock("Z", "S1", 1).events("stock_changed Z/S1 qty=1 stock=2"),
			R("Z", "S1", "c4", 1).is(CodeSoldOut), do.restock("Z", "S1", 1).events(append([]string{"stock_changed Z/S1 qty=1 stock=3"}, promoted(2, "c2", 2, "")...)...),
			do.getWait("Z", "S1", "c3").wl("len=1 pos=1 qty=1 expires=1h")),
		tc("promotion: a head whose entry ended lets the next one take what it waited beside",
			soldZ, J("Z", "S1", "c2", 2).ttl("5m"), J("Z", "S1", "c3", 1), do.restock("Z", "S1", 1),
			do.getWait("Z", "S1", "c3").at("5m").wl("len=0").events(append([]string{"waitlist_expired Z/S1 c2 qty=2"}, promoted(2, "c3", 1, "")...)...)),
		tc("promotion: the head leaving lets the next one take what it waited beside",
			soldZ, J("Z", "S1", "c2", 2), J("Z", "S1", "c3", 1), do.restock("Z", "S1", 1),
			do.leave("Z", "S1", "c2").events(append([]string{"waitlist_left Z/S1 c2 qty=2"}, promoted(2, "c3", 1, "")...)...)),
		tc("promotion: a head at its limit leaves the line, the next one is promoted",
			do.adjust("L", "S1", -9), R("L", "S1", "c1", 1), J("L", "S1", "c2", 1), J("L", "S1", "c3", 1),
			R("L", "S2", "c2", 2), do.cancel(1).events("cancelled id=1 L/S1 c1 qty=1 cancelled", "waitlist_dropped L/S1 c2 qty=1",
				"reserved id=3 L/S1 c3 qty=1 held", "waitlist_promoted id=3 L/S1 c3 qty=1 held")),
		tc("promotion: a head blocked since it joined leaves the line; the unit is free again",
			soldZ, J("Z", "S1", "c2", 1), do.block("c2"), do.cancel(1).events("cancelled id=1 Z/S1 c1 qty=1 cancelled", "waitlist_dropped Z/S1 c2 qty=1"),
			do.getItem("Z", "S1").item("stock=1 available=1"), do.getWait("Z", "S1", "c2").wl("len=0")),
		tc("promotion: units kept by a member share's cutoff go to the head when the item is next asked for",
			R("M", "S1", "c1", 2), do.confirm(1, 0), J("M", "S1", "c2", 1).ttl("2h"), R("M", "S1", "c3", 1).at("1h").is(CodeSoldOut).events(
				"reserved id=2 M/S1 c2 qty=1 held", "waitlist_promoted id=2 M/S1 c2 qty=1 held")),
		tc("promotion: a failed linked group frees nothing", soldZ, J("Z", "S1", "c2", 1),
			do.cancel(1).linked().is(CodeLinkFailed), R("A", "S1", "c1", 11).withSame().is(CodeSoldOut).events(),
			do.getWait("Z", "S1", "c2").wl("len=1 pos=1 qty=1 expires=1h")),
		tc("promotion: a failed linked group's marks are rolled back: its head, blocked meanwhile, stays in line",
			soldZ, J("Z", "S1", "c2", 1), J("Z", "S1", "c3", 1), do.block("c2"),
			do.cancel(1).linked().is(CodeLinkFailed), R("A", "S1", "c1", 11).withSame().is(CodeSoldOut).events(),
			do.getWait("Z", "S1", "c2").wl("len=2 pos=1 qty=1 expires=1h")),

		tc("entry TTL: an entry ends with it; then the units are open to all",
			soldZ, J("Z", "S1", "c2", 1).ttl("5m"), do.getWait("Z", "S1", "c2").at("5m").wl("len=0").events("waitlist_expired Z/S1 c2 qty=1"),
			do.cancel(1).events("cancelled id=1 Z/S1 c1 qty=1 cancelled"), R("Z", "S1", "c3", 1).res("held id=2 qty=1 expires=15m")),
		tc("leave: out of the line, then not found; unknown item; bad ids",
			soldZ, J("Z", "S1", "c2", 1), J("Z", "S1", "c3", 1),
			do.leave("Z", "S1", "c3").wl("len=1").events("waitlist_left Z/S1 c3 qty=1"), do.leave("Z", "S1", "c3").is(CodeNotFound),
			do.leave("Z", "S1", "nobody").is(CodeNotFound), do.leave("X", "S1", "c2").is(CodeUnknownItem),
			do.leave("Z", "", "c2").is(CodeBadRequest), do.getWait("Z", "S1", "c2").wl("len=1 pos=1 qty=1 expires=1h")),
		tc("get_waitlist: unknown item, bad ids", do.getWait("X", "S1", "c1").is(CodeUnknownItem),
			do.getWait("Z", "S1", id65).is(CodeBadRequest), do.getWait("Z", "S1", "c1").wl("len=0")),
	}
}

// waitStock0 puts n items X0.. of no stock (sold out at once) and runs
// step(i) on each.
func waitStock0(n int, step func(i int) tbStep) []tbStep {
	var out []tbStep
	for i := 0; i < n; i++ {
		out = append(out, do.putItem(fmt.Sprint("X", i), "S1", 0, 0))
	}
	for i := 0; i < n; i++ {
		out = append(out, step(i))
	}
	return out
}

func waitJoin(e *Engine, cust string, at int64) Result {
	return refApply(e, at, Command{Op: OpJoinWaitlist, SKU: []byte("Z"), Store: []byte("S1"), Customer: []byte(cust), Qty: 1})[0]
}

// waitShop is the table's shop with Z@S1 sold out to c1 (id 1).
func waitShop(t *testing.T) *Engine {
	e := tbNewEngine(t, nil)
	if r := refApply(e, tbT0, Command{Op: OpReserve, SKU: []byte("Z"), Store: []byte("S1"), Customer: []byte("c1"), Qty: 1})[0]; r.Code != OK {
		t.Fatalf("reserve: %v", r.Code)
	}
	return e
}

// TestWaitlistPerItemBound: a line takes MaxWaitlistPerItem entries and
// refuses the next one too_many; a place freed by a leave is taken again.
func TestWaitlistPerItemBound(t *testing.T) {
	e := waitShop(t)
	for i := 0; i < MaxWaitlistPerItem; i++ {
		if r := waitJoin(e, fmt.Sprint("w", i), tbT0); r.Code != OK || r.Waitlist.Position != int64(i+1) {
			t.Fatalf("join %d: %v %+v", i, r.Code, r.Waitlist)
		}
	}
	if r := waitJoin(e, "late", tbT0); r.Code != CodeTooMany {
		t.Fatalf("join past the bound: %v", r.Code)
	}
	refApply(e, tbT0, Command{Op: OpLeaveWaitlist, SKU: []byte("Z"), Store: []byte("S1"), Customer: []byte("w5")})
	if r := waitJoin(e, "late", tbT0); r.Code != OK || r.Waitlist.Position != MaxWaitlistPerItem {
		t.Fatalf("join after a leave: %v %+v", r.Code, r.Waitlist)
	}
	if err := e.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestWaitlistSnapshot: lines survive a snapshot byte for byte, and the
// restored engine promotes the same heads with the same events.
func TestWaitlistSnapshot(t *testing.T) {
	e := waitShop(t)
	waitJoin(e, "c2", tbT0+1)
	waitJoin(e, "c3", tbT0+2)
	b := tbSnapBytes(e)
	r, err := Restore(Config{ShardID: tbShard, PickupSecret: tbSecret}, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if again := tbSnapBytes(r); !bytes.Equal(again, b) {
		t.Fatal("snapshot of the restored engine differs")
	}
	cancel := Command{Op: OpCancel, ID: id(1)}
	_, ev1 := e.Apply(tbT0+3, []Command{cancel})
	got1 := fmt.Sprint(tbFmtEvents(ev1))
	_, ev2 := r.Apply(tbT0+3, []Command{cancel})
	if got2 := fmt.Sprint(tbFmtEvents(ev2)); got1 != got2 {
		t.Fatalf("events after restore: %s, want %s", got2, got1)
	}
	if want := "[cancelled id=1 Z/S1 c1 qty=1 cancelled reserved id=2 Z/S1 c2 qty=1 held waitlist_promoted id=2 Z/S1 c2 qty=1 held]"; got1 != want {
		t.Fatalf("events: %s, want %s", got1, want)
	}
	// Format 5 had no waitlists: the section read as format 5 is refused.
	old := append([]byte(nil), b...)
	old[len(snapMagicOld)] = 5
	if _, err := Restore(Config{ShardID: tbShard, PickupSecret: tbSecret}, bytes.NewReader(old)); err == nil {
		t.Fatal("a format 5 snapshot with waitlists restored")
	}
}

func tbFmtEvents(evs []Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = tbFmtEvent(ev)
	}
	return out
}
