// Table tests of serial-number coupons (coupons.go, docs/adr/0106).
//
// What they prove: an issue is created and changed within its bounds (at
// and past each edge) and never shrunk below the serials out; take hands
// out distinct serials until the pool is empty, within the issue's window
// and per-customer limit, never to a blocked customer; a serial is
// redeemed once (a second redeem is already_redeemed and names where and
// when; a key replays the first answer), at its own store only for a
// store-bound issue and at any store for a chain-wide one; a wrong code or
// an unknown serial is not_found and changes nothing; an unredeemed serial
// expires at the issue's TTL or close, going back to the pool (and the
// customer's limit) only when the issue says so, and its record goes
// FinishedRetention later; get_coupon_issue counts redemptions by store;
// every change is one event of the change feed.
//
// How: the cases run on the table's shop (table_test.go) with
// CheckInvariants after every batch and a Read of every read compared
// with its Apply; .cpn and .iss check a result's coupon and issue.
// TestCouponSnapshot restores coupons from a snapshot byte for byte and
// expires alike; TestCouponIssuesBound fills a shard's issues to the
// bound and past it; TestCouponSerialForm round-trips the printed serial
// and shows its check digit catching every single mistyped digit.
package engine

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// serial returns the ID of the shard's n-th serial.
func serial(n uint64) uint64 { return MakeID(tbShard, couponIDBit|n) }

// serialCode is the n-th serial's code, computed as the engine must.
func serialCode(n uint64) uint64 {
	e := New(Config{ShardID: tbShard, PickupSecret: tbSecret})
	return e.st.couponCode(serial(n))
}

func (o tbOps) putIssue(sku, store string, serials int64, flags CouponFlags) tbStep {
	return o.cmd(Command{Op: OpPutCouponIssue, SKU: []byte(sku), Store: []byte(store), Stock: serials, CouponFlags: flags})
}
func (o tbOps) take(sku, store, cust string) tbStep {
	return o.cmd(Command{Op: OpTakeCoupon, SKU: []byte(sku), Store: []byte(store), Customer: []byte(cust)})
}
func (o tbOps) redeem(n uint64, store string) tbStep {
	return o.cmd(Command{Op: OpRedeemCoupon, ID: serial(n), PickupCode: serialCode(n), Store: []byte(store)})
}
func (o tbOps) getCoupon(n uint64) tbStep {
	return o.cmd(Command{Op: OpGetCoupon, ID: serial(n), PickupCode: serialCode(n)})
}
func (o tbOps) getIssue(sku, store string) tbStep {
	return o.cmd(Command{Op: OpGetCouponIssue, SKU: []byte(sku), Store: []byte(store)})
}
func (s tbStep) limit(n int64) tbStep     { s.cmd.Limit = n; return s }
func (s tbStep) serialAs(c uint64) tbStep { s.cmd.PickupCode = c; return s }

// cpn checks the serial in a result: "serial=1 CP/S1 c1 issued
// expires=1h" and, once redeemed, " at=S2 when=5m".
func (s tbStep) cpn(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Coupon == nil {
			return "no coupon in the result"
		}
		c := r.Coupon
		got := fmt.Sprintf("serial=%d %s/%s %s %v", SeqOfID(r.ID)&^couponIDBit, c.SKU, c.Store, c.Customer, c.State)
		if r.ExpiresAt != 0 {
			got += " expires=" + tbAt(r.ExpiresAt)
		}
		if c.RedeemedBy != "" {
			got += fmt.Sprintf(" at=%s when=%s", c.RedeemedBy, tbAt(c.RedeemedAt))
		}
		if r.Code == OK && r.PickupCode != serialCode(SeqOfID(r.ID)&^couponIDBit) {
			got += " (wrong code)"
		}
		return tbDiff("coupon", got, want)
	})
}

