// Round-trip tests of the format: Write then Parse, Parse then load into
// the engine then Write, and the commands a row becomes.
//
// What they prove: whatever Write writes, Parse reads back as the same
// catalog, in any time zone (times keep their nanoseconds; ids keep commas,
// quotes and non-ASCII text); writing what was read gives the same bytes;
// Write refuses, without writing a byte, items the import would refuse;
// a row's Commands are accepted by a real engine, which then reports the
// very items the rows describe; the example file in examples/ is such a file.
//
// How: hand-made items on the edges of the format, a fixed golden text for
// the exact layout, and an engine.Engine as the judge of what loads.
package catalog

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

var (
	taipei   = time.FixedZone("CST", 8*3600)
	monrovia = time.FixedZone("MMT", -(44*60 + 30)) // an offset with seconds, as Liberia had until 1972
)

func ns(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

func sampleItems() []engine.ItemInfo {
	return []engine.ItemInfo{
		{SKU: "4710123000017", Store: "TPE0427", Stock: 300, Limit: 4, Held: 7, Available: 293,
			OpensAt: ns("2026-08-15T00:00:00+08:00"), ClosesAt: ns("2026-09-15T00:00:00+08:00"),
			Windows: []engine.WindowInfo{ // not in start order: Write sorts a copy
				{Start: ns("2026-09-20T14:00:00+08:00"), End: ns("2026-09-20T18:00:00+08:00"), Quota: 60, Used: 3},
				{Start: ns("2026-09-20T10:00:00+08:00"), End: ns("2026-09-20T14:00:00+08:00"), Quota: 60}}},
		{SKU: "4710088412345", Store: "TPE0427", Stock: 120, Limit: 2,
			OpensAt:    ns("2026-09-01T12:00:00.000000001+08:00"),
			MemberTier: 1, MemberUnits: 40, MemberUsed: 5, MemberCutoff: ns("2026-09-01T12:30:00+08:00")},
		{SKU: `ticket, "front row"`, Store: "台北信義", Stock: 0},
		{SKU: "1970", Store: "early", Stock: engine.MaxStock, ClosesAt: 1, // one nanosecond after the epoch
			Windows: []engine.WindowInfo{{Start: 1, End: 1<<63 - 1, Quota: engine.MaxStock}}},
	}
}

// catalogOf is what of items a catalog keeps: no counts, windows sorted,
// sorted by SKU then store.
func catalogOf(items []engine.ItemInfo) []engine.ItemInfo {
	var out []engine.ItemInfo
	for _, it := range items {
		out = append(out, rowOf(it).Item())
	}
	sortItems(out)
	return out
}

func sortItems(items []engine.ItemInfo) {
	sort.Slice(items, func(i, j int) bool {
		if items[i].SKU != items[j].SKU {
			return items[i].SKU < items[j].SKU
		}
		return items[i].Store < items[j].Store
	})
}

func itemsOf(rows []Row) []engine.ItemInfo {
	out := make([]engine.ItemInfo, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.Item())
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	items := sampleItems()
	var first bytes.Buffer
	if err := Write(&first, items); err != nil {
		t.Fatal(err)
	}
	for _, loc := range []*time.Location{time.UTC, taipei, monrovia, nil} {
		t.Run(fmt.Sprint(loc), func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteIn(&b, items, loc); err != nil {
				t.Fatal(err)
			}
			rows, errs := Parse(bytes.NewReader(b.Bytes()))
			if errs != nil {
				t.Fatalf("Parse(WriteIn(items)) errors: %v\n%s", errs, b.String())
			}
			if got, want := itemsOf(rows), catalogOf(items); !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip\n got %+v\nwant %+v\nfile:\n%s", got, want, b.String())
			}
			var again bytes.Buffer
			if err := Write(&again, itemsOf(rows)); err != nil {
				t.Fatal(err)
			}
			if again.String() != first.String() {
				t.Fatalf("Write(Parse(WriteIn(items))) differs from Write(items):\n%s\n%s", again.String(), first.String())
			}
		})
	}
	if items[0].Windows[0].Quota != 60 || items[0].Windows[0].Used != 3 {
		t.Errorf("Write changed its input: %+v", items[0].Windows)
	}
}

func TestWriteLayout(t *testing.T) {
	var b bytes.Buffer
	if err := WriteIn(&b, sampleItems()[:3], taipei); err != nil {
		t.Fatal(err)
	}
	want := hdr +
		"4710088412345,TPE0427,120,2,2026-09-01T12:00:00.000000001+08:00,,1,40,2026-09-01T12:30:00+08:00,\n" +
		"4710123000017,TPE0427,300,4,2026-08-15T00:00:00+08:00,2026-09-15T00:00:00+08:00,,,," +
		"2026-09-20T10:00:00+08:00/2026-09-20T14:00:00+08:00/60;2026-09-20T14:00:00+08:00/2026-09-20T18:00:00+08:00/60\n" +
		`"ticket, ""front row""",台北信義,0,,,,,,,` + "\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := Write(&b, nil); err != nil || b.String() != hdr {
		t.Errorf("Write(nil) = %q, %v; want the header alone", b.String(), err)
	}
}

