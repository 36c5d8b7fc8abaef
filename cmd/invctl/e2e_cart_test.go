// invctl cart against a real invd of two shards: lines at two stores (one
// in each shard) are held as one group and printed with their ids; a cart
// with a sold-out line exits 1, names that line and its hint, and leaves
// nothing held at either store; malformed lines and a line without a store
// are usage errors (exit 2) that send nothing.
package main_test

import (
	"strings"
	"testing"

	"github.com/invsys/inv/protocol"
)

func TestCart(t *testing.T) {
	p := startServer(t, 2)
	a := p.Addr()
	near, far := "TPE0001", "TPE0002"
	for protocol.ShardOfStore([]byte(near), 2) == protocol.ShardOfStore([]byte(far), 2) {
		far += "x"
	}
	const rice, tea = "4710088400001", "4710088400002"
	ok(t, a, "item", "put", "--sku", rice, "--store", near, "--stock", "3")
	ok(t, a, "item", "put", "--sku", tea, "--store", far, "--stock", "1")

	_, errs, code := invctl(t, a, "cart", "--customer", "m1", "--store", near,
		"--line", "sku="+rice+",qty=2", "--line", "sku="+tea+",qty=2,store="+far)
	if code != 1 || !strings.Contains(errs, "sold_out: cart line 2 ("+tea+" at "+far+") refused, nothing held") ||
		!strings.Contains(errs, "invctl item restock --sku "+tea+" --store "+far) {
		t.Fatalf("a cart with a sold-out line: exit %d, %q", code, errs)
	}
	var it itemOut
	okJSON(t, a, &it, "item", "get", "--sku", rice, "--store", near)
	if it.Held != 0 {
		t.Fatalf("the near store holds %d after the refused cart", it.Held)
	}

	var lines []struct {
		SKU, Store, State string
		ID                string `json:"id"`
		Qty               int64
	}
	okJSON(t, a, &lines, "cart", "--customer", "m1", "--store", near,
		"--line", "sku="+rice+",qty=2", "--line", "sku="+tea+",store="+far)
	if len(lines) != 2 || lines[0].Store != near || lines[1].Store != far || lines[0].Qty != 2 || lines[1].Qty != 1 ||
		lines[0].State != "held" || lines[1].ID == "" {
		t.Fatalf("the cart: %+v", lines)
	}
	out := ok(t, a, "reservation", "get", lines[1].ID)
	mustContain(t, "the far line", out, "held")

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--line", "qty=2"}, "no sku="},
		{[]string{"--store", near, "--line", "sku=A,qty=0"}, `qty "0": want 1 or more units`},
		{[]string{"--store", near, "--line", "sku=A,colour=red"}, `unknown "colour"`},
		{[]string{"--line", "sku=A"}, "--line 1 (A) has no store"},
		{[]string{"--store", near}, "--line is required"},
	} {
		_, errs, code := invctl(t, a, append([]string{"cart", "--customer", "m2"}, bad.args...)...)
		if code != 2 || !strings.Contains(errs, bad.want) {
			t.Errorf("cart %v: exit %d, %q; want 2 and %q", bad.args, code, errs, bad.want)
		}
	}
}
