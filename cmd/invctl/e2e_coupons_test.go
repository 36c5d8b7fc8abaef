// invctl coupons issue|take|redeem|show|report end to end: a real invd of
// 2 shards and the invctl binary run as a shell user would. Bad --serials
// and --ttl are usage errors (exit 2) that create nothing; a store-bound
// issue's serial is taken (table and JSON), refused at another store with
// wrong_store and a hint, redeemed at its own store, then refused
// already_redeemed with the store and time printed above the refusal; a
// mistyped serial is a usage error; a chain-wide issue's serial is
// redeemed at any store and the report counts redemptions by store; an
// unknown issue is refused with a hint naming the command to create it.
package main_test

import (
	"strings"
	"testing"
)

type couponOut struct {
	Serial, SKU, Store, Customer, State string
	ChainWide                           bool   `json:"chain_wide"`
	RedeemedBy                          string `json:"redeemed_by"`
}

type issueOut struct {
	SKU, Store                            string
	Serials, Available, Redeemed, Expired int64
	ChainWide                             bool             `json:"chain_wide"`
	ByStore                               map[string]int64 `json:"by_store"`
}

func TestCoupons(t *testing.T) {
	p := startServer(t, 2)
	addr := p.Addr()
	for _, bad := range [][]string{{"--serials", "0"}, {"--serials", "1048577"}, {"--serials", "1", "--ttl", "-1s"}} {
		_, errs, code := invctl(t, addr, append([]string{"coupons", "issue", "--sku", "cb", "--store", "s1"}, bad...)...)
		if code != 2 || !strings.Contains(errs, bad[len(bad)-2]) {
			t.Fatalf("issue %v: exit %d, %q; want a usage error", bad, code, errs)
		}
	}
	_, errs, code := invctl(t, addr, "coupons", "take", "--sku", "cb", "--store", "s1", "--customer", "a")
	if code != 1 || !strings.HasPrefix(errs, "unknown_issue") || !strings.Contains(errs, "invctl coupons issue --sku cb --store s1") {
		t.Fatalf("take of no issue: exit %d, %q", code, errs)
	}

	var is issueOut
	okJSON(t, addr, &is, "coupons", "issue", "--sku", "cb", "--store", "s1", "--serials", "2")
	if is.Serials != 2 || is.Available != 2 || is.ChainWide {
		t.Fatalf("issue: %+v", is)
	}
	var cp couponOut
	okJSON(t, addr, &cp, "coupons", "take", "--sku", "cb", "--store", "s1", "--customer", "a")
	if len(cp.Serial) != 33 || cp.State != "issued" || cp.Customer != "a" {
		t.Fatalf("taken: %+v", cp)
	}
	out := ok(t, addr, "coupons", "take", "--sku", "cb", "--store", "s1", "--customer", "b")
	mustContain(t, "the second take", out, "SERIAL", "cb", "s1", " b ", "issued")

	_, errs, code = invctl(t, addr, "coupons", "redeem", cp.Serial, "--store", "s2")
	if code != 1 || !strings.HasPrefix(errs, "wrong_store") || !strings.Contains(errs, "invctl coupons show "+cp.Serial) {
		t.Fatalf("redeem at another store: exit %d, %q", code, errs)
	}
	okJSON(t, addr, &cp, "coupons", "redeem", cp.Serial, "--store", "s1")
	if cp.State != "redeemed" || cp.RedeemedBy != "s1" {
		t.Fatalf("redeemed: %+v", cp)
	}
	out, errs, code = invctl(t, addr, "coupons", "redeem", cp.Serial, "--store", "s1")
	if code != 1 || !strings.HasPrefix(errs, "already_redeemed") || !strings.Contains(out, "redeemed") || !strings.Contains(out, "s1") {
		t.Fatalf("redeem twice: exit %d, out %q, err %q", code, out, errs)
	}
	typo := []byte(cp.Serial)
	typo[3] = '0' + (typo[3]-'0'+1)%10
	if _, errs, code := invctl(t, addr, "coupons", "show", string(typo)); code != 2 || !strings.Contains(errs, "check digit") {
		t.Fatalf("a mistyped serial: exit %d, %q", code, errs)
	}

	ok(t, addr, "coupons", "issue", "--sku", "cw", "--store", "web", "--serials", "3", "--chain-wide")
	for _, st := range []string{"s1", "s2"} {
		okJSON(t, addr, &cp, "coupons", "take", "--sku", "cw", "--store", "web", "--customer", "c-"+st)
		ok(t, addr, "coupons", "redeem", cp.Serial, "--store", st)
	}
	okJSON(t, addr, &cp, "coupons", "show", cp.Serial)
	if cp.State != "redeemed" || cp.RedeemedBy != "s2" || !cp.ChainWide {
		t.Fatalf("show: %+v", cp)
	}
	okJSON(t, addr, &is, "coupons", "report", "--sku", "cw", "--store", "web")
	if is.Redeemed != 2 || is.Available != 1 || is.ByStore["s1"] != 1 || is.ByStore["s2"] != 1 || !is.ChainWide {
		t.Fatalf("report: %+v", is)
	}
	out = ok(t, addr, "coupons", "report", "--sku", "cw", "--store", "web")
	mustContain(t, "report table", out, "chain-wide", "redeemed at s1", "redeemed at s2")
}
