// Settings that stay put (docs/adr/0100): a catalog loads only the columns
// it has. It proves that Parse marks the settings a header lacks as
// absent, that a row's commands then name only the settings present, and,
// on a real engine, that a file of stock alone keeps an item's sale window,
// member share and the SKU's limit, while an empty cell of a column the
// file has clears its setting. On the code before, a stock-only file reset
// the sale window and the share (put_item replaced every setting). It also
// proves that WriteZoned writes each store's times in its own zone.
package catalog

import (
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

func TestAbsentSettings(t *testing.T) {
	for _, c := range []struct {
		header string
		want   engine.ItemSet
	}{
		{"sku,store,stock", engine.SetOpensAt | engine.SetClosesAt | engine.SetMemberShare},
		{"sku,store,stock,opens_at", engine.SetClosesAt | engine.SetMemberShare},
		{"sku,store,stock,closes_at,member_units,member_tier,member_cutoff", engine.SetOpensAt},
		{"sku,store,stock,member_units", engine.SetOpensAt | engine.SetClosesAt},
		{"sku,store,stock,limit,opens_at,closes_at,member_tier,member_units,member_cutoff,pickup_windows", 0},
	} {
		cells := strings.Repeat(",", strings.Count(c.header, ","))
		rows, errs := Parse(strings.NewReader(c.header + "\nA,S1,5" + cells[2:] + "\n"))
		if len(errs) > 0 || len(rows) != 1 {
			t.Fatalf("%s: %v %v", c.header, rows, errs)
		}
		if rows[0].Absent != c.want {
			t.Errorf("%s: absent %04b, want %04b", c.header, rows[0].Absent, c.want)
		}
		if set := rows[0].Commands()[0].Set; set != engine.ItemSetAll&^c.want {
			t.Errorf("%s: the update names %04b, want %04b", c.header, set, engine.ItemSetAll&^c.want)
		}
	}
}

func TestStockOnlyFileKeepsSettings(t *testing.T) {
	e := engine.New(engine.Config{PickupSecret: []byte("catalog test")})
	now := ns("2026-01-01T00:00:00Z")
	load := func(file string) engine.ItemInfo {
		t.Helper()
		rows, errs := Parse(strings.NewReader(file))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, l := range SKULimits(rows) {
			e.Apply(now, []engine.Command{l.Command()})
		}
		for _, r := range rows {
			if res, _ := e.Apply(now, r.Commands()); res[0].Code != engine.OK {
				t.Fatalf("%q: code %v", file, res[0].Code)
			}
		}
		return *e.Read(&engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S1")}).Item
	}
	full := load("sku,store,stock,limit,opens_at,closes_at,member_tier,member_units,member_cutoff\n" +
		"A,S1,10,2,2026-02-01T10:00:00Z,2026-02-02T10:00:00Z,1,4,2026-02-01T12:00:00Z\n")
	got := load("sku,store,stock\nA,S1,30\n")
	if got.Stock != 30 || got.Limit != 2 || got.OpensAt != full.OpensAt || got.ClosesAt != full.ClosesAt ||
		got.MemberUnits != 4 || got.MemberTier != 1 || got.MemberCutoff != full.MemberCutoff {
		t.Fatalf("after a stock-only file: %+v, before %+v", got, full)
	}
	got = load("sku,store,stock,closes_at\nA,S1,31,\n")
	if got.Stock != 31 || got.ClosesAt != 0 || got.OpensAt != full.OpensAt || got.MemberUnits != 4 {
		t.Fatalf("an empty closes_at cell clears only it: %+v", got)
	}
}

// TestWriteZoned: each row's times are written in its store's zone, with
// the offset, and read back as the same instants.
func TestWriteZoned(t *testing.T) {
	taipei, err := time.LoadLocation("Asia/Taipei")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	start := time.Date(2039, 12, 24, 10, 0, 0, 0, taipei).UnixNano()
	items := []engine.ItemInfo{
		{SKU: "A", Store: "TPE", Stock: 5, Windows: []engine.WindowInfo{{Start: start, End: start + 2*3600e9, Quota: 3}}},
		{SKU: "A", Store: "LON", Stock: 2, OpensAt: start},
	}
	var b strings.Builder
	zones := map[string]*time.Location{"TPE": taipei}
	if err := WriteZoned(&b, items, func(s string) *time.Location { return zones[s] }); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "A,TPE,5,,,,,,,2039-12-24T10:00:00+08:00/2039-12-24T12:00:00+08:00/3") ||
		!strings.Contains(out, "A,LON,2,,2039-12-24T02:00:00Z,") {
		t.Fatalf("zoned catalog:\n%s", out)
	}
	rows, errs := Parse(strings.NewReader(out))
	if len(errs) > 0 || len(rows) != 2 || rows[1].Windows[0].Start != start || rows[0].OpensAt != start {
		t.Fatalf("read back: %+v %v", rows, errs)
	}
}
