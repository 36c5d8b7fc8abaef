package engine

// put_items: a bulk put (docs/adr/0121). Loading a catalogue one put_item a
// request pays a frame, a decode, a proposal slot, an idempotency record and
// a result per item; a bulk put pays them once for up to MaxBulkItems items
// of one shard. Each item is exactly an update_item (its own Set names the
// settings it changes) and is checked as one; the bulk put is all or none:
// every item is planned before any changes, and the first that would be
// refused refuses the whole command, naming it. Each applied item emits its
// own item_put event, so the change feed's readers see a bulk load as the
// puts it stands for.

// MaxBulkItems bounds the items of one put_items. 4096 amortises the fixed
// costs of a command (frame, proposal, raft entry, idempotency record) a
// thousandfold, while the worst-case encoding (MaxBulkItemBytes an item:
// 64-byte ids and every setting) stays inside the protocol's default 1 MiB
// frame and one entry's apply stays a few milliseconds of the shard's time.
const MaxBulkItems = 4096

// ItemPut is one item of a put_items: the fields of an update_item.
type ItemPut struct {
	SKU, Store   []byte
	Set          ItemSet // the settings it changes (ItemSetAll: a put of every setting)
	Stock        int64
	OpensAt      int64
	ClosesAt     int64
	MemberTier   uint8
	MemberUnits  int64
	MemberCutoff int64
}

// The value fields of an ItemPut, as bits of a mask of those that are
// nonzero (Present): both encodings of a bulk put, the protocol's and the
// raft entry's, write the mask and then the fields it names, in this order.
const (
	ItemHasStock = 1 << iota
	ItemHasOpensAt
	ItemHasClosesAt
	ItemHasMemberTier
	ItemHasMemberUnits
	ItemHasMemberCutoff
	ItemHasKnown = 1<<iota - 1 // every bit a mask may have
)

// Present returns the mask of p's nonzero value fields (ItemHasStock ...).
func (p *ItemPut) Present() uint8 {
	var m uint8
	for i, nonzero := range [...]bool{p.Stock != 0, p.OpensAt != 0, p.ClosesAt != 0,
		p.MemberTier != 0, p.MemberUnits != 0, p.MemberCutoff != 0} {
		if nonzero {
			m |= 1 << i
		}
	}
	return m
}

// asUpdate returns the update_item the item stands for, with the bulk
// put's audit fields.
func (p *ItemPut) asUpdate(bulk *Command) Command {
	return Command{Op: OpUpdateItem, SKU: p.SKU, Store: p.Store, Set: p.Set, Stock: p.Stock,
		OpensAt: p.OpensAt, ClosesAt: p.ClosesAt,
		MemberTier: p.MemberTier, MemberUnits: p.MemberUnits, MemberCutoff: p.MemberCutoff,
		Actor: bulk.Actor, Reason: bulk.Reason}
}

// putItems plans every item, then applies them all. A refusal's Qty is the
// refused item's place in the list, from 1 (0: the command as a whole);
// success's Qty is the number of items put.
func (s *state) putItems(c *Command) Result {
	if len(c.Items) == 0 || len(c.Items) > MaxBulkItems || !validAudit(c) || !bulkOnly(c) {
		return s.refuse(CodeBadRequest)
	}
	plans := s.bulk.plans[:0]
	clear(s.bulk.seen)
	for i := range c.Items {
		p := &c.Items[i]
		// The key's hash, once for the three uses: the repeat check, the
		// lookup, and a new item's index entry.
		h := strHash(s.itemKey(p.SKU, p.Store))
		if !s.isStoreShard(p.Store) || s.bulkRepeat(c.Items, i, h) {
			// An item of another shard would be lost here; an item named
			// twice would be planned against a state its twin changes.
			return s.refuseItem(CodeBadRequest, i)
		}
		up := p.asUpdate(c)
		u, code := s.planUpdateHashed(&up, h)
		if code != OK {
			return s.refuseItem(code, i)
		}
		plans = append(plans, u)
	}
	s.bulk.plans = plans[:0]
	actor, reason := string(c.Actor), string(c.Reason)
	for i := range c.Items {
		up := c.Items[i].asUpdate(c)
		s.applyUpdate(&up, plans[i], actor, reason)
	}
	return Result{Qty: int64(len(c.Items))}
}

// bulkOnly reports whether c carries nothing but its items and the fields
// every change may carry: a field the bulk put would silently ignore is a
// bad request.
func bulkOnly(c *Command) bool {
	return len(c.SKU) == 0 && len(c.Store) == 0 && len(c.Customer) == 0 && c.Set == 0 &&
		c.Stock == 0 && c.OpensAt == 0 && c.ClosesAt == 0 && c.MemberTier == 0 &&
		c.MemberUnits == 0 && c.MemberCutoff == 0 && c.Limit == 0 && c.Qty == 0
}

func (s *state) refuseItem(code Code, i int) Result {
	r := s.refuse(code)
	r.Qty = int64(i + 1)
	return r
}

// bulkPlans is put_items' scratch, reused from one bulk put to the next:
// the plans of its items, and the items seen so far by their key's hash.
type bulkPlans struct {
	plans []itemUpdate
	seen  map[uint32]int32
}

// bulkRepeat reports whether items[i], whose key (itemKey) hashes to h,
// names the same item as an earlier one of the list, and records it. A
// hash hit is confirmed on the keys; a collision of different keys (rare)
// falls back to comparing with every earlier item, so the answer is exact.
func (s *state) bulkRepeat(items []ItemPut, i int, h uint32) bool {
	if s.bulk.seen == nil {
		s.bulk.seen = make(map[uint32]int32, MaxBulkItems)
	}
	j, hit := s.bulk.seen[h]
	if !hit {
		s.bulk.seen[h] = int32(i)
		return false
	}
	if sameItem(&items[j], &items[i]) {
		return true
	}
	for k := range i {
		if sameItem(&items[k], &items[i]) {
			return true
		}
	}
	return false
}

func sameItem(a, b *ItemPut) bool {
	return string(a.SKU) == string(b.SKU) && string(a.Store) == string(b.Store)
}

// fingerprintItems folds a bulk put's items into an idempotency
// fingerprint: a key sent again with other items is a key conflict.
func fingerprintItems(h uint64, items []ItemPut) uint64 {
	for i := range items {
		p := &items[i]
		h = fnvU64(h, uint64(len(p.SKU)))
		h = fnv64(h, p.SKU)
		h = fnvU64(h, uint64(len(p.Store)))
		h = fnv64(h, p.Store)
		for _, v := range [...]int64{int64(p.Set), p.Stock, p.OpensAt, p.ClosesAt,
			int64(p.MemberTier), p.MemberUnits, p.MemberCutoff} {
			h = fnvU64(h, uint64(v))
		}
	}
	return h
}