// iss checks the issue in a result: "serials=2 available=1 redeemed=1
// expired=0 by=S1:1,S2:0".
func (s tbStep) iss(want string) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.CouponIssue == nil {
			return "no coupon issue in the result"
		}
		i := r.CouponIssue
		got := fmt.Sprintf("serials=%d available=%d redeemed=%d expired=%d", i.Serials, i.Available, i.Redeemed, i.Expired)
		var by []string
		for _, b := range i.ByStore {
			by = append(by, fmt.Sprintf("%s:%d", b.Store, b.Count))
		}
		if len(by) > 0 {
			got += " by=" + strings.Join(by, ",")
		}
		return tbDiff("coupon issue", got, want)
	})
}

func tbCouponTable() []tbCase {
	P, T, X := do.putIssue, do.take, do.redeem
	bound := P("CP", "S1", 2, 0) // store-bound, 2 serials, no expiry
	chain := P("CW", "WEB", 2, CouponChainWide)
	return []tbCase{
		tc("put: bounds, at and past each edge",
			P("CP", "S1", 0, 0).is(CodeBadRequest), P("CP", "S1", MaxCouponSerials+1, 0).is(CodeBadRequest),
			P("", "S1", 1, 0).is(CodeBadRequest), P("CP", id65, 1, 0).is(CodeBadRequest),
			P("CP", "S1", 1, couponFlagsValid+1).is(CodeBadRequest), P("CP", "S1", 1, 0).rawTTL(-1).is(CodeBadRequest),
			P("CP", "S1", 1, 0).rawTTL(MaxCouponTTL+1).is(CodeBadRequest), P("CP", "S1", 1, 0).limit(-1).is(CodeBadRequest),
			P("CP", "S1", 1, 0).sale("2h", "1h").is(CodeBadRequest),
			P("CP", "S1", MaxCouponSerials, couponFlagsValid).rawTTL(MaxCouponTTL).iss("serials=1048576 available=1048576 redeemed=0 expired=0").
				events("coupon_issue_put CP/S1 qty=1048576")),
		tc("take: distinct serials until the pool is empty, each an event",
			bound, T("CP", "S1", "c1").cpn("serial=1 CP/S1 c1 issued").events("coupon_taken serial=1 CP/S1 c1 qty=1"),
			T("CP", "S1", "c2").cpn("serial=2 CP/S1 c2 issued"), T("CP", "S1", "c3").is(CodeSoldOut).events(),
			do.getIssue("CP", "S1").iss("serials=2 available=0 redeemed=0 expired=0")),
		tc("take: unknown issue, bad ids, blocked, the issue's window",
			T("CP", "S1", "c1").is(CodeUnknownIssue), do.getIssue("CP", "S1").is(CodeUnknownIssue),
			P("CP", "S1", 2, 0).sale("1h", "2h"), T("CP", "S1", "").is(CodeBadRequest), T("CP", "S1", id65).is(CodeBadRequest),
			T("CP", "S1", "c1").is(CodeNotOpen), T("CP", "S1", "bad").at("1h").is(CodeBlocked),
			T("CP", "S1", "c1").at("2h").is(CodeClosed), do.getIssue("CP", "S1").iss("serials=2 available=2 redeemed=0 expired=0")),
		tc("take: the per-customer limit of the issue",
			P("CP", "S1", 5, 0).limit(2), T("CP", "S1", "c1"), T("CP", "S1", "c1"), T("CP", "S1", "c1").is(CodeLimitExceeded),
			T("CP", "S1", "c2").cpn("serial=3 CP/S1 c2 issued")),
		tc("take: a key replays the same serial",
			bound, T("CP", "S1", "c1").key("t1"), T("CP", "S1", "c1").key("t1").cpn("serial=1 CP/S1 c1 issued").events(),
			T("CP", "S1", "c2").key("t1").is(CodeKeyConflict), do.getIssue("CP", "S1").iss("serials=2 available=1 redeemed=0 expired=0")),
		tc("redeem: once at its store; again already_redeemed, naming where and when",
			bound, T("CP", "S1", "c1"), X(1, "S1").at("5m").cpn("serial=1 CP/S1 c1 redeemed at=S1 when=5m").
				events("coupon_redeemed serial=1 CP/S1 c1 qty=1"),
			X(1, "S1").at("6m").is(CodeAlreadyRedeemed).cpn("serial=1 CP/S1 c1 redeemed at=S1 when=5m").events(),
			do.getCoupon(1).cpn("serial=1 CP/S1 c1 redeemed at=S1 when=5m"),
			do.getIssue("CP", "S1").iss("serials=2 available=1 redeemed=1 expired=0 by=S1:1")),
		tc("redeem: a store-bound serial at another store is wrong_store, and stays redeemable",
			bound, T("CP", "S1", "c1"), X(1, "S2").is(CodeWrongStore).events(), X(1, "S1").cpn("serial=1 CP/S1 c1 redeemed at=S1 when=0s")),
		tc("redeem: a chain-wide serial at any store; the report counts by store",
			chain, T("CW", "WEB", "c1"), T("CW", "WEB", "c2"), X(1, "S7").events("coupon_redeemed serial=1 CW/S7 c1 qty=1"),
			X(2, "S2"), X(2, "S7").is(CodeAlreadyRedeemed).cpn("serial=2 CW/WEB c2 redeemed at=S2 when=0s"),
			do.getIssue("CW", "WEB").iss("serials=2 available=0 redeemed=2 expired=0 by=S2:1,S7:1")),
		tc("redeem: a wrong code or an unknown serial is not_found and changes nothing",
			bound, T("CP", "S1", "c1"), X(1, "S1").serialAs(serialCode(1)^1).is(CodeNotFound).events(),
			X(2, "S1").is(CodeNotFound), do.getCoupon(1).serialAs(serialCode(2)).is(CodeNotFound), do.getCoupon(2).is(CodeNotFound),
			X(1, "S1").serialAs(0).is(CodeBadRequest), X(1, "S1").serialAs(pickupCodeMod).is(CodeBadRequest), X(1, "").is(CodeBadRequest),
			do.cmd(Command{Op: OpRedeemCoupon, ID: id(1), PickupCode: tbPin(1), Store: []byte("S1")}).is(CodeNotFound),
			do.getCoupon(1).cpn("serial=1 CP/S1 c1 issued")),
		tc("redeem: a key replays the first answer, not already_redeemed",
			bound, T("CP", "S1", "c1"), X(1, "S1").key("r1"), X(1, "S1").key("r1").at("1m").cpn("serial=1 CP/S1 c1 redeemed at=S1 when=0s").events(),
			X(1, "S2").key("r1").is(CodeKeyConflict)),
		tc("redeem: before the issue opens is not_open",
			do.cmd(Command{Op: OpPutCouponIssue, SKU: []byte("CQ"), Store: []byte("S1"), Stock: 1}),
			T("CQ", "S1", "c1"), do.cmd(Command{Op: OpPutCouponIssue, SKU: []byte("CQ"), Store: []byte("S1"), Stock: 1, OpensAt: tbAbs("1h")}),
			X(1, "S1").is(CodeNotOpen), X(1, "S1").at("1h").cpn("serial=1 CQ/S1 c1 redeemed at=S1 when=1h")),
		tc("expiry: returned to the pool and to the customer's limit; the record goes after the retention",
			P("CP", "S1", 1, CouponReturnOnExpiry).ttl("1h").limit(1), T("CP", "S1", "c1").cpn("serial=1 CP/S1 c1 issued expires=1h"),
			T("CP", "S1", "c2").is(CodeSoldOut),
			do.getIssue("CP", "S1").at("1h").iss("serials=1 available=1 redeemed=0 expired=1").events("coupon_expired serial=1 CP/S1 c1 qty=1"),
			X(1, "S1").is(CodeExpired), do.getCoupon(1).cpn("serial=1 CP/S1 c1 expired expires=1h"),
			T("CP", "S1", "c1").cpn("serial=2 CP/S1 c1 issued expires=2h"),
			do.getCoupon(1).at("30d1h").is(CodeNotFound), do.getCoupon(2).cpn("serial=2 CP/S1 c1 expired expires=2h"), do.getIssue("CP", "S1").iss("serials=1 available=1 redeemed=0 expired=2")),
		tc("expiry: not returned when the issue says not; the serial still counts",
			P("CP", "S1", 2, 0).ttl("1h").limit(1), T("CP", "S1", "c1"),
			do.getIssue("CP", "S1").at("1h").iss("serials=2 available=1 redeemed=0 expired=1").events("coupon_expired serial=1 CP/S1 c1"),
			T("CP", "S1", "c1").is(CodeLimitExceeded)),
		tc("expiry: the issue's close caps a serial's life; a redeemed serial does not expire",
			P("CP", "S1", 2, CouponReturnOnExpiry).ttl("1d").sale("none", "2h"), T("CP", "S1", "c1").cpn("serial=1 CP/S1 c1 issued expires=2h"),
			T("CP", "S1", "c2"), X(2, "S1").at("1h"), do.getIssue("CP", "S1").at("2h").iss("serials=2 available=1 redeemed=1 expired=1 by=S1:1").
				events("coupon_expired serial=1 CP/S1 c1 qty=1")),
		tc("put: changes settings; never below the serials out",
			bound, T("CP", "S1", "c1"), T("CP", "S1", "c2"), P("CP", "S1", 1, 0).is(CodeBelowPromised).events(),
			P("CP", "S1", 3, CouponChainWide).iss("serials=3 available=1 redeemed=0 expired=0").events("coupon_issue_put CP/S1 qty=3"),
			X(1, "S9").cpn("serial=1 CP/S1 c1 redeemed at=S9 when=0s")),
	}
}

