package engine

// The reference model of review (review.go, docs/adr/0107). The model
// computes two screening marks, first_order (a customer's first reservation
// at the shard) and loyal (tier MarkLoyalTier or LoyalPickups pickups), and
// the generator draws mark rules of those marks alone, refusing or holding
// back, so that the model knows every reserve a rule hits: a refusing rule refuses it marked, a holding one makes a hold under
// review that confirm and extend refuse until release_review, and that
// ends, released or not, with the hold. TestModel compares every result,
// UnderReview included, with the engine's.

// markRule applies the item's rule to a reserve by cu: hold it back, or
// refuse it marked.
func (m *refModel) markRule(it *refItem, cu *refCust) (holdBack bool, code Code) {
	var marks Marks
	if cu.orders == 0 {
		marks |= MarkFirstOrder
	}
	if cu.tier >= MarkLoyalTier || cu.pickups >= int64(m.cfg.Marks.LoyalPickups) {
		marks |= MarkLoyal
	}
	switch {
	case it.rule&marks == 0:
		return false, OK
	case it.rule&RuleHoldBack != 0:
		return true, OK
	}
	return false, CodeMarked
}

func (m *refModel) setMarkRule(c *Command) Result {
	if !refValidID(c.SKU) || !refValidID(c.Store) || !validRule(c.Marks) {
		return refBad(CodeBadRequest)
	}
	it := m.items[refItemKey{string(c.SKU), string(c.Store)}]
	if it == nil {
		return refBad(CodeUnknownItem)
	}
	it.rule = c.Marks
	return Result{Marks: c.Marks}
}

func (m *refModel) releaseReview(c *Command) Result {
	r, code := m.target(c, StateHeld)
	if code != OK {
		return refBad(code)
	}
	if !r.review {
		return refBad(CodeWrongState)
	}
	r.review = false
	m.released++
	return refResResult(r)
}

// reviewReplay is a replayed reserve's answer: its hold's review as it
// stands now, as the engine reads it off the reservation.
func (m *refModel) reviewReplay(c *Command, res Result) Result {
	if c.Op == OpReserve && res.Code == OK {
		if r := m.res[res.ID]; r != nil {
			res.UnderReview = r.review
		}
	}
	return res
}

// review draws a mark rule of first_order or loyal (holding back mostly,
// refusing now and then, cleared, or the action alone: a bad request) or a
// release: half of them of a hold under review, when a recent one is, the
// others of any held one (mostly refused wrong_state). Releases of any
// held one alone reached a hold under review in about one run in four of
// 10,000 commands.
func (g *refGen) review() Command {
	if g.chance(60) {
		if g.chance(50) {
			return Command{Op: OpReleaseReview, ID: g.pickUnderReview()}
		}
		return Command{Op: OpReleaseReview, ID: g.pick(StateHeld)}
	}
	sku, store := g.itemRef()
	rule := []Marks{MarkFirstOrder | RuleHoldBack, MarkLoyal | RuleHoldBack, MarkLoyal | MarkFirstOrder | RuleHoldBack,
		0, MarkFirstOrder, MarkLoyal, RuleHoldBack}[g.r.IntN(7)]
	return Command{Op: OpSetMarkRule, SKU: sku, Store: store, Marks: rule}
}

// pickUnderReview returns the newest of the last 400 reservations that is
// held under review, or else what pick(StateHeld) returns.
func (g *refGen) pickUnderReview() uint64 {
	for i := range min(len(g.ids), 400) {
		id := g.ids[len(g.ids)-1-i]
		if r := g.m.res[id]; r != nil && r.state == StateHeld && r.review {
			return id
		}
	}
	return g.pick(StateHeld)
}
