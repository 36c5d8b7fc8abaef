// invctl waitlist join|leave|show end to end: a real invd and the invctl
// binary run as a shell user would. A join while the item has units is
// refused (wrong_state, with a hint to reserve instead); bad --qty and
// --ttl are usage errors (exit 2) that leave the line as it was; two
// customers join a sold-out item (places 1 and 2, table and JSON); a
// cancel of the hold gives the head a hold of its own (reservation list
// shows it) and moves the second up to place 1; leaving twice is refused
// with not_found and a hint naming the command's item and customer.
package main_test

import (
	"strings"
	"testing"
)

type waitlistOut struct {
	SKU, Store, Customer string
	Length, Position     int64
	Qty                  int64
	ExpiresAt            string `json:"expires_at"`
}

func TestWaitlist(t *testing.T) {
	p := startServer(t, 2)
	addr := p.Addr()
	item := []string{"--sku", "wl1", "--store", "s1"}
	arg := func(extra ...string) []string { return append(append([]string{}, item...), extra...) }
	ok(t, addr, append([]string{"item", "put", "--stock", "1"}, item...)...)

	_, errs, code := invctl(t, addr, append([]string{"waitlist", "join"}, arg("--customer", "b")...)...)
	if code != 1 || !strings.HasPrefix(errs, "wrong_state") || !strings.Contains(errs, "invctl reserve --sku wl1 --store s1 --customer b") {
		t.Fatalf("join while in stock: exit %d, %q", code, errs)
	}
	id := ok(t, addr, append([]string{"reserve"}, arg("--customer", "a")...)...)

	for _, bad := range [][]string{{"--qty", "9"}, {"--qty", "0"}, {"--ttl", "25h"}, {"--ttl", "-1s"}} {
		_, errs, code := invctl(t, addr, append([]string{"waitlist", "join"}, arg(append([]string{"--customer", "b"}, bad...)...)...)...)
		if code != 2 || !strings.Contains(errs, bad[0]) {
			t.Fatalf("join %v: exit %d, %q; want a usage error", bad, code, errs)
		}
	}
	var w waitlistOut
	okJSON(t, addr, &w, append([]string{"waitlist", "show"}, item...)...)
	if w.Length != 0 || w.Position != 0 {
		t.Fatalf("line after refused joins: %+v", w)
	}

	okJSON(t, addr, &w, append([]string{"waitlist", "join"}, arg("--customer", "b", "--ttl", "30m")...)...)
	if w.Length != 1 || w.Position != 1 || w.Qty != 1 || w.Customer != "b" || w.ExpiresAt == "" {
		t.Fatalf("b joined: %+v", w)
	}
	out := ok(t, addr, append([]string{"waitlist", "join"}, arg("--customer", "c", "--qty", "1")...)...)
	mustContain(t, "c joined", out, "PLACE", "LENGTH", "wl1", "s1", "c ")
	if f := strings.Fields(strings.Split(out, "\n")[1]); len(f) < 6 || f[3] != "2" || f[4] != "2" {
		t.Fatalf("c joined: row %q, want place 2 of 2", f)
	}

	ok(t, addr, "cancel", id)
	okJSON(t, addr, &w, append([]string{"waitlist", "show"}, arg("--customer", "c")...)...)
	if w.Length != 1 || w.Position != 1 {
		t.Fatalf("c after the cancel: %+v", w)
	}
	okJSON(t, addr, &w, append([]string{"waitlist", "show"}, arg("--customer", "b")...)...)
	if w.Length != 1 || w.Position != 0 {
		t.Fatalf("b after the cancel: %+v", w)
	}
	out = ok(t, addr, "reservation", "list", "--customer", "b")
	mustContain(t, "b's reservations", out, "wl1", "s1", " held ")

	okJSON(t, addr, &w, append([]string{"waitlist", "leave"}, arg("--customer", "c")...)...)
	if w.Length != 0 || w.Position != 0 || w.Qty != 1 {
		t.Fatalf("c left: %+v", w)
	}
	_, errs, code = invctl(t, addr, append([]string{"waitlist", "leave"}, arg("--customer", "c")...)...)
	if code != 1 || !strings.HasPrefix(errs, "not_found") ||
		!strings.Contains(errs, "invctl waitlist show --sku wl1 --store s1 --customer c") {
		t.Fatalf("c left twice: exit %d, %q", code, errs)
	}
	refused(t, addr, "unknown_item", "waitlist", "show", "--sku", "nope", "--store", "s1")
}
