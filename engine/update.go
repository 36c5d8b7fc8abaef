package engine

// update_item: a put that changes only the settings it names (docs/adr/0100).
// put_item replaces every setting of an item, so a put that gives only the
// stock silently removes the sale window and the member share; an update
// names what it changes in Set and leaves the rest alone. A named setting
// whose fields are zero is cleared: that is the explicit way to remove one.

// ItemSet names the settings of an item an update_item changes.
type ItemSet uint8

const (
	SetStock       ItemSet = 1 << iota // Stock
	SetOpensAt                         // OpensAt (0: open since forever)
	SetClosesAt                        // ClosesAt (0: never closes)
	SetMemberShare                     // MemberTier, MemberUnits, MemberCutoff (units 0: no share)

	SetSaleWindow = SetOpensAt | SetClosesAt
	ItemSetAll    = SetStock | SetSaleWindow | SetMemberShare
)

// MaxReasonBytes bounds the reason text of a stock or settings change: a
// sentence ("count after the stocktake of aisle 4") fits, and it stays
// inside one length byte of the wire and of the change feed.
const MaxReasonBytes = 200

// validUpdate reports whether c names at least one known setting, carries
// no field of a setting it does not name (a request cannot smuggle a value
// the engine would silently ignore), and gives valid values for the rest.
func validUpdate(c *Command) bool {
	if c.Set == 0 || c.Set&^ItemSetAll != 0 || c.Limit != 0 {
		return false
	}
	if c.Set&SetStock == 0 && c.Stock != 0 {
		return false
	}
	if c.Set&SetOpensAt == 0 && c.OpensAt != 0 || c.Set&SetClosesAt == 0 && c.ClosesAt != 0 {
		return false
	}
	if c.Set&SetMemberShare == 0 && (c.MemberTier != 0 || c.MemberUnits != 0 || c.MemberCutoff != 0) {
		return false
	}
	return c.Stock >= 0 && c.Stock <= MaxStock && validMemberShare(c.MemberTier, c.MemberUnits, c.MemberCutoff)
}

// updateItem creates the item if new (stock 0 unless named) and changes the
// named settings. Everything is checked before anything changes.
func (s *state) updateItem(c *Command) Result {
	u, code := s.planUpdate(c)
	if code != OK {
		return s.refuse(code)
	}
	it := s.applyUpdate(c, u, string(c.Actor), string(c.Reason))
	return s.itemResult(it)
}

// itemUpdate is what an update_item changes, decided by planUpdate before
// anything changes: put_items plans every item before it applies one.
type itemUpdate struct {
	it                   *item  // nil: a new item
	hash                 uint32 // strHash of the item's key: a new item is indexed under it
	stock, opens, closes int64
}

// planUpdate checks an update_item against the state and returns what it
// will change, or the code that refuses it. It changes nothing.
func (s *state) planUpdate(c *Command) (itemUpdate, Code) {
	return s.planUpdateHashed(c, strHash(s.itemKey(c.SKU, c.Store)))
}

// planUpdateHashed is planUpdate given h, the strHash of the item's key
// (itemKey).
func (s *state) planUpdateHashed(c *Command, h uint32) (itemUpdate, Code) {
	if !s.itemArgs(c) || !validUpdate(c) || len(c.Reason) > MaxReasonBytes || len(c.Actor) > MaxIDBytes {
		return itemUpdate{}, CodeBadRequest
	}
	_, it := s.lookupItemHashed(s.itemKey(c.SKU, c.Store), h)
	u := itemUpdate{it: it, hash: h}
	var units int64
	if it != nil {
		u.stock, u.opens, u.closes = int64(it.stock), it.opensAt, it.closesAt
		if it.ext != nil {
			units = int64(it.ext.memberUnits)
		}
	}
	pick := func(bit ItemSet, v *int64, to int64) {
		if c.Set&bit != 0 {
			*v = to
		}
	}
	pick(SetStock, &u.stock, c.Stock)
	pick(SetMemberShare, &units, c.MemberUnits)
	pick(SetOpensAt, &u.opens, c.OpensAt)
	pick(SetClosesAt, &u.closes, c.ClosesAt)
	if units > u.stock || !validSaleWindow(u.opens, u.closes) {
		// A share larger than the stock could never be kept; the sale
		// window is checked as it will be, one end changed or both.
		return itemUpdate{}, CodeBadRequest
	}
	if it != nil {
		if u.stock < int64(it.promised()) {
			return itemUpdate{}, CodeBelowPromised
		}
		if it.ext != nil && units > 0 && int32(units) < it.ext.memberUsed {
			return itemUpdate{}, CodeBelowPromised
		}
	}
	return u, OK
}

// applyUpdate makes the change planUpdate decided and emits its event,
// which names actor and reason (converted once by put_items for all its
// items).
func (s *state) applyUpdate(c *Command, u itemUpdate, actor, reason string) *item {
	it := u.it
	if it == nil {
		it = s.newItemHashed(c.SKU, c.Store, u.hash)
	}
	before := int64(it.stock)
	it.stock = int32(u.stock)
	it.opensAt, it.closesAt = u.opens, u.closes
	if c.Set&SetMemberShare != 0 {
		s.setShare(it, c.MemberTier, int32(c.MemberUnits), c.MemberCutoff)
	}
	assertItem(it)
	s.emit(Event{Kind: EvItemPut, SKU: it.skuName(), Store: it.storeName(), Stock: int64(it.stock),
		Qty: int64(it.stock) - before, Actor: actor, Reason: reason})
	return it
}

// validAudit reports whether the who and why of a change fit their bounds.
func validAudit(c *Command) bool {
	return len(c.Reason) <= MaxReasonBytes && len(c.Actor) <= MaxIDBytes
}

// changeEvent emits an item's event carrying the change of stock (delta,
// in Qty) and who made it and why.
func (s *state) changeEvent(k EventKind, it *item, c *Command, delta int64) {
	s.emit(Event{Kind: k, SKU: it.skuName(), Store: it.storeName(), Stock: int64(it.stock),
		Qty: delta, Actor: string(c.Actor), Reason: string(c.Reason)})
}
