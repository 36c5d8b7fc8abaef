package engine

// Operator operations on items, windows and customers.

func (s *state) itemArgs(c *Command) bool { return validID(c.SKU) && validID(c.Store) }

func validSaleWindow(opens, closes int64) bool {
	return opens >= 0 && closes >= 0 && (opens == 0 || closes == 0 || closes > opens)
}

func validMemberShare(tier uint8, units, cutoff int64) bool {
	return tier <= MaxTier && units >= 0 && units <= MaxStock && cutoff >= 0 &&
		(units == 0 || (tier > 0 && cutoff > 0))
}

// putItem creates an item or changes its stock, sale window and member
// share. The per-customer limit is the SKU's (set_limit): a put_item that
// carries one is a bad request.
func (s *state) putItem(c *Command) Result {
	if !s.itemArgs(c) || c.Stock < 0 || c.Stock > MaxStock || c.Limit != 0 || !validAudit(c) ||
		!validSaleWindow(c.OpensAt, c.ClosesAt) || !validMemberShare(c.MemberTier, c.MemberUnits, c.MemberCutoff) ||
		c.MemberUnits > c.Stock { // a share larger than the stock could never be kept
		return s.refuse(CodeBadRequest)
	}
	_, it := s.findItem(c.SKU, c.Store)
	if it == nil {
		it = s.newItem(c.SKU, c.Store)
	} else {
		if int32(c.Stock) < it.promised() {
			return s.refuse(CodeBelowPromised)
		}
		if it.ext != nil && int32(c.MemberUnits) < it.ext.memberUsed && c.MemberUnits > 0 {
			return s.refuse(CodeBelowPromised)
		}
	}
	before := int64(it.stock)
	it.stock = int32(c.Stock)
	it.opensAt, it.closesAt = c.OpensAt, c.ClosesAt
	s.setShare(it, c.MemberTier, int32(c.MemberUnits), c.MemberCutoff)
	assertItem(it)
	s.changeEvent(EvItemPut, it, c, int64(it.stock)-before)
	return s.itemResult(it)
}

func (s *state) newItem(skuID, store []byte) *item {
	return s.newItemHashed(skuID, store, strHash(s.itemKey(skuID, store)))
}

// newItemHashed is newItem with the strHash of its key (itemKey).
func (s *state) newItemHashed(skuID, store []byte, h uint32) *item {
	skuIdx := s.skuIndex(skuID)
	slot := s.items.grow()
	it := s.items.at(slot)
	it.key = string(s.itemKey(skuID, store))
	it.sku = skuIdx
	s.itemByKey.putHashed(it.key, h, slot)
	s.skus[skuIdx].items = append(s.skus[skuIdx].items, slot)
	st := s.stores.get(it.storeName())
	st.items = append(st.items, slot)
	s.stats.Items++
	return it
}

// setShare sets the member share; units 0 removes it. The units members
// already took stay counted.
func (s *state) setShare(it *item, tier uint8, units int32, cutoff int64) {
	if units == 0 {
		if it.ext != nil {
			// memberUsed keeps counting what members hold, so that a share
			// set again later starts from the truth.
			it.ext.memberTier, it.ext.memberUnits, it.ext.memberCutoff = 0, 0, 0
		}
		return
	}
	if it.ext == nil {
		it.ext = &itemExt{}
	}
	it.ext.memberTier, it.ext.memberUnits, it.ext.memberCutoff = tier, units, cutoff
}

func (s *state) itemEvent(k EventKind, it *item) {
	s.emit(Event{Kind: k, SKU: it.skuName(), Store: it.storeName(), Stock: int64(it.stock)})
}

func (s *state) itemResult(it *item) Result {
	info := s.itemInfo(it)
	return Result{Item: &info}
}

func (s *state) itemOf(c *Command) (*item, Code) {
	if !s.itemArgs(c) {
		return nil, CodeBadRequest
	}
	_, it := s.findItem(c.SKU, c.Store)
	if it == nil {
		return nil, CodeUnknownItem
	}
	return it, OK
}

