package raftstore

import (
	"encoding/binary"

	"github.com/invsys/inv/engine"
)

// A bulk put's items in a command (field fItems, docs/adr/0121):
//
//	count   uvarint  1..engine.MaxBulkItems
//	item × count:
//	  set    byte     the settings it changes (engine.ItemSet)
//	  fields byte     which of stock, opens_at, closes_at, member_tier,
//	                  member_units, member_cutoff follow (bits 0..5), each
//	                  nonzero
//	  sku    byte length (0..MaxFieldBytes), bytes
//	  store  byte length, bytes
//	  the fields present, in that order: varints, member_tier a byte
//
// Every item field is carried as it is, named by its Set or not: the
// replicas apply exactly what the leader was given, and the engine refuses
// an item that carries a setting it does not name. The fields' bits are
// engine.ItemHas*, the mask engine.ItemPut.Present.

func checkItems(items []engine.ItemPut) error {
	if len(items) > engine.MaxBulkItems {
		return ErrFieldTooLarge
	}
	for i := range items {
		if len(items[i].SKU) > MaxFieldBytes || len(items[i].Store) > MaxFieldBytes {
			return ErrFieldTooLarge
		}
	}
	return nil
}

func appendItems(dst []byte, items []engine.ItemPut) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(items)))
	for i := range items {
		p := &items[i]
		m := p.Present()
		dst = append(dst, byte(p.Set), m, byte(len(p.SKU)))
		dst = append(dst, p.SKU...)
		dst = append(dst, byte(len(p.Store)))
		dst = append(dst, p.Store...)
		for _, v := range [...]int64{p.Stock, p.OpensAt, p.ClosesAt} {
			if v != 0 {
				dst = binary.AppendVarint(dst, v)
			}
		}
		if p.MemberTier != 0 {
			dst = append(dst, p.MemberTier)
		}
		for _, v := range [...]int64{p.MemberUnits, p.MemberCutoff} {
			if v != 0 {
				dst = binary.AppendVarint(dst, v)
			}
		}
	}
	return dst
}

// decodeItems decodes a bulk put's items from the front of b into c.Items
// and returns the rest. Ids alias b; the list is allocated once, bounded
// by the count the bytes can hold.
func decodeItems(b []byte, c *engine.Command) ([]byte, error) {
	n, k := readUvarint(b)
	const minItemLen = 4 // set, fields, two empty ids
	if k <= 0 || n == 0 || n > engine.MaxBulkItems || n*minItemLen > uint64(len(b)-k) {
		return nil, ErrEntryCorrupt
	}
	b = b[k:]
	c.Items = make([]engine.ItemPut, n)
	for i := range c.Items {
		var ok bool
		if b, ok = decodeItem(b, &c.Items[i]); !ok {
			return nil, ErrEntryCorrupt
		}
	}
	return b, nil
}

func decodeItem(b []byte, p *engine.ItemPut) ([]byte, bool) {
	if len(b) < 2 || b[1]&^engine.ItemHasKnown != 0 {
		return nil, false
	}
	p.Set = engine.ItemSet(b[0])
	m := b[1]
	b = b[2:]
	for _, id := range [2]*[]byte{&p.SKU, &p.Store} {
		if len(b) == 0 || int(b[0]) > len(b)-1 {
			return nil, false
		}
		if n := int(b[0]); n > 0 { // an empty id stays nil
			*id = b[1 : 1+n : 1+n]
		}
		b = b[1+int(b[0]):]
	}
	ok := true
	varint := func(bit byte, v *int64) {
		if m&bit == 0 || !ok {
			return
		}
		x, n := readVarint(b)
		if n <= 0 || x == 0 {
			ok = false
			return
		}
		*v, b = x, b[n:]
	}
	varint(engine.ItemHasStock, &p.Stock)
	varint(engine.ItemHasOpensAt, &p.OpensAt)
	varint(engine.ItemHasClosesAt, &p.ClosesAt)
	if ok && m&engine.ItemHasMemberTier != 0 {
		if len(b) == 0 || b[0] == 0 {
			return nil, false
		}
		p.MemberTier, b = b[0], b[1:]
	}
	varint(engine.ItemHasMemberUnits, &p.MemberUnits)
	varint(engine.ItemHasMemberCutoff, &p.MemberCutoff)
	return b, ok
}
