package engine

// apply runs one batch: first what time has made due, then the commands in
// order, their results appended to s.results (which the caller has set).
func (s *state) apply(now int64, cmds []Command) ([]Result, []Event) {
	if now > s.now {
		s.now = now
	}
	s.events = s.events[:0]
	s.expireWaits()
	s.expireCoupons()
	s.expireDue()
	s.promoteFreed() // the units expiry freed go to the heads of their lines first
	// Resolved claims and holds leave stale entries; the sweeps' reads
	// (ClaimsDue, ProvisionalDue) find the live ones first.
	if len(s.claims.pending) > 0 {
		s.claims.pending.dropStale(s.claims.pendingLive)
	}
	if len(s.holds.provisional) > 0 {
		s.holds.provisional.dropStale(s.provisionalLive)
	}
	s.idem.age(s.now - int64(s.cfg.IdempotencyRetention))
	if s.claims.answers.len() > 0 {
		s.claims.age(s.now - int64(s.cfg.claimAnswerRetention()))
	}
	s.collectFinished()
	s.ageMarks()
	for i := 0; i < len(cmds); {
		if !cmds[i].Linked {
			s.results = append(s.results, s.applyKeyed(&cmds[i]))
			s.promoteFreed()
			i++
			continue
		}
		n := chainLen(cmds[i:])
		s.applyLinked(cmds[i : i+n])
		s.promoteFreed() // after the group is decided: a failed one freed nothing
		i += n
	}
	s.stats.IdempotencyKeys = int64(s.idem.len()) // once per batch: keys stored, also by linked groups, and keys aged out
	if invariantsOn {
		if err := s.check(); err != nil {
			panic("engine: invariant broken: " + err.Error())
		}
	}
	return s.results, s.events
}

// chainLen returns the length of the linked chain starting at cmds[0]: up to
// and including the first command without Linked, or to the end of the batch.
func chainLen(cmds []Command) int {
	for i := range cmds {
		if !cmds[i].Linked {
			return i + 1
		}
	}
	return len(cmds)
}

// linkable commands: the storefront's reservation path, and a resolve that
// makes a provisional hold firm (so that the coordinator can resolve and
// confirm in one entry). Pickup is not (a failed group would undo the count
// of a wrong code); operator ops are not; nor a resolve with a refusal (it
// rewrites its reserve's idempotency record, which a group cannot undo).
func linkable(c *Command) bool {
	switch c.Op {
	case OpReserve, OpConfirm, OpExtend, OpCancel, OpReschedule, OpReturn:
		return true
	case OpResolveClaim:
		return c.ClaimCode == OK
	}
	return false
}

// applyLinked runs a chain all-or-nothing. If one command fails, every change
// of the chain is undone; the failing command keeps its code and the others
// get CodeLinkFailed.
func (s *state) applyLinked(chain []Command) {
	base := len(s.results)
	bad := OK
	switch {
	case chain[len(chain)-1].Linked:
		bad = CodeBadRequest // the chain is still open at the end of the batch
	case len(chain) > MaxLinked:
		bad = CodeTooMany
	}
	for i := range chain {
		if bad == OK && !linkable(&chain[i]) {
			bad = CodeBadRequest
		}
	}
	if bad != OK {
		for range chain {
			s.results = append(s.results, s.refuse(bad))
		}
		return
	}
	s.begin()
	failed := -1
	for i := range chain {
		c := &chain[i]
		// A replay is not run again. A replayed refusal (or a key conflict)
		// fails the group like a fresh one: the group cannot all hold.
		r, replay := s.idem.lookup(c)
		if replay {
			r = s.replayed(c, r)
		} else {
			r, replay = s.chainReplay(chain[:i], base, c)
		}
		if !replay {
			r = s.applyOne(c)
		}
		s.results = append(s.results, r)
		if r.Code != OK {
			failed = i
			break
		}
	}
	if failed < 0 {
		s.commit()
	} else {
		s.rollback()
		failure := s.results[base+failed]
		if failure.Code != CodeClaimRequired {
			failure = Result{Code: failure.Code} // claim_required keeps what it names: the limit, the claim
		}
		s.results = s.results[:base]
		for i := range chain {
			r := Result{Code: CodeLinkFailed}
			if i == failed {
				r = failure
			} else if prev, ok := s.idem.lookup(&chain[i]); ok {
				r = prev // a replay keeps the first result
			}
			s.results = append(s.results, r)
		}
	}
	if failed >= 0 && s.results[base+failed].Code == CodeClaimRequired {
		return // not an answer: the group comes again with its claims (claim.go)
	}
	for i := range chain {
		if len(chain[i].Key) > 0 {
			s.idem.store(&chain[i], &s.results[base+i], s.now)
		}
	}
}

