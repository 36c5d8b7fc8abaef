package protocol

import (
	"strconv"

	"github.com/invsys/inv/engine"
)

// A put_items request carries its items in field items (docs/PROTOCOL.md,
// docs/adr/0121):
//
//	u16  count (1..MaxBulkItems)
//	item × count:
//	  u8   set: the settings it changes (engine.ItemSet, as update_item's)
//	  u8   fields: which of stock, opens_at, closes_at, member_tier,
//	       member_units, member_cutoff follow (bits 0..5), each nonzero
//	  str8 sku, str8 store (<= MaxIDBytes each)
//	  i64 stock, i64 opens_at, i64 closes_at, u8 member_tier,
//	  i64 member_units, i64 member_cutoff: those present, in that order
//
// Every field is carried as it is, named by set or not, so that the
// engine, which refuses an item carrying a setting it does not name,
// judges what the client sent.
//
// The fields' bits are engine.ItemHas*, the mask engine.ItemPut.Present.

// minBulkItemBytes is the least an item takes on the wire (set, fields and
// two empty ids): the decoder checks a count against it before it
// allocates the list.
const minBulkItemBytes = 4

// checkItems reports why a put_items' items cannot be sent, naming the
// item (from 1, as the engine's refusal does).
func checkItems(items []engine.ItemPut) error {
	if len(items) > MaxBulkItems {
		return tooLarge("put_items items", len(items), MaxBulkItems)
	}
	for i := range items {
		for _, f := range [...]struct {
			what string
			n    int
		}{{"sku bytes", len(items[i].SKU)}, {"store bytes", len(items[i].Store)}} {
			if f.n > MaxIDBytes {
				return tooLarge("item "+strconv.Itoa(i+1)+" "+f.what, f.n, MaxIDBytes)
			}
		}
	}
	return nil
}

// ItemsBytesMax bounds the bytes items take in a put_items request (the
// count and each item with every field), so that a writer packing requests
// into one frame (a client's BATCH) can tell whether a bulk put fits.
func ItemsBytesMax(items []engine.ItemPut) int {
	n := 2
	for i := range items {
		n += 2 + 2 + len(items[i].SKU) + len(items[i].Store) + 5*8 + 1
	}
	return n
}

func appendItems(dst []byte, items []engine.ItemPut) []byte {
	dst = appendCount(dst, len(items), MaxBulkItems, "put_items items")
	for i := range items {
		p := &items[i]
		m := p.Present()
		dst = append(dst, uint8(p.Set), m)
		dst = appendStr8(dst, p.SKU, MaxIDBytes, "item sku")
		dst = appendStr8(dst, p.Store, MaxIDBytes, "item store")
		for _, f := range [...]struct {
			bit uint8
			v   int64
		}{{engine.ItemHasStock, p.Stock}, {engine.ItemHasOpensAt, p.OpensAt}, {engine.ItemHasClosesAt, p.ClosesAt}} {
			if m&f.bit != 0 {
				dst = appendI64(dst, f.v)
			}
		}
		if m&engine.ItemHasMemberTier != 0 {
			dst = append(dst, p.MemberTier)
		}
		if m&engine.ItemHasMemberUnits != 0 {
			dst = appendI64(dst, p.MemberUnits)
		}
		if m&engine.ItemHasMemberCutoff != 0 {
			dst = appendI64(dst, p.MemberCutoff)
		}
	}
	return dst
}

// decodeItems reads a put_items' items. The ids alias the payload; the
// list is allocated once, after its count is checked against the limit
// and against the bytes left.
func decodeItems(c *cursor) []engine.ItemPut {
	n := c.count(MaxBulkItems, minBulkItemBytes, "put_items items")
	if c.err != nil {
		return nil
	}
	c.nonzero(n != 0)
	items := make([]engine.ItemPut, n)
	for i := range items {
		p := &items[i]
		p.Set = engine.ItemSet(c.u8())
		m := c.u8()
		if m&^engine.ItemHasKnown != 0 {
			c.fail(malformed("item " + strconv.Itoa(i+1) + ": reserved field bit set"))
		}
		p.SKU = nilIfEmpty(c.str8(MaxIDBytes, "item sku bytes"))
		p.Store = nilIfEmpty(c.str8(MaxIDBytes, "item store bytes"))
		i64 := func(bit uint8, v *int64) {
			if m&bit != 0 {
				*v = c.i64()
				c.nonzero(*v != 0)
			}
		}
		i64(engine.ItemHasStock, &p.Stock)
		i64(engine.ItemHasOpensAt, &p.OpensAt)
		i64(engine.ItemHasClosesAt, &p.ClosesAt)
		if m&engine.ItemHasMemberTier != 0 {
			p.MemberTier = c.u8()
			c.nonzero(p.MemberTier != 0)
		}
		i64(engine.ItemHasMemberUnits, &p.MemberUnits)
		i64(engine.ItemHasMemberCutoff, &p.MemberCutoff)
		if c.err != nil {
			return nil
		}
	}
	return items
}

// nilIfEmpty keeps an empty id nil, as an absent field decodes: one value,
// one form.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
