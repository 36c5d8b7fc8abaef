// Settings that stay put, end to end (docs/adr/0100): a real invd whose
// operator token is named "alice", and the invctl binary. It proves that
// restocking with item put --stock keeps the SKU's limit, the sale window
// and the member share (on the code before, a put of stock alone removed
// the window and the share); that --clear removes exactly the setting it
// names; that a stock-only catalog file keeps the settings too; that a
// member share larger than the stock is refused with a message naming the
// stock; and that item history lists every stock change with the token's
// name and the reason given, oldest first, as tail shows them too.
package main_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/server"
)

func TestSettingsStayPut(t *testing.T) {
	const token = "settings-test-token-0123456789"
	p, err := invdtest.Start(invdtest.Options{Bin: bins["invd"], Data: t.TempDir() + "/data", Shards: 2,
		Config: fastConfig + "token = operator " + server.HashToken(token) + " name=alice\n"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("invd log:\n%s", p.Logs())
		}
	})
	a := p.Addr()
	op := func(args ...string) string {
		t.Helper()
		return ok(t, a, append([]string{"--token", token}, args...)...)
	}
	const sku, store = "4710088412345", "TPE0427"
	item := []string{"--sku", sku, "--store", store}
	op(append([]string{"item", "put", "--stock", "10", "--opens", "2039-01-01T00:00:00Z", "--closes", "2039-01-02T00:00:00Z", "--reason", "first delivery"}, item...)...)
	op("item", "limit", "--sku", sku, "--limit", "2")
	op(append([]string{"item", "member-share", "--tier", "1", "--units", "4", "--cutoff", "2039-01-01T06:00:00Z"}, item...)...)

	// Restock right before the sale: everything but the stock stays.
	op(append([]string{"item", "put", "--stock", "30", "--reason", "delivery 4711"}, item...)...)
	var got itemSettings
	okJSON(t, a, &got, append([]string{"--token", token, "item", "get"}, item...)...)
	want := itemSettings{Stock: 30, Limit: 2, OpensAt: "2039-01-01T00:00:00Z", ClosesAt: "2039-01-02T00:00:00Z",
		MemberTier: 1, MemberUnits: 4, MemberCutoff: "2039-01-01T06:00:00Z"}
	if got != want {
		t.Fatalf("after item put --stock 30:\n got %+v\nwant %+v", got, want)
	}

	// A stock-only catalog keeps them as well.
	csv := filepath.Join(t.TempDir(), "stock.csv")
	if err := os.WriteFile(csv, []byte("sku,store,stock\n"+sku+","+store+",40\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	op("import", "--quiet", csv)
	okJSON(t, a, &got, append([]string{"--token", token, "item", "get"}, item...)...)
	if want.Stock = 40; got != want {
		t.Fatalf("after a stock-only import:\n got %+v\nwant %+v", got, want)
	}

	// A share larger than the stock is refused, and says so.
	_, errs, code := invctl(t, a, append([]string{"--token", token, "item", "member-share", "--tier", "1", "--units", "41", "--cutoff", "2039-01-01T06:00:00Z"}, item...)...)
	if code != 2 || !strings.Contains(errs, "--units 41: more than the stock of "+sku+"/"+store+" (40)") {
		t.Fatalf("a share over the stock: exit %d, %q", code, errs)
	}

	// --clear removes the setting it names, and only it.
	op(append([]string{"item", "put", "--clear", "closes,share"}, item...)...)
	got = itemSettings{} // cleared settings are left out of the JSON
	okJSON(t, a, &got, append([]string{"--token", token, "item", "get"}, item...)...)
	want.ClosesAt, want.MemberTier, want.MemberUnits, want.MemberCutoff = "", 0, 0, ""
	if got != want {
		t.Fatalf("after --clear closes,share:\n got %+v\nwant %+v", got, want)
	}

	op(append([]string{"item", "restock", "--qty", "5", "--reason", "found in the back"}, item...)...)
	op(append([]string{"item", "adjust", "--qty", "-2", "--reason", "2 broken"}, item...)...)
	var hist []struct {
		Kind, Actor, Reason string
		Change, Stock       int64
	}
	okJSON(t, a, &hist, append([]string{"--token", token, "item", "history"}, item...)...)
	var lines []string
	for _, h := range hist {
		lines = append(lines, strings.Join([]string{h.Kind, h.Actor, h.Reason, strconv.FormatInt(h.Change, 10), strconv.FormatInt(h.Stock, 10)}, " "))
	}
	wantHist := []string{
		"item_put alice first delivery 10 10",
		"item_put alice  0 10", // the member share
		"item_put alice delivery 4711 20 30",
		"item_put alice catalog import 10 40",
		"item_put alice  0 40", // --clear
		"stock_changed alice found in the back 5 45",
		"stock_changed alice 2 broken -2 43",
	}
	if strings.Join(lines, "\n") != strings.Join(wantHist, "\n") {
		t.Fatalf("item history:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(wantHist, "\n"))
	}
	out := op(append([]string{"item", "history"}, item...)...)
	mustContain(t, "item history", out, "BY", "REASON", "alice", "delivery 4711", "+20", "-2")
	shard := strconv.Itoa(protocol.ShardOfStore([]byte(store), 2))
	mustContain(t, "tail", op("tail", "--shard", shard, "--count", "1"), `item_put`, `by=alice reason="first delivery"`)
}

// itemSettings are the settings of item get --json that a restock must keep.
type itemSettings struct {
	Stock        int64  `json:"stock"`
	Limit        int64  `json:"limit"`
	OpensAt      string `json:"opens_at"`
	ClosesAt     string `json:"closes_at"`
	MemberTier   uint8  `json:"member_tier"`
	MemberUnits  int64  `json:"member_units"`
	MemberCutoff string `json:"member_cutoff"`
}
