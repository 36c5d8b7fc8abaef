package engine

// put_items, the bulk put (bulk.go, docs/adr/0121). The table cases prove
// that a bulk put creates and changes items as the update_items it stands
// for do (one item_put event each, the settings an item does not name left
// as they are), that it is all or none (a bad item, an item of another
// shard, an item named twice, a stock below what is promised: the whole
// command is refused, its Qty naming the item from 1, and nothing changes),
// that its limits hold at and past their edge, and that a key makes it
// idempotent (a replay answers the first result and changes nothing; the
// key with other items is a conflict). Each case runs through runTableCase,
// which checks the engine's invariants after every batch. The plain test
// proves that a bulk put leaves the same state as its items' update_items.

import (
	"bytes"
	"fmt"
	"testing"
)

// bp is a put of every setting of one item: stock, no sale window, no share.
func bp(sku, store string, stock int64) ItemPut {
	return ItemPut{SKU: []byte(sku), Store: []byte(store), Set: ItemSetAll, Stock: stock}
}

func (o tbOps) putItems(items ...ItemPut) tbStep {
	return o.cmd(Command{Op: OpPutItems, Items: items})
}

// qty checks a result's Qty: a bulk put's count, or the refused item's place.
func (s tbStep) qty(want int64) tbStep {
	return s.chk(func(_ *Engine, r Result) string {
		if r.Qty != want {
			return fmt.Sprintf("qty %d, want %d", r.Qty, want)
		}
		return ""
	})
}

// manyItems returns n distinct items of store S1.
func manyItems(n int) []ItemPut {
	items := make([]ItemPut, n)
	for i := range items {
		items[i] = bp(fmt.Sprintf("N%05d", i), "S1", 1)
	}
	return items
}

func tbBulkTable() []tbCase {
	G := do.getItem
	stockOnly := func(p ItemPut) ItemPut { p.Set = SetStock; return p }
	return []tbCase{
		tc("put_items: creates new items and changes existing ones, one event each",
			do.putItems(bp("N1", "S1", 3), bp("A", "S1", 12), bp("N2", "S2", 0)).qty(3).events(
				"item_put N1/S1 qty=3 stock=3", "item_put A/S1 qty=2 stock=12", "item_put N2/S2 stock=0"),
			G("N1", "S1").item("stock=3 available=3"), G("A", "S1").item("stock=12 available=12"),
			G("N2", "S2").item("stock=0 available=0")),
		tc("put_items: an item naming only its stock keeps its sale window and member share",
			do.putItems(stockOnly(bp("F", "S1", 7)), stockOnly(bp("M", "S1", 6))).qty(2),
			G("F", "S1").item("stock=7 available=7 sale=1h..2h"),
			G("M", "S1").item("stock=6 available=6 member-share=0/2 tier>=1 until=1h")),
		tc("put_items: actor and reason reach every item's event",
			do.putItems(bp("N1", "S1", 1), bp("N2", "S1", 2)).by("loader", "catalogue of May").events(
				`item_put N1/S1 qty=1 stock=1 by=loader reason="catalogue of May"`,
				`item_put N2/S1 qty=2 stock=2 by=loader reason="catalogue of May"`)),
		tc("put_items: a bad item refuses the whole bulk put, naming it, and changes nothing",
			do.putItems(bp("N1", "S1", 3), bp("N2", "S1", MaxStock+1), bp("N3", "S1", 1)).is(CodeBadRequest).qty(2).events(),
			G("N1", "S1").is(CodeUnknownItem)),
		tc("put_items: an empty SKU is a bad item",
			do.putItems(bp("N1", "S1", 3), bp("", "S1", 1)).is(CodeBadRequest).qty(2)),
		tc("put_items: an item naming no setting is a bad item",
			do.putItems(ItemPut{SKU: []byte("N1"), Store: []byte("S1")}).is(CodeBadRequest).qty(1)),
		tc("put_items: a stock below what is promised refuses the whole bulk put",
			do.reserve("Z", "S1", "c1", 1).res("held id=1 qty=1 expires=10m"),
			do.putItems(bp("A", "S1", 20), bp("Z", "S1", 0)).is(CodeBelowPromised).qty(2).events(),
			G("A", "S1").item("stock=10 available=10")),
		tc("put_items: an item named twice refuses the whole bulk put, naming the second",
			do.putItems(bp("N1", "S1", 1), bp("N2", "S1", 1), bp("N1", "S1", 2)).is(CodeBadRequest).qty(3),
			G("N2", "S1").is(CodeUnknownItem)),
		tc("put_items: the same SKU at two stores is two items",
			do.putItems(bp("N1", "S1", 1), bp("N1", "S2", 2)).qty(2)),
		tcc("put_items: an item of another shard refuses the whole bulk put", bulkTwoShards,
			do.putItems(bp("N1", bulkStoreOf(0), 1), bp("N2", bulkStoreOf(1), 1)).is(CodeBadRequest).qty(2),
			G("N1", bulkStoreOf(0)).is(CodeUnknownItem)),
		tc("put_items: no items is a bad request", do.putItems().is(CodeBadRequest).qty(0)),
		tc("put_items: MaxBulkItems items are put", do.putItems(manyItems(MaxBulkItems)...).qty(MaxBulkItems),
			G(fmt.Sprintf("N%05d", MaxBulkItems-1), "S1").item("stock=1 available=1")),
		tc("put_items: one past MaxBulkItems is a bad request",
			do.putItems(manyItems(MaxBulkItems+1)...).is(CodeBadRequest).qty(0),
			G("N00000", "S1").is(CodeUnknownItem)),
		tc("put_items: a field of a single put beside the items is a bad request",
			do.putItems(bp("N1", "S1", 1)).stock(5).is(CodeBadRequest),
			G("N1", "S1").is(CodeUnknownItem)),
		tc("put_items: a key replays the first result and changes nothing",
			do.putItems(bp("N1", "S1", 1), bp("N2", "S1", 2)).key("k1").qty(2),
			do.adjust("N1", "S1", 4),
			do.putItems(bp("N1", "S1", 1), bp("N2", "S1", 2)).key("k1").qty(2).events(),
			G("N1", "S1").item("stock=5 available=5")),
		tc("put_items: the key with other items is a key conflict",
			do.putItems(bp("N1", "S1", 1)).key("k1").qty(1),
			do.putItems(bp("N1", "S1", 9)).key("k1").is(CodeKeyConflict),
			G("N1", "S1").item("stock=1 available=1")),
	}
}