// chainReplay returns the result of an earlier command of the running chain
// that has c's key (CodeKeyConflict if its contents differ): keys are stored
// only once the chain is decided, and a key must take units once.
func (s *state) chainReplay(done []Command, base int, c *Command) (Result, bool) {
	if len(c.Key) == 0 {
		return Result{}, false
	}
	for k := range done {
		if string(done[k].Key) == string(c.Key) {
			if Fingerprint(&done[k]) != Fingerprint(c) {
				return Result{Code: CodeKeyConflict}, true
			}
			return s.results[base+k], true
		}
	}
	return Result{}, false
}

// applyKeyed runs one command with its idempotency key: a key seen before
// returns the first result (or refuses with CodeKeyConflict if the contents
// differ); a new key stores the result.
func (s *state) applyKeyed(c *Command) Result {
	if len(c.Key) == 0 || !c.Op.Mutating() {
		return s.applyOne(c)
	}
	if len(c.Key) > MaxKeyBytes {
		return s.refuse(CodeBadRequest)
	}
	r, ok, hint := s.idem.lookupHint(c)
	if ok {
		return s.replayed(c, r)
	}
	r = s.applyOne(c)
	if r.Code != CodeClaimRequired { // not an answer: the request comes again with its claim
		// applyOne stores and ages no key, so the lookup's hint still holds.
		s.idem.storeHinted(c, &r, s.now, hint)
	}
	return r
}

// refuse counts a refusal and returns its result.
func (s *state) refuse(c Code) Result {
	if int(c) < len(s.stats.Refusals) {
		s.stats.Refusals[c]++
	}
	return Result{Code: c}
}

// refuseAs counts a refusal under one code and answers another: for an
// answer that must not tell the caller what the count tells the operators.
func (s *state) refuseAs(counted, answered Code) Result {
	if int(counted) < len(s.stats.Refusals) {
		s.stats.Refusals[counted]++
	}
	return Result{Code: answered}
}

func (s *state) applyOne(c *Command) Result {
	s.sent = MessageRef{}
	if c.Seq != 0 && c.Op != OpDelivered {
		if r, done := s.receive(c); done { // a delivered outbox message (outbox.go)
			return r
		}
	}
	switch c.Op {
	case OpReserve:
		return s.reserve(c)
	case OpConfirm:
		return s.confirm(c)
	case OpExtend:
		return s.extend(c)
	case OpCancel:
		return s.cancel(c)
	case OpPickup:
		return s.pickup(c)
	case OpReschedule:
		return s.reschedule(c)
	case OpReturn:
		return s.returnRes(c)
	case OpExpire:
		return Result{} // expiry already ran at the start of the batch
	case OpPutItem:
		return s.putItem(c)
	case OpPutWindow:
		return s.putWindow(c)
	case OpRestock:
		return s.restock(c)
	case OpAdjustStock:
		return s.adjustStock(c)
	case OpSetSaleWindow:
		return s.setSaleWindow(c)
	case OpSetLimit:
		return s.setLimit(c)
	case OpSetMemberShare:
		return s.setMemberShare(c)
	case OpUpdateItem:
		return s.updateItem(c)
	case OpPutItems:
		return s.putItems(c)
	case OpBlock, OpUnblock, OpSetTier:
		return s.customerOp(c)
	case OpUnlock:
		return s.unlock(c)
	case OpPutStore:
		return s.putStore(c)
	case OpPutStoreWindow:
		return s.putStoreWindow(c)
	case OpClaim:
		return s.claimOp(c)
	case OpReleaseClaim:
		return s.releaseClaim(c)
	case OpAnchorClaim:
		return s.anchorClaim(c)
	case OpResolveClaim:
		return s.resolveClaim(c)
	case OpDelivered:
		return s.deliveredOp(c)
	case OpRegisterKey:
		return s.registerKey(c)
	case OpCustomerCopy:
		return s.customerCopy(c)
	case OpNoShow:
		return s.noShowMsg(c)
	case OpSetMarkRule:
		return s.setMarkRule(c)
	case OpReleaseReview:
		return s.releaseReview(c)
	case OpJoinWaitlist:
		return s.joinWaitlist(c)
	case OpLeaveWaitlist:
		return s.leaveWaitlist(c)
	case OpPutCouponIssue:
		return s.putCouponIssue(c)
	case OpTakeCoupon:
		return s.takeCoupon(c)
	case OpRedeemCoupon:
		return s.redeemCoupon(c)
	}
	if c.Op.ReadOnly() && c.Op.Valid() {
		return s.read(c)
	}
	return s.refuse(CodeBadRequest)
}
