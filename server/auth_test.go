// Token lines, exposure and the pickup bucket, in isolation: token lines
// parse into the role and stores they name and nothing else; the hash is
// the one `printf %s TOKEN | sha256sum` prints; only loopback addresses may
// run without tokens; the grants allow exactly their role's ops; and a
// token bucket gives its burst, then refills at its rate; and a reply to a
// role other than the operator's loses every pickup code but the confirm's;
// a token's optional name is the actor of its changes.
package server

import (
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestParseTokenLine(t *testing.T) {
	h := HashToken("test")
	if h != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" {
		t.Fatalf("HashToken(test) = %s", h)
	}
	hash, g, err := ParseTokenLine("store " + strings.ToUpper(h) + " S1,S2")
	if err != nil || hash != h || g.Role != RoleStore || len(g.Stores) != 2 || g.Stores[1] != "S2" {
		t.Fatalf("store line: %q %+v %v", hash, g, err)
	}
	for _, bad := range []string{
		"", "operator", "admin " + h, "operator abc", "operator " + h + " S1", "store " + h,
		"store " + h + " S1,,S2", "storefront " + h[:63] + "g", "operator " + h + " a b",
	} {
		if _, _, err := ParseTokenLine(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestTokenNames: a token line may end with name=NAME, the actor of the
// token's stock and settings changes; an empty or over-long name is
// refused, and a token without one is named by its hash's first digits.
func TestTokenNames(t *testing.T) {
	h := HashToken("test")
	for line, want := range map[string]Grant{
		"operator " + h + " name=alice":       {Role: RoleOperator, Name: "alice"},
		"store " + h + " S1,S2 name=kiosk-s1": {Role: RoleStore, Stores: []string{"S1", "S2"}, Name: "kiosk-s1"},
		"operator " + h:                       {Role: RoleOperator},
	} {
		_, g, err := ParseTokenLine(line)
		if err != nil || g.Name != want.Name || g.Role != want.Role || len(g.Stores) != len(want.Stores) {
			t.Errorf("%q: %+v %v, want %+v", line, g, err, want)
		}
	}
	for _, bad := range []string{"operator " + h + " name=", "operator " + h + " name=" + strings.Repeat("n", protocol.MaxIDBytes+1),
		"store " + h + " name=x", "name=x"} {
		if _, _, err := ParseTokenLine(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if _, g, err := ParseTokenLine("operator " + h + " name=" + strings.Repeat("n", protocol.MaxIDBytes)); err != nil || len(g.Name) != protocol.MaxIDBytes {
		t.Errorf("a name of MaxIDBytes: %+v %v", g, err)
	}
	for _, c := range []struct {
		g    Grant
		hash string
		want string
	}{{Grant{Name: "alice"}, h, "alice"}, {Grant{}, h, "token:" + h[:unnamedActorDigits]}, {Grant{}, "", openActor}} {
		if got := actorOf(&c.g, c.hash); got != c.want {
			t.Errorf("actorOf(%+v, %q) = %q, want %q", c.g, c.hash, got, c.want)
		}
	}
}

func TestCheckExposure(t *testing.T) {
	none := NewTokens(nil)
	some := NewTokens(map[string]Grant{HashToken("x"): {Role: RoleOperator}})
	for _, addr := range []string{"127.0.0.1:7420", "[::1]:7420", "localhost:1", "127.5.5.5:0"} {
		if err := CheckExposure(addr, none); err != nil {
			t.Errorf("%s without tokens: %v", addr, err)
		}
	}
	for _, addr := range []string{"0.0.0.0:7420", ":7420", "[::]:7420", "10.0.0.5:7420", "inv.example:7420"} {
		if err := CheckExposure(addr, none); err == nil {
			t.Errorf("%s without tokens allowed", addr)
		}
		if err := CheckExposure(addr, some); err != nil {
			t.Errorf("%s with tokens: %v", addr, err)
		}
	}
}

func TestGrants(t *testing.T) {
	noRead := func(*engine.Command) (engine.Result, bool) { return engine.Result{}, false }
	web := &Grant{Role: RoleStorefront}
	kiosk := &Grant{Role: RoleStore, Stores: []string{"S1"}}
	for op := engine.Op(1); op <= engine.OpLast; op++ {
		cmd := &engine.Command{Op: op, Store: []byte("S1")}
		if !operatorGrant.allows(cmd, noRead) {
			t.Errorf("operator may not %s", op)
		}
		wantWeb := op == engine.OpReserve || op == engine.OpConfirm || op == engine.OpExtend ||
			op == engine.OpCancel || op == engine.OpReschedule || op == engine.OpGetItem ||
			op == engine.OpGetWindow || op == engine.OpGetReservation || op == engine.OpListReservations ||
			op == engine.OpStoresWithStock || op == engine.OpGetStore || op == engine.OpStoreItems ||
			op == engine.OpJoinWaitlist || op == engine.OpLeaveWaitlist || op == engine.OpGetWaitlist ||
			op == engine.OpTakeCoupon || op == engine.OpGetCoupon || op == engine.OpGetCouponIssue
		if web.allows(cmd, noRead) != wantWeb {
			t.Errorf("storefront %s: got %v", op, !wantWeb)
		}
		wantKiosk := op == engine.OpPickup || op == engine.OpGetItem || op == engine.OpGetWindow || op == engine.OpGetStore ||
			op == engine.OpStoreItems || op == engine.OpRedeemCoupon || op == engine.OpGetCoupon
		if kiosk.allows(cmd, noRead) != wantKiosk {
			t.Errorf("store %s: got %v", op, !wantKiosk)
		}
	}
	if kiosk.allows(&engine.Command{Op: engine.OpPickup, Store: []byte("S2")}, noRead) {
		t.Error("a store token picked up at another store")
	}
	if kiosk.allows(&engine.Command{Op: engine.OpRedeemCoupon, Store: []byte("S2")}, noRead) {
		t.Error("a store token redeemed a coupon in another store's name")
	}
	readAt := func(store string) func(*engine.Command) (engine.Result, bool) {
		return func(*engine.Command) (engine.Result, bool) {
			return engine.Result{Reservation: &engine.ReservationInfo{Store: store}}, true
		}
	}
	ret := &engine.Command{Op: engine.OpReturn, ID: 1}
	if !kiosk.allows(ret, readAt("S1")) || kiosk.allows(ret, readAt("S2")) || kiosk.allows(ret, noRead) {
		t.Error("returns are not bound to the reservation's store")
	}
	rel := &engine.Command{Op: engine.OpReleaseReview, ID: 1} // docs/adr/0107
	if !kiosk.allows(rel, readAt("S1")) || kiosk.allows(rel, readAt("S2")) || kiosk.allows(rel, noRead) || web.allows(rel, readAt("S1")) {
		t.Error("a review's release is not the reservation's store's or the operator's alone")
	}
}

func TestBucket(t *testing.T) {
	var b bucket
	t0 := time.Unix(1000, 0)
	n := 0
	for range 10 {
		if b.take(t0, 2, 4) {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("burst: %d, want 4", n)
	}
	if !b.take(t0.Add(500*time.Millisecond), 2, 4) || b.take(t0.Add(500*time.Millisecond), 2, 4) {
		t.Fatal("refill after 500 ms at 2/s is not exactly one")
	}
}

// TestHidePickupCodes: a reply to a role that may not see codes loses every
// code but the confirm's, and the result it came from (whose records may be
// shared) is left untouched.
func TestHidePickupCodes(t *testing.T) {
	ri := &engine.ReservationInfo{ID: 1, PickupCode: 111}
	list := []engine.ReservationInfo{{ID: 1, PickupCode: 111}, {ID: 2, PickupCode: 222}}
	r := &engine.Result{ID: 1, PickupCode: 111, Reservation: ri, Reservations: list}
	h := hidePickupCodes(engine.OpGetReservation, r)
	if h.PickupCode != 0 || h.Reservation.PickupCode != 0 || h.Reservations[0].PickupCode != 0 || h.Reservations[1].PickupCode != 0 ||
		h.ID != 1 || h.Reservation.ID != 1 || h.Reservations[1].ID != 2 {
		t.Fatalf("hidden: %+v %+v %+v", h, h.Reservation, h.Reservations)
	}
	if r.PickupCode != 111 || ri.PickupCode != 111 || list[0].PickupCode != 111 || list[1].PickupCode != 222 {
		t.Fatalf("the original changed: %+v %+v %+v", r, ri, list)
	}
	if hidePickupCodes(engine.OpConfirm, r) != r {
		t.Fatal("the confirm's code was hidden")
	}
	serial := &engine.Result{ID: 5, PickupCode: 333}
	if hidePickupCodes(engine.OpTakeCoupon, serial) != serial {
		t.Fatal("a taken coupon's serial code was hidden")
	}
	if hidePickupCodes(engine.OpRedeemCoupon, serial).PickupCode != 0 {
		t.Fatal("a redeem's reply showed the serial's code")
	}
	plain := &engine.Result{ID: 3}
	if hidePickupCodes(engine.OpCancel, plain) != plain {
		t.Fatal("a reply without a code was copied")
	}
	if !(&Grant{Role: RoleOperator}).seesPickupCodes() || (&Grant{Role: RoleStorefront}).seesPickupCodes() ||
		(&Grant{Role: RoleStore, Stores: []string{"S1"}}).seesPickupCodes() {
		t.Fatal("only the operator sees codes")
	}
}

// TestNodeToken: only the cluster token's HELLO marks a connection as
// another node's, which may send the nodes' own ops (in a BATCH too): not
// an operator token, not a node alone; a cluster without any token (open)
// takes every operator connection for a node's, as any may send SHARD_CALL.
func TestNodeToken(t *testing.T) {
	const clusterTok = "0123456789abcdef0123456789abcdef"
	operator := &Grant{Role: RoleOperator}
	tokens := NewTokens(map[string]Grant{HashToken(clusterTok): {Role: RoleOperator}, HashToken("op-token"): {Role: RoleOperator}})
	clustered := &Server{cfg: Config{ClusterToken: clusterTok}, clusterTokenHash: HashToken(clusterTok), tokens: tokens,
		peers: &peerTable{}}
	alone := &Server{cfg: Config{ClusterToken: clusterTok}, clusterTokenHash: HashToken(clusterTok), tokens: tokens}
	open := &Server{tokens: NewTokens(nil), peers: &peerTable{}}
	for _, c := range []struct {
		s    *Server
		g    *Grant
		hash string
		want bool
	}{
		{clustered, operator, HashToken(clusterTok), true},
		{clustered, operator, HashToken("op-token"), false},
		{clustered, &Grant{Role: RoleStorefront}, HashToken(clusterTok), false},
		{alone, operator, HashToken(clusterTok), false},
		{open, operator, "", true},
		{open, &Grant{Role: RoleStorefront}, "", false},
	} {
		if got := c.s.isNodeToken(c.g, c.hash); got != c.want {
			t.Errorf("clustered %v, role %v, cluster token %v: node %v, want %v", c.s.clustered(), c.g.Role,
				c.hash == HashToken(clusterTok), got, c.want)
		}
	}
}
