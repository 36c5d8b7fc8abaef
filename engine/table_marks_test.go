package engine

// Screening marks (marks.go, docs/adr/0104). The table cases prove each
// mark from the history that makes it (tier and pickups, first order, a
// fingerprint behind many customers, velocity, a no-show), the item's rule
// refusing with CodeMarked and changing nothing, the rule and list ops,
// and that a rolled-back linked group records nothing. The plain tests
// prove the bound on fingerprints, that a restored engine gives the same
// marks as the one that wrote the snapshot, and that formats 4 and 5
// (without the section) still restore, and that a marked refusal's replay
// names its marks, also after a restore. Each case runs through
// runTableCase, which checks the engine's invariants after every batch.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"testing"
)

func newEncForTest(w io.Writer) *enc { return &enc{w: bufio.NewWriter(w)} }

const tbDevice = 0xd1ce

// mk checks a result's screening marks.
func (s tbStep) mk(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if got := r.Marks.String(); got != want {
			return fmt.Sprintf("marks %q, want %q", got, want)
		}
		return ""
	})
}

// device sets the reserve's device fingerprint; payment its payment one.
func (s tbStep) device(h uint64) tbStep  { s.cmd.Prints[PrintDevice] = h; return s }
func (s tbStep) payment(h uint64) tbStep { s.cmd.Prints[PrintPayment] = h; return s }

func (o tbOps) markRule(sku, store string, m Marks) tbStep {
	return o.cmd(Command{Op: OpSetMarkRule, SKU: []byte(sku), Store: []byte(store), Marks: m})
}
func (o tbOps) getMarkRule(sku, store string) tbStep {
	return o.cmd(Command{Op: OpGetMarkRule, SKU: []byte(sku), Store: []byte(store)})
}
func (o tbOps) listByMark(m Marks) tbStep { return o.cmd(Command{Op: OpListByMark, Marks: m}) }

// listIDs checks a list's reservation seqs and marks: "1:first_order 3:...".
func (s tbStep) listIDs(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		got := ""
		for i, x := range r.Reservations {
			if i > 0 {
				got += " "
			}
			got += fmt.Sprintf("%d:%s", SeqOfID(x.ID), x.Marks)
		}
		if got != want {
			return fmt.Sprintf("list %q, want %q", got, want)
		}
		return ""
	})
}