func bulkTwoShards(c *Config) { c.Shards, c.ShardID = 2, 0 }

// bulkStoreOf returns a store that placement puts on shard sh of 2.
func bulkStoreOf(sh uint64) string {
	for i := 0; ; i++ {
		s := fmt.Sprintf("T%d", i)
		if storeHash([]byte(s))%2 == sh {
			return s
		}
	}
}

// TestBulkPutEqualsItsUpdates: a bulk put of items new and existing, some
// naming every setting and some only the stock, leaves the same state
// (snapshot bytes) as the same items sent one update_item each.
func TestBulkPutEqualsItsUpdates(t *testing.T) {
	items := manyItems(300)
	items = append(items, bp("A", "S1", 20), ItemPut{SKU: []byte("F"), Store: []byte("S1"), Set: SetStock, Stock: 9},
		ItemPut{SKU: []byte("M"), Store: []byte("S2"), Set: ItemSetAll, Stock: 8, MemberTier: 1, MemberUnits: 2, MemberCutoff: tbAbs("1h")})
	bulk, single := tbNewEngine(t, nil), tbNewEngine(t, nil)
	if r, _ := bulk.Apply(tbT0, []Command{{Op: OpPutItems, Items: items}}); r[0].Code != OK || r[0].Qty != int64(len(items)) {
		t.Fatalf("bulk put: %+v", r[0])
	}
	bulkCmd := Command{Op: OpPutItems}
	var cmds []Command
	for i := range items {
		cmds = append(cmds, items[i].asUpdate(&bulkCmd))
	}
	res, _ := single.Apply(tbT0, cmds)
	for i, r := range res {
		if r.Code != OK {
			t.Fatalf("update %d: %v", i, r.Code)
		}
	}
	var a, b bytes.Buffer
	if err := bulk.Snapshot(&a); err != nil {
		t.Fatal(err)
	}
	if err := single.Snapshot(&b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Fatalf("a bulk put's state (%d bytes) differs from its updates' (%d bytes)", a.Len(), b.Len())
	}
}

// TestBulkPutCollidingKeys: the repeat check and the index key an item by
// the 32-bit hash of its key, so two items whose keys share it are told
// apart on the keys: both are put (one in the index's overflow), each is
// found after, and a true repeat behind them is still refused.
func TestBulkPutCollidingKeys(t *testing.T) {
	var s state
	seen := map[uint32]string{}
	var a, b string
	for i := 0; a == ""; i++ {
		sku := fmt.Sprintf("sku-%d", i)
		h := strHash(s.itemKey([]byte(sku), []byte("S1")))
		if other, ok := seen[h]; ok {
			a, b = other, sku
		}
		seen[h] = sku
	}
	e := tbNewEngine(t, nil)
	put := func(items ...ItemPut) Result {
		r, _ := e.Apply(tbT0, []Command{{Op: OpPutItems, Items: items}})
		return r[0]
	}
	if r := put(bp(a, "S1", 3), bp(b, "S1", 4)); r.Code != OK || r.Qty != 2 {
		t.Fatalf("two items whose keys collide: %+v", r)
	}
	if len(e.st.itemByKey.overflow) != 1 {
		t.Fatalf("overflow holds %d names, want 1", len(e.st.itemByKey.overflow))
	}
	for sku, stock := range map[string]int32{a: 3, b: 4} {
		if _, it := e.st.findItem([]byte(sku), []byte("S1")); it == nil || it.stock != stock {
			t.Fatalf("%s: %+v, want stock %d", sku, it, stock)
		}
	}
	if r := put(bp(a, "S1", 5), bp(b, "S1", 6), bp(b, "S1", 7)); r.Code != CodeBadRequest || r.Qty != 3 {
		t.Fatalf("a repeat behind a collision: %+v, want bad_request at item 3", r)
	}
	if err := e.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