// putWindow creates a pickup window or changes its end or quota. The
// window must coincide with, or stay clear of, every window of the item's
// store (stores.go).
func (s *state) putWindow(c *Command) Result {
	if c.Window <= 0 || c.WindowEnd <= c.Window || c.Quota < 0 || c.Quota > MaxStock {
		return s.refuse(CodeBadRequest)
	}
	it, code := s.itemOf(c)
	if code != OK {
		return s.refuse(code)
	}
	if it.ext == nil {
		it.ext = &itemExt{}
	}
	ws := it.ext.windows
	for i := range ws {
		if ws[i].start != c.Window && ws[i].start < c.WindowEnd && c.Window < ws[i].end {
			return s.refuse(CodeWindowConflict)
		}
	}
	if s.storeConflict(it.storeName(), c.Window, c.WindowEnd) {
		return s.refuse(CodeWindowConflict)
	}
	if w := it.window(c.Window); w != nil {
		if int32(c.Quota) < w.used {
			return s.refuse(CodeBelowPromised)
		}
		w.end, w.quota = c.WindowEnd, int32(c.Quota)
	} else {
		if len(ws) >= MaxWindowsPerItem {
			return s.refuse(CodeTooMany)
		}
		i := 0
		for i < len(ws) && ws[i].start < c.Window {
			i++
		}
		ws = append(ws, window{})
		copy(ws[i+1:], ws[i:])
		ws[i] = window{start: c.Window, end: c.WindowEnd, quota: int32(c.Quota)}
		it.ext.windows = ws
	}
	w := it.window(c.Window)
	assertWindow(w)
	s.emit(Event{Kind: EvWindowPut, SKU: it.skuName(), Store: it.storeName(), Window: w.start, Qty: int64(w.quota)})
	wi := WindowInfo{Start: w.start, End: w.end, Quota: int64(w.quota), Used: int64(w.used)}
	return Result{WindowInfo: &wi}
}

func (s *state) restock(c *Command) Result {
	if c.Qty <= 0 || c.Qty > MaxQty || !validAudit(c) {
		return s.refuse(CodeBadRequest)
	}
	it, code := s.itemOf(c)
	if code != OK {
		return s.refuse(code)
	}
	if int64(it.stock)+c.Qty > MaxStock {
		return s.refuse(CodeBadRequest)
	}
	it.stock += int32(c.Qty)
	assertItem(it)
	s.changeEvent(EvStockChanged, it, c, c.Qty)
	s.stockAdded(c)
	return s.itemResult(it)
}

// adjustStock changes stock by a signed delta (a count correction); going
// below what is promised is refused.
func (s *state) adjustStock(c *Command) Result {
	if c.Qty < -MaxStock || c.Qty > MaxStock || !validAudit(c) {
		return s.refuse(CodeBadRequest)
	}
	it, code := s.itemOf(c)
	if code != OK {
		return s.refuse(code)
	}
	n := int64(it.stock) + c.Qty
	if n > MaxStock {
		return s.refuse(CodeBadRequest)
	}
	if n < int64(it.promised()) {
		return s.refuse(CodeBelowPromised)
	}
	it.stock = int32(n)
	assertItem(it)
	s.changeEvent(EvStockChanged, it, c, c.Qty)
	if c.Qty > 0 {
		s.stockAdded(c)
	}
	return s.itemResult(it)
}

func (s *state) setSaleWindow(c *Command) Result {
	if !validSaleWindow(c.OpensAt, c.ClosesAt) {
		return s.refuse(CodeBadRequest)
	}
	it, code := s.itemOf(c)
	if code != OK {
		return s.refuse(code)
	}
	it.opensAt, it.closesAt = c.OpensAt, c.ClosesAt
	s.itemEvent(EvItemPut, it)
	return s.itemResult(it)
}

func (s *state) setMemberShare(c *Command) Result {
	if !validMemberShare(c.MemberTier, c.MemberUnits, c.MemberCutoff) {
		return s.refuse(CodeBadRequest)
	}
	it, code := s.itemOf(c)
	if code != OK {
		return s.refuse(code)
	}
	if it.ext != nil && c.MemberUnits > 0 && int32(c.MemberUnits) < it.ext.memberUsed {
		return s.refuse(CodeBelowPromised)
	}
	if c.MemberUnits > int64(it.stock) {
		return s.refuse(CodeBadRequest) // a share larger than the stock could never be kept
	}
	s.setShare(it, c.MemberTier, int32(c.MemberUnits), c.MemberCutoff)
	s.itemEvent(EvItemPut, it)
	return s.itemResult(it)
}