func tbMarksTable() []tbCase {
	R := do.reserve
	dev := func(cust string) tbStep { return R("A", "S1", cust, 1).device(tbDevice) }
	return []tbCase{
		tc("marks: a first order, then none",
			R("A", "S1", "c1", 1).mk("first_order"), R("A", "S1", "c1", 1).mk("")),
		tc("marks: a loyal tier",
			R("A", "S1", "gold", 1).mk("loyal,first_order"), R("A", "S1", "vip", 1).mk("first_order")),
		tc("marks: loyal after LoyalPickups pickups here",
			R("A", "S1", "c1", 1), do.confirm(1, 0), do.pickup(1, "S1", tbPin(1)),
			R("A", "S1", "c1", 1), do.confirm(2, 0), do.pickup(2, "S1", tbPin(2)),
			R("A", "S1", "c1", 1).mk(""), do.confirm(3, 0), do.pickup(3, "S1", tbPin(3)),
			R("A", "S1", "c1", 1).mk("loyal")),
		tc("marks: one device, many accounts",
			dev("r1").mk("first_order"), dev("r2").mk("first_order"),
			dev("r3").mk("first_order,shared_device"), dev("r4").mk("first_order,shared_device"),
			dev("r1").mk("shared_device"),                             // r1 again: three others are behind the device
			R("A", "S1", "r5", 1).payment(tbDevice).mk("first_order"), // the same hash of another kind is another print
			do.getRes(3).chk(func(_ *Engine, r Result) string {
				if r.Reservation.Marks != MarkFirstOrder|MarkSharedDevice {
					return "get_reservation marks " + r.Reservation.Marks.String()
				}
				return ""
			}),
			do.listByMark(MarkSharedDevice).listIDs("3:first_order,shared_device 4:first_order,shared_device 5:shared_device"),
			do.listByMark(0).listIDs("1:first_order 2:first_order 3:first_order,shared_device 4:first_order,shared_device 5:shared_device 6:first_order")),
		tc("marks: a device's accounts age out after the print window",
			dev("r1"), dev("r2"), dev("r3").at("23h").mk("first_order,shared_device"),
			dev("r4").at("24h1ns").mk("first_order"), // r1 and r2 are past the window; r3 alone is behind it
			do.getItem("A", "S1").chk(func(e *Engine, _ Result) string {
				if n := len(e.st.marks.prints); n != 1 {
					return fmt.Sprintf("%d prints kept, want 1", n)
				}
				return ""
			})),
		tc("marks: velocity at VelocityReserves reserves within the window",
			R("A", "S1", "c1", 1), R("A", "S1", "c1", 1).at("1m"), R("A", "S1", "c1", 1).at("2m"),
			R("A", "S1", "c1", 1).at("3m").mk(""), R("A", "S1", "c1", 1).at("4m").mk("velocity"),
			R("A", "S1", "c1", 1).at("14m1ns").mk("")), // the first two are out of the window: 4 in it
		tc("marks: a no-show here marks the next reserve",
			R("W", "S1", "c1", 1).win(1), do.confirm(1, 0), do.expire().at("1d2h"),
			R("A", "S1", "c1", 1).mk("no_shows")),
		tc("marks: the item's rule refuses a marked reserve and changes nothing",
			do.markRule("A", "S1", MarkSharedDevice).mk("shared_device").events("mark_rule A/S1 qty=8"),
			do.getMarkRule("A", "S1").mk("shared_device"),
			dev("r1"), dev("r2"), dev("r3").is(CodeMarked).mk("first_order,shared_device").events(),
			do.getItem("A", "S1").item("stock=10 held=2 available=8"),
			dev("r3").payment(7).is(CodeMarked),                                    // the refused reserve recorded nothing: still first_order
			R("A", "S2", "r3", 1).device(tbDevice).mk("first_order,shared_device"), // another item has no rule; the shard's prints count for it too
			do.markRule("A", "S1", 0), dev("r3").mk("shared_device")),
		tc("marks: rule of unknown bits, unknown item, bad list filter",
			do.markRule("A", "S1", MarksAll+1).is(CodeBadRequest),
			do.markRule("A", "S9", MarkLoyal).is(CodeUnknownItem),
			do.getMarkRule("A", "S9").is(CodeUnknownItem),
			do.getMarkRule("", "S1").is(CodeBadRequest),
			do.listByMark(MarksAll+1).is(CodeBadRequest)),
		tc("marks: a rolled-back linked group records no print",
			dev("r1"), dev("r2").linked().is(CodeLinkFailed), R("A", "S1", "r2", 99).is(CodeSoldOut),
			dev("r3").mk("first_order").batch()),
		tc("marks: an idempotent replay answers the first marks",
			R("A", "S1", "gold", 1).key("k").mk("loyal,first_order"),
			R("A", "S1", "gold", 1).key("k").mk("loyal,first_order")),
		tc("marks: a replayed marked refusal names the marks it was refused for",
			do.markRule("A", "S1", MarkFirstOrder),
			R("A", "S1", "c1", 1).key("k").is(CodeMarked).mk("first_order"),
			do.markRule("A", "S1", 0),
			R("A", "S1", "c1", 1).key("k").is(CodeMarked).mk("first_order").events()),
	}
}

// TestMarksPrintsBounded: past MaxPrints the prints due soonest go at the
// next batch's start, and a marks-free reserve afterwards counts from
// what is left.
func TestMarksPrintsBounded(t *testing.T) {
	e := tbNewEngine(t, func(c *Config) { c.Marks.MaxPrints = 2 })
	var cmds []Command
	for i := range 4 {
		c := do.reserve("A", "S1", fmt.Sprintf("c%d", i), 1).device(uint64(100 + i)).cmd
		cmds = append(cmds, c)
	}
	refApply(e, tbT0+1, cmds...)
	if n := len(e.st.marks.prints); n != 4 {
		t.Fatalf("%d prints within the batch, want 4 (the bound holds at the next start)", n)
	}
	refApply(e, tbT0+2)
	if n := len(e.st.marks.prints); n != 2 {
		t.Fatalf("%d prints after the next start, want MaxPrints 2", n)
	}
	for _, k := range []uint64{102, 103} { // all queued at once: the ties go by key, the smaller first
		if e.st.marks.prints[printKey(PrintDevice, k)] == nil {
			t.Errorf("print %d forgotten, want the two largest keys kept", k)
		}
	}
}

