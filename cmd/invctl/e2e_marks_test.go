// invctl's marks commands against a real invd (docs/adr/0104): a loyal
// customer's order is listed by `marks list --marks loyal` with its marks
// and a first-time customer's is not; `marks rule --refuse loyal` makes
// the next loyal reserve refused `marked`, and `marks get-rule` shows the
// rule; an unknown mark name is a usage error that sends nothing.
// TestInvctlMarksHoldBack proves the hold-back rule and marks release
// (docs/adr/0107).
package main_test

import (
	"strings"
	"testing"
)

func TestInvctlMarks(t *testing.T) {
	a := startServer(t, 2).Addr()
	sku, store := "4710000000099", "TPE0101"
	ok(t, a, "item", "put", "--sku", sku, "--store", store, "--stock", "10")
	ok(t, a, "customer", "tier", "G1", "--tier", "2")
	ok(t, a, "reserve", "--sku", sku, "--store", store, "--customer", "G1")
	ok(t, a, "reserve", "--sku", sku, "--store", store, "--customer", "N1")

	var list []struct {
		Customer string
		Marks    string
	}
	okJSON(t, a, &list, "marks", "list", "--marks", "loyal")
	if len(list) != 1 || list[0].Customer != "G1" || list[0].Marks != "loyal,first_order" {
		t.Fatalf("marks list --marks loyal: %+v", list)
	}
	okJSON(t, a, &list, "marks", "list")
	if len(list) != 2 {
		t.Fatalf("marks list (any mark): %+v", list)
	}

	ok(t, a, "marks", "rule", "--sku", sku, "--store", store, "--refuse", "loyal, velocity")
	refused(t, a, "marked", "reserve", "--sku", sku, "--store", store, "--customer", "G1")
	ok(t, a, "reserve", "--sku", sku, "--store", store, "--customer", "N1")
	var rule struct{ Refuse string }
	okJSON(t, a, &rule, "marks", "get-rule", "--sku", sku, "--store", store)
	if rule.Refuse != "loyal,velocity" {
		t.Fatalf("marks get-rule: %+v", rule)
	}
	if _, errs, code := invctl(t, a, "marks", "list", "--marks", "reseller"); code != 2 {
		t.Fatalf("an unknown mark: exit %d (%s), want 2", code, errs)
	}
}

// TestInvctlMarksHoldBack: `marks rule --action hold` makes a marked
// reserve succeed held back (`marks get-rule` shows the action, `marks
// list` the review); its confirm is refused under_review with a hint
// naming `marks release`; `marks release ID` lets it confirm; a second
// release is wrong_state; an unknown action is a usage error.
func TestInvctlMarksHoldBack(t *testing.T) {
	a := startServer(t, 2).Addr()
	sku, store := "4710000000098", "TPE0102"
	ok(t, a, "item", "put", "--sku", sku, "--store", store, "--stock", "10")
	ok(t, a, "marks", "rule", "--sku", sku, "--store", store, "--refuse", "first_order", "--action", "hold")
	var rule struct{ Refuse, Action string }
	okJSON(t, a, &rule, "marks", "get-rule", "--sku", sku, "--store", store)
	if rule.Refuse != "first_order" || rule.Action != "hold" {
		t.Fatalf("marks get-rule: %+v", rule)
	}
	var res struct{ ID string }
	okJSON(t, a, &res, "reserve", "--sku", sku, "--store", store, "--customer", "N1")
	var list []struct {
		ID          string
		UnderReview bool `json:"under_review"`
	}
	okJSON(t, a, &list, "marks", "list", "--marks", "first_order")
	if len(list) != 1 || list[0].ID != res.ID || !list[0].UnderReview {
		t.Fatalf("marks list: %+v, want %s under review", list, res.ID)
	}
	_, errs, _ := invctl(t, a, "confirm", res.ID)
	if !strings.Contains(errs, "under_review") || !strings.Contains(errs, "marks release") {
		t.Fatalf("confirm under review: %q", errs)
	}
	ok(t, a, "marks", "release", res.ID)
	refused(t, a, "wrong_state", "marks", "release", res.ID)
	ok(t, a, "confirm", res.ID)
	if _, errs, code := invctl(t, a, "marks", "rule", "--sku", sku, "--store", store, "--refuse", "loyal", "--action", "flag"); code != 2 {
		t.Fatalf("an unknown action: exit %d (%s), want 2", code, errs)
	}
}
