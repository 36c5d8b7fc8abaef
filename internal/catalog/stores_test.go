// What this file proves: the stores file (stores.go) reads a store's time
// zone and windows with their capacity; it refuses, naming the line and
// column, an unknown zone, a bad or overlapping window, a repeated store
// and a header without the store column, and then returns no row; and a
// file loaded into an engine and written back (WriteStores, windows in the
// store's zone) reads back as the same rows.
package catalog

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/invsys/inv/engine"
)

const storesFile = `store,time_zone,pickup_windows
TPE0427,Asia/Taipei,2026-12-24T12:00:00+08:00/2026-12-24T14:00:00+08:00/25;2026-12-24T10:00:00+08:00/2026-12-24T12:00:00+08:00/20
KHH0113,,
TXG0008,Europe/Paris,
`

func TestParseStores(t *testing.T) {
	rows, errs := ParseStores(strings.NewReader(storesFile))
	checkErrors(t, errs, nil)
	want := []StoreRow{
		{Line: 2, Store: "TPE0427", Zone: "Asia/Taipei", Windows: []Window{{ns("2026-12-24T02:00:00Z"), ns("2026-12-24T04:00:00Z"), 20},
			{ns("2026-12-24T04:00:00Z"), ns("2026-12-24T06:00:00Z"), 25}}},
		{Line: 3, Store: "KHH0113"},
		{Line: 4, Store: "TXG0008", Zone: "Europe/Paris"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows\n got %+v\nwant %+v", rows, want)
	}
	cmds := rows[0].Commands()
	if len(cmds) != 3 || cmds[0].Op != engine.OpPutStore || string(cmds[0].Zone) != "Asia/Taipei" ||
		cmds[1].Op != engine.OpPutStoreWindow || cmds[1].Quota != 20 || len(rows[1].Commands()) != 0 {
		t.Fatalf("commands %+v", cmds)
	}
}

func TestParseStoresBad(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []want
	}{
		{"no store column", "time_zone\nUTC\n", []want{{1, "", "the store column is missing"}}},
		{"unknown column", "store,zone\nS1,UTC\n", []want{{1, "", `unknown column "zone"`}}},
		{"unknown zone", "store,time_zone\nS1,Asia/Atlantis\nS2,Local\n", []want{{2, "time_zone", `"Asia/Atlantis"`}, {3, "time_zone", `"Local"`}}},
		{"bad and overlapping windows", "store,pickup_windows\nS1,2026-12-24T10:00:00Z/2026-12-24T12:00:00Z/1;2026-12-24T11:00:00Z/2026-12-24T13:00:00Z/1\nS2,x/y/1\nS3,2026-12-24T10:00:00Z/2026-12-24T12:00:00Z/-1\n",
			[]want{{2, "pickup_windows", "overlap"}, {3, "pickup_windows", "start"}, {4, "pickup_windows", "capacity"}}},
		{"repeated store", "store\nS1\nS1\n", []want{{3, "", `store "S1" is already on line 2`}}},
		{"bad id", "store\n S1\n", []want{{2, "store", "leading or trailing spaces"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, errs := ParseStores(strings.NewReader(tc.in))
			if rows != nil {
				t.Errorf("rows %+v from a bad file", rows)
			}
			checkErrors(t, errs, tc.want)
		})
	}
}

func TestStoresRoundTrip(t *testing.T) {
	rows, errs := ParseStores(strings.NewReader(storesFile))
	checkErrors(t, errs, nil)
	e := engine.New(engine.Config{PickupSecret: []byte("stores test")})
	var infos []engine.StoreInfo
	for _, r := range rows {
		if res, _ := e.Apply(ns("2026-01-01T00:00:00Z"), r.Commands()); len(res) > 0 && res[len(res)-1].Code != engine.OK {
			t.Fatalf("line %d refused: %v", r.Line, res[len(res)-1].Code)
		}
		if st := e.Read(&engine.Command{Op: engine.OpGetStore, Store: []byte(r.Store)}); st.Store != nil {
			infos = append(infos, *st.Store)
		}
	}
	var b bytes.Buffer
	if err := WriteStores(&b, infos); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "2026-12-24T10:00:00+08:00/2026-12-24T12:00:00+08:00/20") {
		t.Errorf("windows not in the store's zone:\n%s", b.String())
	}
	back, errs := ParseStores(&b)
	checkErrors(t, errs, nil)
	byStore := map[string]StoreRow{}
	for _, r := range back {
		r.Line = 0
		byStore[r.Store] = r
	}
	for _, r := range rows {
		if r.Zone == "" && len(r.Windows) == 0 {
			continue // nothing to keep: the engine knows no such store
		}
		r.Line = 0
		if !reflect.DeepEqual(byStore[r.Store], r) {
			t.Errorf("%s: wrote back %+v, want %+v", r.Store, byStore[r.Store], r)
		}
	}
}
