package engine

// Waitlist entries that carry a claim (docs/adr/0112, waitlist.go): a
// limited SKU's customer whose home is another shard joins after its home
// accepted a claim for the entry's units. The entry carries the claim; its
// promotion hands it to the hold (reserveFrom, holdFirm); its other ends
// send the claim's release through the outbox (entryEnded).

// claimRefusedJoin answers a join whose claim the customer's home refused
// (ClaimCode: the router's, docs/adr/0112): that refusal, which its key
// keeps (applyKeyed), so that a retry is told the same, as a reserve's
// key answers its claim's refusal. A key answered before replays instead
// (applyKeyed, before this runs). Not counted: the home counted it.
func (s *state) claimRefusedJoin(c *Command) Result {
	if !resolvable(c.ClaimCode) || len(c.Claim) > 0 || c.Deadline != 0 || !s.claimsElsewhere(c.Customer) {
		return s.refuse(CodeBadRequest)
	}
	return Result{Code: c.ClaimCode}
}

// checkClaimedJoin checks a join that carries a claim as a claimed reserve
// is checked (checkClaimedReserve): a key and a deadline within
// MaxClaimWindow, a customer whose home is another shard, the deadline not
// passed (expired: the home's sweep releases the claim once it has), and a
// key that no kept reservation and no other customer's entry carries.
func (s *state) checkClaimedJoin(c *Command) Code {
	if code := s.checkClaimedReserve(c); code != OK {
		return code
	}
	if id, ok := s.wait.byClaim[string(c.Claim)]; ok {
		if w := s.waitEntryByID(id); w == nil || s.customers.at(w.cust).id != string(c.Customer) {
			return CodeKeyConflict
		}
	}
	return OK
}

// joinResult is a join's answer: the line and the customer's place; for a
// join carrying a claim, whether the claim is carried (Waitlist.Claimed),
// which tells the router to anchor the claim at the customer's home, or,
// when not, to release it.
func (s *state) joinResult(c *Command, slot, cust uint32) Result {
	r := s.waitResult(slot, cust)
	if len(c.Claim) > 0 {
		r.Waitlist.Claimed = s.claimCarried(string(c.Claim))
	}
	return r
}

// claimCarried reports whether an entry in line or a kept reservation
// carries a claim, its claim not refused: its end sends (or sent) the
// claim's release, so the claim must count until then.
func (s *state) claimCarried(key string) bool {
	if _, ok := s.wait.byClaim[key]; ok {
		return true
	}
	r := s.claimHold([]byte(key))
	return r != nil && r.claimSt != claimEnded
}

// waitEntryByID returns a pointer to an entry in line, or nil.
func (s *state) waitEntryByID(id uint64) *waitEntry {
	item, ok := s.wait.byID[id]
	if !ok {
		return nil
	}
	line := s.wait.lines[item]
	for i := range line {
		if line[i].id == id {
			return &line[i]
		}
	}
	return nil
}

// entryEnded runs when an entry leaves its line other than by promotion
// (left, expired, dropped): a claim it carried goes back to the customer's
// home through the outbox, as a claimed hold's does at its end.
func (s *state) entryEnded(e *waitEntry) {
	if e.claim == "" {
		return
	}
	cust := s.customers.at(e.cust).id
	s.send(uint16(CustomerShard([]byte(cust), s.cfg.Shards)),
		Message{Op: OpReleaseClaim, Claim: e.claim, Customer: cust, At: s.now})
}
