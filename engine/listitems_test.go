package engine

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestListItemsOfOneSKU: list_items of a SKU, read from the SKU's own list,
// gives exactly the items of the whole list with that SKU, in the same
// order, before and after a restore; an unknown SKU gives none.
func TestListItemsOfOneSKU(t *testing.T) {
	now := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC).UnixNano()
	cfg := Config{PickupSecret: []byte("k")}
	e := New(cfg)
	// SKUs and stores interleaved, so that no SKU's items are adjacent.
	for st := range 7 {
		for k := range 5 {
			e.Apply(now, []Command{{Op: OpPutItem, SKU: fmt.Appendf(nil, "sku-%d", (k*3+st)%5),
				Store: fmt.Appendf(nil, "S%d", st), Stock: int64(10 + k)}})
		}
	}
	var b bytes.Buffer
	if err := e.Snapshot(&b); err != nil {
		t.Fatal(err)
	}
	restored, err := Restore(cfg, &b)
	if err != nil {
		t.Fatal(err)
	}
	for name, eng := range map[string]*Engine{"live": e, "restored": restored} {
		all := eng.Read(&Command{Op: OpListItems}).Items
		if len(all) != 35 {
			t.Fatalf("%s: %d items in all, want 35", name, len(all))
		}
		for k := range 5 {
			sku := fmt.Sprintf("sku-%d", k)
			want := []ItemInfo{}
			for _, it := range all {
				if it.SKU == sku {
					want = append(want, it)
				}
			}
			got := eng.Read(&Command{Op: OpListItems, SKU: []byte(sku)}).Items
			if len(got) != 7 || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: list_items %s = %+v, want %+v", name, sku, got, want)
			}
		}
		if got := eng.Read(&Command{Op: OpListItems, SKU: []byte("nope")}); got.Code != OK || got.Items == nil || len(got.Items) != 0 {
			t.Fatalf("%s: an unknown SKU: %+v, want an empty list", name, got)
		}
	}
}