// TestMarksSameAfterRestore: an engine restored from a snapshot taken
// mid-history gives the same results, marks included, to the rest of the
// history as the engine that wrote it, and the two end in the same bytes.
func TestMarksSameAfterRestore(t *testing.T) {
	cfg := Config{ShardID: tbShard, PickupSecret: tbSecret}
	a := tbNewEngine(t, func(c *Config) { *c = cfg })
	dev := func(cust string) Command { return do.reserve("A", "S1", cust, 1).device(tbDevice).cmd }
	refApply(a, tbT0+1, dev("r1"), dev("r2"), do.markRule("A", "S2", MarkVelocity).cmd)
	refApply(a, tbT0+2, do.reserve("W", "S1", "c1", 1).win(1).cmd)
	b, err := Restore(cfg, bytes.NewReader(tbSnapBytes(a)))
	if err != nil {
		t.Fatal(err)
	}
	rest := []Command{dev("r3"), dev("r1"), do.getReservation(1), do.listByMark(0).cmd}
	for range 5 {
		rest = append(rest, do.reserve("A", "S2", "c9", 1).cmd)
	}
	ra, rb := refApply(a, tbT0+3, rest...), refApply(b, tbT0+3, rest...)
	for i := range ra {
		if !refEqualMarks(ra[i], rb[i]) {
			t.Errorf("command %d: writer %s marks %v, restored %s marks %v", i, refFmtResult(ra[i]), ra[i].Marks, refFmtResult(rb[i]), rb[i].Marks)
		}
	}
	if ra[0].Marks != MarkFirstOrder|MarkSharedDevice || ra[len(ra)-1].Code != CodeMarked {
		t.Errorf("the history did not mark: %v, last %v", ra[0].Marks, ra[len(ra)-1].Code)
	}
	if !bytes.Equal(tbSnapBytes(a), tbSnapBytes(b)) {
		t.Error("the two engines' snapshots differ")
	}
}

// TestMarksRefusalReplayAfterRestore: a marked refusal's idempotency entry
// keeps its marks through a snapshot (a flag bit of the entry), so a
// restored replica replays the refusal with them as the writer does.
func TestMarksRefusalReplayAfterRestore(t *testing.T) {
	cfg := Config{ShardID: tbShard, PickupSecret: tbSecret}
	a := tbNewEngine(t, func(c *Config) { *c = cfg })
	refused := do.reserve("A", "S1", "c1", 1).key("k").cmd
	refApply(a, tbT0+1, do.markRule("A", "S1", MarkFirstOrder).cmd, refused)
	b, err := Restore(cfg, bytes.NewReader(tbSnapBytes(a)))
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]*Engine{"writer": a, "restored": b} {
		if r := refApply(e, tbT0+2, refused)[0]; r.Code != CodeMarked || r.Marks != MarkFirstOrder {
			t.Errorf("%s: replay %v marks %v, want marked first_order", name, r.Code, r.Marks)
		}
	}
	if !bytes.Equal(tbSnapBytes(a), tbSnapBytes(b)) {
		t.Error("the two engines' snapshots differ")
	}
}

func (tbOps) getReservation(seq uint64) Command { return Command{Op: OpGetReservation, ID: id(seq)} }

// refEqualMarks compares results, marks included (refEqual leaves them out).
func refEqualMarks(a, b Result) bool {
	if !refEqual(a, b) || a.Marks != b.Marks || (a.Reservation == nil) != (b.Reservation == nil) ||
		len(a.Reservations) != len(b.Reservations) {
		return false
	}
	if a.Reservation != nil && a.Reservation.Marks != b.Reservation.Marks {
		return false
	}
	for i := range a.Reservations {
		if a.Reservations[i].Marks != b.Reservations[i].Marks {
			return false
		}
	}
	return true
}

// tbSnapV5 is e's snapshot in format 5: format 6 less its marks and waitlists sections
// (the last two), under the version byte 5.
func tbSnapV5(t *testing.T, e *Engine) []byte {
	t.Helper()
	full := tbSnapBytes(e)
	var sec bytes.Buffer
	w := newEncForTest(&sec)
	e.st.snapMarks(w)
	e.st.snapWaitlists(w)
	e.st.snapCoupons(w)
	w.w.Flush()
	if !bytes.HasSuffix(full, sec.Bytes()) {
		t.Fatal("the marks, waitlists and coupons sections are not the snapshot's last")
	}
	v5 := append([]byte(nil), full[:len(full)-sec.Len()]...)
	v5[len(snapMagicOld)] = 5
	return v5
}

// TestMarksSnapshotFormat5: a format 5 snapshot restores with no marks'
// state, and a format 6 one with the section cut off is refused.
func TestMarksSnapshotFormat5(t *testing.T) {
	cfg := Config{ShardID: tbShard, PickupSecret: tbSecret}
	e := tbNewEngine(t, func(c *Config) { *c = cfg })
	refApply(e, tbT0+1, do.reserve("A", "S1", "r1", 1).device(tbDevice).cmd, do.markRule("A", "S1", MarkLoyal).cmd)
	r, err := Restore(cfg, bytes.NewReader(tbSnapV5(t, e)))
	if err != nil {
		t.Fatalf("format 5: %v", err)
	}
	if got := refApply(r, tbT0+2, do.reserve("A", "S1", "gold", 1).cmd)[0]; got.Code != OK {
		t.Errorf("format 5 restored a rule: %v", got.Code)
	}
	cut := tbSnapV5(t, e)
	cut[len(snapMagicOld)] = 6
	if _, err := Restore(cfg, bytes.NewReader(cut)); err == nil {
		t.Error("format 6 without its marks section restored")
	}
}
