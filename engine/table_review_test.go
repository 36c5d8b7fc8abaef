package engine

// Review of held-back reservations (review.go, docs/adr/0107). The table
// cases prove that a hold-back rule lets a marked reserve through under
// review (stock taken, the customer's limit counted, events reserved then
// held_back), that confirm and extend refuse it with under_review until
// release_review, that cancel and the hold's TTL end it as any hold, that
// release refuses what is not under review, and that lists and replays
// show the review. TestReviewSameAfterRestore proves the snapshot keeps
// the rule's action and the review (spare bits, no new format); each case
// runs through runTableCase, which checks the invariants after every batch.

import (
	"bytes"
	"fmt"
	"testing"
)

func (o tbOps) releaseReview(seq uint64) tbStep {
	return o.cmd(Command{Op: OpReleaseReview, ID: id(seq)})
}

// review checks the result's UnderReview.
func (s tbStep) review(want bool) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.UnderReview != want {
			return fmt.Sprintf("under review %v, want %v", r.UnderReview, want)
		}
		return ""
	})
}

// resReview checks get_reservation's UnderReview.
func (s tbStep) resReview(want bool) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Reservation == nil || r.Reservation.UnderReview != want {
			return fmt.Sprintf("reservation %+v, want under review %v", r.Reservation, want)
		}
		return ""
	})
}

func tbReviewTable() []tbCase {
	R := do.reserve
	dev := func(cust string) tbStep { return R("A", "S1", cust, 1).device(tbDevice) }
	hold := do.markRule("A", "S1", MarkSharedDevice|RuleHoldBack)
	return []tbCase{
		tc("review: a hold-back rule holds the marked reserve back, taking stock",
			hold.mk("shared_device,mark_32768").events("mark_rule A/S1 qty=32776"),
			do.getMarkRule("A", "S1").chk(func(_ *Engine, r Result) string {
				if r.Marks != MarkSharedDevice|RuleHoldBack {
					return "rule " + r.Marks.String()
				}
				return ""
			}),
			dev("r1").review(false), dev("r2").review(false),
			dev("r3").review(true).mk("first_order,shared_device").res("held id=3 qty=1 expires=10m").
				events("reserved id=3 A/S1 r3 qty=1 held", "held_back id=3 A/S1 r3 qty=1 held"),
			do.getItem("A", "S1").item("stock=10 held=3 available=7"),
			do.getRes(3).resReview(true), do.getRes(1).resReview(false),
			do.listByMark(MarkSharedDevice).listIDs("3:first_order,shared_device").chk(func(_ *Engine, r Result) string {
				if !r.Reservations[0].UnderReview {
					return "list_by_mark: not under review"
				}
				return ""
			})),
		tc("review: confirm and extend refuse under_review until release; then it confirms",
			hold, dev("r1"), dev("r2"), dev("r3").review(true),
			do.confirm(3, 0).is(CodeUnderReview).events(), do.extend(3, "5m").is(CodeUnderReview),
			do.releaseReview(3).res("held id=3 qty=1 expires=10m").events("review_released id=3 A/S1 r3 qty=1 held"),
			do.getRes(3).resReview(false),
			do.releaseReview(3).is(CodeWrongState), // released already
			do.confirm(3, 0).is(OK).chk(func(_ *Engine, r Result) string {
				if r.State != StateConfirmed || r.PickupCode == 0 {
					return fmt.Sprintf("confirm after release: %v code %d", r.State, r.PickupCode)
				}
				return ""
			})),
		tc("review: the customer's limit counts a held-back hold",
			do.setLimit("A", 1), hold, dev("r1"), dev("r2"), dev("r3").review(true),
			dev("r3").is(CodeLimitExceeded)),
		tc("review: the hold's TTL still runs; cancel ends it; release then is expired or wrong_state",
			hold, dev("r1"), dev("r2"), dev("r3").review(true), dev("r4").review(true),
			do.cancel(4).events("cancelled id=4 A/S1 r4 qty=1 cancelled"), do.getRes(4).resReview(false),
			do.releaseReview(4).is(CodeWrongState),
			do.expire().at("10m").events("expired id=1 A/S1 r1 qty=1 expired",
				"expired id=2 A/S1 r2 qty=1 expired", "expired id=3 A/S1 r3 qty=1 expired"),
			do.releaseReview(3).at("10m").is(CodeExpired),
			do.getItem("A", "S1").at("10m").item("stock=10 available=10")),
		tc("review: release of an unknown or never held-back reservation",
			R("A", "S1", "c1", 1), do.releaseReview(1).is(CodeWrongState).events(),
			do.releaseReview(9).is(CodeNotFound), do.confirm(1, 0).is(OK)),
		tc("review: a refusing rule still refuses; a rule of the action alone is a bad request",
			do.markRule("A", "S1", RuleHoldBack).is(CodeBadRequest),
			do.markRule("A", "S1", MarkFirstOrder), R("A", "S1", "c1", 1).is(CodeMarked).review(false),
			do.markRule("A", "S1", MarkFirstOrder|RuleHoldBack), R("A", "S1", "c1", 1).review(true)),
		tc("review: an idempotent replay shows the review as it stands now",
			do.markRule("A", "S1", MarkFirstOrder|RuleHoldBack),
			R("A", "S1", "c1", 1).key("k").review(true), R("A", "S1", "c1", 1).key("k").review(true),
			do.releaseReview(1).key("r"), do.releaseReview(1).key("r").is(OK),
			R("A", "S1", "c1", 1).key("k").review(false)),
	}
}

// TestReviewSameAfterRestore: a restored engine keeps the hold-back rule
// and the review of each reservation (the spare top bit of the marks'
// words), holding back the next marked reserve as the writer does.
func TestReviewSameAfterRestore(t *testing.T) {
	cfg := Config{ShardID: tbShard, PickupSecret: tbSecret}
	a := tbNewEngine(t, func(c *Config) { *c = cfg })
	dev := func(cust string) Command { return do.reserve("A", "S1", cust, 1).device(tbDevice).cmd }
	refApply(a, tbT0+1, do.markRule("A", "S1", MarkSharedDevice|RuleHoldBack).cmd, dev("r1"), dev("r2"), dev("r3"), dev("r4"))
	refApply(a, tbT0+2, do.releaseReview(4).cmd)
	b, err := Restore(cfg, bytes.NewReader(tbSnapBytes(a)))
	if err != nil {
		t.Fatal(err)
	}
	rest := []Command{do.confirm(3, 0).cmd, do.confirm(4, 0).cmd, dev("r5"), do.getMarkRule("A", "S1").cmd}
	ra, rb := refApply(a, tbT0+3, rest...), refApply(b, tbT0+3, rest...)
	for i := range ra {
		if !refEqualMarks(ra[i], rb[i]) || ra[i].UnderReview != rb[i].UnderReview {
			t.Errorf("command %d: writer %s review %v, restored %s review %v", i, refFmtResult(ra[i]), ra[i].UnderReview, refFmtResult(rb[i]), rb[i].UnderReview)
		}
	}
	if rb[0].Code != CodeUnderReview || rb[1].Code != OK || !rb[2].UnderReview || rb[3].Marks&RuleHoldBack == 0 {
		t.Errorf("restored: confirm %v, released confirm %v, next reserve under review %v, rule %v",
			rb[0].Code, rb[1].Code, rb[2].UnderReview, rb[3].Marks)
	}
	if !bytes.Equal(tbSnapBytes(a), tbSnapBytes(b)) {
		t.Error("the two engines' snapshots differ")
	}
}
