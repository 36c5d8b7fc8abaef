package engine

// Customers across shards (docs/adr/0072). A customer's HOME shard
// (CustomerShard) owns its block, its tier and its no-show history: block,
// unblock and set_tier are applied there only, and each appends a
// customer_copy message (the block and the tier) to the outbox for every
// other shard, which keeps the copy in its own customer record for its
// reserve checks (no crossing on the reserve path). A no-show in a shard
// that is not the customer's home appends a no_show message to the home,
// which counts it within the no-show rule's window and, when the rule
// trips, blocks the customer and pushes the copies. The outbox (outbox.go)
// delivers each message once and in order per (from, to), and only the
// home sends copies, so a shard applies a customer's copies in the order
// the home made them.

// The block a customer_copy carries (in the command's Qty).
const (
	BlockNone     uint8 = 0 // not blocked
	BlockOperator uint8 = 1 // blocked by an operator
	BlockNoShows  uint8 = 2 // blocked by the no-show rule
)

// isHome reports whether this shard is the customer's home. With one
// shard (or none configured) every customer is at home.
func (s *state) isHome(customer []byte) bool {
	return s.cfg.Shards <= 1 || CustomerShard(customer, s.cfg.Shards) == int(s.cfg.ShardID)
}

// homeOf returns the customer's home shard.
func (s *state) homeOf(customer string) uint16 {
	return uint16(CustomerShard([]byte(customer), s.cfg.Shards))
}

// blockOf is the block a customer_copy carries for cu.
func blockOf(cu *customer) uint8 {
	switch {
	case cu.autoBlocked:
		return BlockNoShows
	case cu.blocked:
		return BlockOperator
	}
	return BlockNone
}

// customerOp blocks, unblocks or sets the tier of a customer (created if
// new), at its home only: another shard keeps a copy the home pushes, and
// a change made there would be overwritten by the next copy.
func (s *state) customerOp(c *Command) Result {
	if !validID(c.Customer) || (c.Op == OpSetTier && c.Tier > MaxTier) || !s.isHome(c.Customer) {
		return s.refuse(CodeBadRequest)
	}
	_, cu := s.customer(c.Customer)
	switch c.Op {
	case OpBlock:
		cu.blocked = true
	case OpUnblock:
		cu.blocked, cu.autoBlocked = false, false
		cu.noShows = nil // a lifted block starts the no-show count afresh
	case OpSetTier:
		cu.tier = c.Tier
	}
	s.emit(Event{Kind: EvCustomer, Customer: cu.id, Tier: cu.tier, Blocked: cu.blocked})
	info := s.customerInfo(cu)
	// Always pushed, changed or not: the operator's answer waits for these
	// copies, and an earlier copy may still be on its way.
	return Result{Customer: &info, Copies: s.pushCopies(cu)}
}

// pushCopies appends a customer_copy of cu for every other shard and
// returns the messages.
func (s *state) pushCopies(cu *customer) []MessageRef {
	if s.cfg.Shards <= 1 {
		return nil
	}
	refs := make([]MessageRef, 0, s.cfg.Shards-1)
	for to := range s.cfg.Shards {
		if uint16(to) == s.cfg.ShardID {
			continue
		}
		s.send(uint16(to), Message{Op: OpCustomerCopy, Customer: cu.id, At: s.now, Tier: cu.tier, Block: blockOf(cu)})
		refs = append(refs, s.sent)
	}
	s.sent = MessageRef{} // Sent names a claim's release; the copies are in Copies
	return refs
}

// customerCopy applies the home's copy of a customer's block and tier (a
// delivered message). A copy that changes nothing emits nothing.
func (s *state) customerCopy(c *Command) Result {
	if c.Seq == 0 || !validID(c.Customer) || s.isHome(c.Customer) || c.Tier > MaxTier || c.Qty < 0 || c.Qty > int64(BlockNoShows) ||
		c.FromShard != s.homeOf(string(c.Customer)) {
		return s.refuse(CodeBadRequest)
	}
	_, cu := s.customer(c.Customer)
	blocked, auto := c.Qty != int64(BlockNone), c.Qty == int64(BlockNoShows)
	if cu.blocked == blocked && cu.autoBlocked == auto && cu.tier == c.Tier {
		return Result{}
	}
	cu.blocked, cu.autoBlocked, cu.tier = blocked, auto, c.Tier
	s.emit(Event{Kind: EvCustomer, Customer: cu.id, Tier: cu.tier, Blocked: cu.blocked})
	return Result{}
}

// noShowAt handles a no-show of cu's reservation id at this shard's time:
// counted here at the customer's home, else sent there.
func (s *state) noShowAt(cu *customer, id uint64) {
	if s.cfg.NoShowLimit < 0 {
		return
	}
	if !s.isHome([]byte(cu.id)) {
		s.send(s.homeOf(cu.id), Message{Op: OpNoShow, Customer: cu.id, ID: id, At: s.now})
		s.sent = MessageRef{} // nobody waits for a no-show's count
		return
	}
	s.countNoShow(cu, s.now)
}

// noShowMsg counts a no-show another shard sent to this home (a delivered
// message; Deadline is the no-show's time there).
func (s *state) noShowMsg(c *Command) Result {
	if c.Seq == 0 || !validID(c.Customer) || !s.isHome(c.Customer) || c.Deadline <= 0 || c.ID == 0 {
		return s.refuse(CodeBadRequest)
	}
	if s.cfg.NoShowLimit < 0 {
		return Result{}
	}
	_, cu := s.customer(c.Customer)
	s.countNoShow(cu, c.Deadline)
	return Result{}
}

// countNoShow records a no-show at time at in the home's history (kept in
// time order: no-shows from several shards arrive in any order) and
// applies the no-show rule: NoShowLimit no-shows within NoShowPeriod block
// the customer, and the block's copies go to every other shard.
func (s *state) countNoShow(cu *customer, at int64) {
	since := s.now - int64(s.cfg.NoShowPeriod)
	kept := cu.noShows[:0]
	for _, t := range cu.noShows {
		if t > since {
			kept = append(kept, t)
		}
	}
	cu.noShows = kept
	if at <= since {
		return // older than the window (a message delayed that long): it no longer counts
	}
	i := len(cu.noShows)
	for i > 0 && cu.noShows[i-1] > at {
		i--
	}
	cu.noShows = append(cu.noShows, 0)
	copy(cu.noShows[i+1:], cu.noShows[i:])
	cu.noShows[i] = at
	if len(cu.noShows) >= s.cfg.NoShowLimit && !cu.blocked {
		cu.blocked, cu.autoBlocked = true, true
		s.emit(Event{Kind: EvCustomer, Customer: cu.id, Tier: cu.tier, Blocked: true})
		s.pushCopies(cu)
	}
}
