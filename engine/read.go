package engine

import (
	"sort"
)

// read serves the read-only ops. It never changes state.
func (s *state) read(c *Command) Result {
	switch c.Op {
	case OpGetWaitlist:
		return s.getWaitlist(c)
	case OpGetCoupon:
		return s.getCoupon(c)
	case OpGetCouponIssue:
		return s.getCouponIssue(c)
	case OpGetItem:
		it, code := s.itemOf(c)
		if code != OK {
			return Result{Code: code}
		}
		return s.itemResult(it)
	case OpGetWindow:
		it, code := s.itemOf(c)
		if code != OK {
			return Result{Code: code}
		}
		w := it.window(c.Window)
		if w == nil {
			return Result{Code: CodeUnknownWindow}
		}
		wi := WindowInfo{Start: w.start, End: w.end, Quota: int64(w.quota), Used: int64(w.used)}
		return Result{WindowInfo: &wi}
	case OpGetReservation:
		r := s.findRes(c.ID)
		if r == nil {
			return Result{Code: CodeNotFound}
		}
		info := s.resInfo(r)
		res := resResult(r)
		res.Reservation = &info
		return res
	case OpGetCustomer:
		if !validID(c.Customer) {
			return Result{Code: CodeBadRequest}
		}
		_, cu := s.findCustomer(c.Customer)
		if cu == nil {
			return Result{Code: CodeNotFound}
		}
		info := s.customerInfo(cu)
		return Result{Customer: &info}
	case OpListReservations:
		if !validID(c.Customer) {
			return Result{Code: CodeBadRequest}
		}
		_, cu := s.findCustomer(c.Customer)
		if cu == nil {
			return Result{Reservations: []ReservationInfo{}}
		}
		out := make([]ReservationInfo, 0, len(cu.resIDs))
		for _, id := range cu.resIDs {
			out = append(out, s.resInfo(s.findRes(id)))
		}
		return Result{Reservations: out}
	case OpStoresWithStock:
		if !validID(c.SKU) {
			return Result{Code: CodeBadRequest}
		}
		out := []StoreStock{}
		if k, ok := s.skuByName[string(c.SKU)]; ok {
			for _, slot := range s.skus[k].items {
				it := s.items.at(slot)
				if a := it.available() - s.memberReserved(it); a > 0 {
					out = append(out, StoreStock{Store: it.storeName(), Available: int64(a)})
				}
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Store < out[j].Store })
		return Result{Stores: out}
	case OpListItems:
		if len(c.SKU) > MaxIDBytes {
			return Result{Code: CodeBadRequest}
		}
		if len(c.SKU) > 0 {
			// One SKU's items from its own list (in the order they were
			// made, as the whole list's): a scan of every item took the
			// shard's read lock for milliseconds a call at 6M items a node.
			k, ok := s.skuByName[string(c.SKU)]
			if !ok {
				return Result{Items: []ItemInfo{}}
			}
			out := make([]ItemInfo, 0, len(s.skus[k].items))
			for _, slot := range s.skus[k].items {
				out = append(out, s.itemInfo(s.items.at(slot)))
			}
			return Result{Items: out}
		}
		out := make([]ItemInfo, 0, s.items.len())
		for i := uint32(0); i < s.items.len(); i++ {
			out = append(out, s.itemInfo(s.items.at(i)))
		}
		return Result{Items: out}
	case OpGetStore:
		return s.getStore(c)
	case OpStoreItems:
		return s.storeItems(c)
	case OpGetClaim:
		return s.getClaim(c)
	case OpGetClaimHold:
		return s.getClaimHold(c)
	case OpListByMark:
		return s.listByMark(c)
	case OpGetMarkRule:
		return s.getMarkRule(c)
	}
	return Result{Code: CodeBadRequest}
}

func (s *state) itemInfo(it *item) ItemInfo {
	info := ItemInfo{SKU: it.skuName(), Store: it.storeName(), Stock: int64(it.stock),
		Held: int64(it.held), Confirmed: int64(it.confirmed), PickedUp: int64(it.pickedUp),
		Available: int64(it.available()), Limit: int64(s.skuLimit(it)), OpensAt: it.opensAt, ClosesAt: it.closesAt}
	if x := it.ext; x != nil {
		info.MemberTier, info.MemberUnits, info.MemberUsed, info.MemberCutoff =
			x.memberTier, int64(x.memberUnits), int64(x.memberUsed), x.memberCutoff
		for _, w := range x.windows {
			info.Windows = append(info.Windows, WindowInfo{Start: w.start, End: w.end, Quota: int64(w.quota), Used: int64(w.used)})
		}
	}
	return info
}

func (s *state) customerInfo(cu *customer) CustomerInfo {
	n := 0
	since := s.now - int64(s.cfg.NoShowPeriod)
	for _, t := range cu.noShows {
		if t > since {
			n++
		}
	}
	return CustomerInfo{ID: cu.id, Tier: cu.tier, Blocked: cu.blocked, AutoBlocked: cu.autoBlocked,
		NoShows: int64(n), Open: int64(cu.active)}
}

func (s *state) resInfo(r *reservation) ReservationInfo {
	it := s.items.at(r.item)
	info := ReservationInfo{ID: r.id, SKU: it.skuName(), Store: it.storeName(),
		Customer: s.customers.at(r.cust).id, Qty: int64(r.qty), Window: r.window, State: r.state,
		CreatedAt: r.createdAt, ExpiresAt: r.expiresAt, UpdatedAt: r.updatedAt, PickupCode: r.code,
		Attempts: int64(r.attempts), Locked: r.locked, Marks: r.markSet(), UnderReview: r.underReview()}
	if r.cl != nil {
		info.Claim, info.Provisional = r.cl.key, r.claimSt == claimProvisional
	}
	return info
}