func TestWriteRefusesBadItems(t *testing.T) {
	ok := engine.ItemInfo{SKU: "A", Store: "S1", Stock: 1}
	w := func(s, e string, q int64) engine.WindowInfo {
		return engine.WindowInfo{Start: ns(s), End: ns(e), Quota: q}
	}
	cases := []struct {
		name string
		item engine.ItemInfo
		want string
	}{
		{"empty sku", engine.ItemInfo{Store: "S1"}, `item sku "" at store "S1": sku: is empty`},
		{"control character", engine.ItemInfo{SKU: "A\n", Store: "S1"}, "sku: \"A\\n\" has an unprintable character U+000A"},
		{"id too long", engine.ItemInfo{SKU: "A", Store: strings.Repeat("s", 65)}, "store: is 65 bytes"},
		{"negative stock", engine.ItemInfo{SKU: "A", Store: "S2", Stock: -1}, "stock: -1 is negative"},
		{"sale closes before it opens", engine.ItemInfo{SKU: "A", Store: "S2", OpensAt: 10, ClosesAt: 5}, "closes_at: must be after opens_at"},
		{"sale before 1970", engine.ItemInfo{SKU: "A", Store: "S2", OpensAt: -5}, "opens_at: is before 1970"},
		{"share without tier", engine.ItemInfo{SKU: "A", Store: "S2", MemberUnits: 3, MemberCutoff: 9}, "member_tier: is missing"},
		{"tier over the maximum", engine.ItemInfo{SKU: "A", Store: "S2", MemberTier: 16, MemberUnits: 3, MemberCutoff: 9}, "16 is not a tier"},
		{"overlapping windows", engine.ItemInfo{SKU: "A", Store: "S2", Windows: []engine.WindowInfo{
			w("2026-09-20T10:00:00Z", "2026-09-20T12:00:00Z", 1), w("2026-09-20T11:00:00Z", "2026-09-20T13:00:00Z", 1)}},
			"pickup_windows: windows 1 (2026-09-20T10:00:00Z/2026-09-20T12:00:00Z/1) and 2 (2026-09-20T11:00:00Z/2026-09-20T13:00:00Z/1) overlap"},
		{"given twice", ok, `item sku "A" at store "S1" is given twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Write(&b, []engine.ItemInfo{ok, tc.item, {SKU: "Z", Store: "S1"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %q before refusing", b.String())
			}
		})
	}
}

func TestCommands(t *testing.T) {
	r := Row{SKU: "A", Store: "S1", Stock: 10, Limit: 2, OpensAt: 100, ClosesAt: 200,
		MemberTier: 1, MemberUnits: 3, MemberCutoff: 150,
		Windows: []Window{{Start: 300, End: 400, Quota: 5}, {Start: 400, End: 500, Quota: 6}}}
	got := r.Commands()
	want := []engine.Command{
		{Op: engine.OpUpdateItem, SKU: []byte("A"), Store: []byte("S1"), Set: engine.ItemSetAll, Stock: 10, OpensAt: 100, ClosesAt: 200,
			MemberTier: 1, MemberUnits: 3, MemberCutoff: 150},
		{Op: engine.OpPutWindow, SKU: []byte("A"), Store: []byte("S1"), Window: 300, WindowEnd: 400, Quota: 5},
		{Op: engine.OpPutWindow, SKU: []byte("A"), Store: []byte("S1"), Window: 400, WindowEnd: 500, Quota: 6},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Commands()\n got %+v\nwant %+v", got, want)
	}
	if n := len(Row{SKU: "A", Store: "S1"}.Commands()); n != 1 {
		t.Errorf("a row without windows gives %d commands, want 1", n)
	}
	if c := (SKULimit{SKU: "A", Limit: 2}).Command(); c.Op != engine.OpSetLimit || string(c.SKU) != "A" || c.Limit != 2 || c.Store != nil {
		t.Errorf("the SKU's limit: %+v", c)
	}
}

// load applies the SKUs' limits and then every row's commands to a fresh
// engine, as invctl import does, fails the test if the engine refuses one,
// and returns every item the engine then holds.
func load(t testing.TB, rows []Row) []engine.ItemInfo {
	t.Helper()
	e := engine.New(engine.Config{PickupSecret: []byte("catalog test")})
	now := ns("2026-01-01T00:00:00Z")
	for _, l := range SKULimits(rows) {
		if res, _ := e.Apply(now, []engine.Command{l.Command()}); res[0].Code != engine.OK {
			t.Fatalf("line %d: the engine refuses the limit of %s with code %d", l.Line, l.SKU, res[0].Code)
		}
	}
	for _, r := range rows {
		cmds := r.Commands()
		res, _ := e.Apply(now, cmds)
		for i, x := range res {
			if x.Code != engine.OK {
				t.Fatalf("line %d: the engine refuses %v with code %d", r.Line, cmds[i].Op, x.Code)
			}
		}
	}
	res := e.Read(&engine.Command{Op: engine.OpListItems})
	if res.Code != engine.OK {
		t.Fatalf("list items: code %d", res.Code)
	}
	sortItems(res.Items)
	return res.Items
}

func TestExampleLoads(t *testing.T) {
	f, err := os.ReadFile("../../examples/catalog.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, errs := Parse(bytes.NewReader(f))
	if errs != nil || len(rows) == 0 {
		t.Fatalf("examples/catalog.csv: %d rows, errors %v", len(rows), errs)
	}
	held := load(t, rows)
	want := itemsOf(rows)
	sortItems(want)
	if !reflect.DeepEqual(held, want) {
		t.Fatalf("the engine holds\n%+v\nwant\n%+v", held, want)
	}
	var exported, written bytes.Buffer
	if err := WriteIn(&exported, held, taipei); err != nil {
		t.Fatal(err)
	}
	if err := WriteIn(&written, itemsOf(rows), taipei); err != nil {
		t.Fatal(err)
	}
	if exported.String() != written.String() {
		t.Errorf("export of the loaded engine differs from the file's rows:\n%s\n%s", exported.String(), written.String())
	}
}
