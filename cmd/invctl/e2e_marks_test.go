// invctl's marks commands against a real invd (docs/adr/0104): a loyal
// customer's order is listed by `marks list --marks loyal` with its marks
// and a first-time customer's is not; `marks rule --refuse loyal` makes
// the next loyal reserve refused `marked`, and `marks get-rule` shows the
// rule; an unknown mark name is a usage error that sends nothing.
package main_test

import (
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