// TestCouponSnapshot: coupons survive a snapshot byte for byte, and the
// restored engine expires and redeems alike.
func TestCouponSnapshot(t *testing.T) {
	cfg := Config{ShardID: tbShard, PickupSecret: tbSecret}
	e := tbNewEngine(t, nil)
	refApply(e, tbT0,
		Command{Op: OpPutCouponIssue, SKU: []byte("CW"), Store: []byte("WEB"), Stock: 3, TTL: time.Hour, Limit: 2,
			CouponFlags: CouponChainWide | CouponReturnOnExpiry},
		Command{Op: OpTakeCoupon, SKU: []byte("CW"), Store: []byte("WEB"), Customer: []byte("c1")},
		Command{Op: OpTakeCoupon, SKU: []byte("CW"), Store: []byte("WEB"), Customer: []byte("c2")},
		Command{Op: OpRedeemCoupon, ID: serial(2), PickupCode: serialCode(2), Store: []byte("S4")})
	b := tbSnapBytes(e)
	r, err := Restore(cfg, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if again := tbSnapBytes(r); !bytes.Equal(again, b) {
		t.Fatal("snapshot of the restored engine differs")
	}
	if err := r.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	later := []Command{{Op: OpRedeemCoupon, ID: serial(2), PickupCode: serialCode(2), Store: []byte("S5")}}
	res1, ev1 := e.Apply(tbT0+int64(time.Hour), later)
	got1 := fmt.Sprint(res1[0].Code, tbFmtEvents(ev1))
	res2, ev2 := r.Apply(tbT0+int64(time.Hour), later)
	if got2 := fmt.Sprint(res2[0].Code, tbFmtEvents(ev2)); got1 != got2 {
		t.Fatalf("after restore: %s, want %s", got2, got1)
	}
	if want := "already_redeemed [coupon_expired serial=1 CW/WEB c1 qty=1]"; got1 != want {
		t.Fatalf("after an hour: %s, want %s", got1, want)
	}
	// Format 6 had no coupons: this snapshot read as format 6 is refused.
	old := append([]byte(nil), b...)
	old[len(snapMagicOld)] = 6
	if _, err := Restore(cfg, bytes.NewReader(old)); err == nil {
		t.Fatal("a coupons section restored as format 6")
	}
}

// TestCouponIssuesBound: a shard takes MaxCouponIssues issues and refuses
// the next one too_many; an existing issue may still be changed.
func TestCouponIssuesBound(t *testing.T) {
	e := tbNewEngine(t, nil)
	put := func(i int) Command {
		return Command{Op: OpPutCouponIssue, SKU: []byte(fmt.Sprint("C", i)), Store: []byte("S1"), Stock: 1}
	}
	for i := 0; i < MaxCouponIssues; i++ {
		if r := refApply(e, tbT0, put(i))[0]; r.Code != OK {
			t.Fatalf("issue %d: %v", i, r.Code)
		}
	}
	if r := refApply(e, tbT0, put(MaxCouponIssues))[0]; r.Code != CodeTooMany {
		t.Fatalf("issue past the bound: %v", r.Code)
	}
	if r := refApply(e, tbT0, put(0))[0]; r.Code != OK {
		t.Fatalf("a change of an existing issue at the bound: %v", r.Code)
	}
	if err := e.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestCouponStoresBound: a chain-wide issue is redeemed at
// MaxCouponStores stores; a redemption at one more is too_many and
// changes nothing, while a store already counted still redeems.
func TestCouponStoresBound(t *testing.T) {
	e := tbNewEngine(t, nil)
	refApply(e, tbT0, Command{Op: OpPutCouponIssue, SKU: []byte("CW"), Store: []byte("WEB"), Stock: MaxCouponStores + 2,
		CouponFlags: CouponChainWide})
	redeem := func(n uint64, store string) Code {
		take := Command{Op: OpTakeCoupon, SKU: []byte("CW"), Store: []byte("WEB"), Customer: []byte("c1")}
		red := Command{Op: OpRedeemCoupon, ID: serial(n), PickupCode: serialCode(n), Store: []byte(store)}
		return refApply(e, tbT0, take, red)[1].Code
	}
	for n := uint64(1); n <= MaxCouponStores; n++ {
		if c := redeem(n, fmt.Sprint("S", n)); c != OK {
			t.Fatalf("redeem %d: %v", n, c)
		}
	}
	if c := redeem(MaxCouponStores+1, "ONE-MORE"); c != CodeTooMany {
		t.Fatalf("a redemption at one store more: %v", c)
	}
	if c := redeem(MaxCouponStores+2, "S1"); c != OK {
		t.Fatalf("a redemption at a store already counted: %v", c)
	}
	r := e.Read(&Command{Op: OpGetCouponIssue, SKU: []byte("CW"), Store: []byte("WEB")})
	if r.CouponIssue.Redeemed != MaxCouponStores+1 || len(r.CouponIssue.ByStore) != MaxCouponStores {
		t.Fatalf("issue: redeemed %d at %d stores", r.CouponIssue.Redeemed, len(r.CouponIssue.ByStore))
	}
	if err := e.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestCouponSerialForm: the printed serial round-trips, names its shard,
// and its check digit catches every single mistyped digit.
func TestCouponSerialForm(t *testing.T) {
	id, code := serial(12345), serialCode(12345)
	s := CouponSerial(id, code)
	if len(s) != CouponSerialDigits {
		t.Fatalf("%q: %d digits", s, len(s))
	}
	gotID, gotCode, err := ParseCouponSerial(s[:11] + " " + s[11:22] + "-" + s[22:])
	if err != nil || gotID != id || gotCode != code || ShardOfID(gotID) != tbShard {
		t.Fatalf("parse %q: %d %d %v", s, gotID, gotCode, err)
	}
	for i := 0; i < len(s); i++ {
		for d := byte('0'); d <= '9'; d++ {
			if d == s[i] {
				continue
			}
			typo := s[:i] + string(d) + s[i+1:]
			if _, _, err := ParseCouponSerial(typo); err == nil {
				t.Fatalf("digit %d mistyped as %c: accepted", i, d)
			}
		}
	}
	past := "99999999999999999999" + s[20:32] // an ID past 2^64, with its right check digit
	past += string(rune('0' + checkDigit(past)))
	for _, bad := range []string{"", s[:len(s)-1], s + "0", "x" + s[1:], past} {
		if _, _, err := ParseCouponSerial(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
