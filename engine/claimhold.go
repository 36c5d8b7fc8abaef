package engine

// The item shard's side of a claim (docs/adr/0070, claim.go for the home's).
//
// A reserve carrying a claim key K and the coordination deadline D makes a
// PROVISIONAL hold: it takes stock like any hold (so nothing is oversold)
// and skips the local limit count (the customer's home counts), but until
// its claim is resolved it cannot be confirmed, extended or rescheduled:
// those answer claim_required naming K, so that the coordinator resolves
// and tries again. OpResolveClaim carries the home's answer: OK makes the
// hold firm; a refusal ends it at once (units back, an event, and the
// reserve's idempotency record now answers that refusal). A reserve past D
// is refused expired, as the home refuses a claim past D.
//
// When a claimed reservation ends (cancel, expiry, no-show, return) the
// outbox sends release_claim(K) to the customer's home; a hold ended by a
// refused claim sends nothing (that claim never counted). The index from K
// to the reservation carrying it answers the home's sweep (OpGetClaimHold:
// an active one, or one that ended and releases the claim) and finds a hold that ended before its resolve arrived
// (the resolve still makes its reserve's record answer a refusal, so that
// a retry is told what the coordinator told). The provisional holds by
// deadline are this shard's sweep's (ProvisionalDue).

// claimState is where a claimed reservation's claim stands.
type claimState uint8

const (
	claimNone        claimState = 0 // no claim
	claimProvisional claimState = 1 // the home's answer is not known here yet
	claimFirm        claimState = 2 // accepted: an ordinary hold whose end releases the claim
	claimEnded       claimState = 3 // refused: the hold ended and released nothing
)

// resClaim is a reservation's claim. It never changes once set.
type resClaim struct {
	key      string // K
	deadline int64  // D
	reqKey   string // the reserve's idempotency key ("" = none): it answers the claim's refusal
}

// holdIndex is the item shard's side.
type holdIndex struct {
	byKey       map[string]uint64 // claim key -> id of the latest kept reservation carrying it
	provisional dueHeap[uint64]   // provisional holds by (deadline, id), for the sweep
}

func (x *holdIndex) init() { x.byKey = make(map[string]uint64) }

// checkClaimedReserve checks a reserve that carries a claim: a key and a
// deadline within MaxClaimWindow, a customer whose home is another shard,
// a deadline not passed (expired), a key no kept reservation carries (a
// request is retried under its idempotency key, which replays; a key that
// comes again with another request, or after its record aged out, is a
// conflict, and its home may still answer "accepted" for the old hold).
func (s *state) checkClaimedReserve(c *Command) Code {
	switch {
	case !validKey(c.Claim) || c.Deadline <= 0 || c.Deadline-s.now > int64(MaxClaimWindow) || !s.claimsElsewhere(c.Customer):
		return CodeBadRequest
	case c.Deadline <= s.now:
		return CodeExpired
	}
	if s.claimHold(c.Claim) != nil {
		return CodeKeyConflict
	}
	return OK
}

// claimHold returns the latest kept reservation carrying a claim key.
func (s *state) claimHold(key []byte) *reservation {
	if id, ok := s.holds.byKey[string(key)]; ok {
		return s.findRes(id)
	}
	return nil
}

// holdProvisional marks a new hold as carrying the command's claim.
func (s *state) holdProvisional(r *reservation, c *Command) {
	r.cl = &resClaim{key: string(c.Claim), deadline: c.Deadline}
	if len(c.Key) > 0 {
		r.cl.reqKey = string(c.Key)
	}
	r.claimSt = claimProvisional
	s.indexHold(r.cl.key, r.id)
	s.holds.provisional.push(dueEntry{at: c.Deadline, id: r.id})
}

// holdFirm marks a new hold as carrying an accepted claim: a waitlist
// entry's, promoted (waitlist_promote.go). It has no deadline: nothing
// resolves it, and its end releases the claim as any firm hold's does.
func (s *state) holdFirm(r *reservation, key string) {
	r.cl = &resClaim{key: key}
	r.claimSt = claimFirm
	s.indexHold(key, r.id)
}

func (s *state) indexHold(key string, id uint64) {
	old, had := s.holds.byKey[key]
	s.j.holdKey(key, old, had)
	s.holds.byKey[key] = id
}

// claimHoldEnded runs when a claimed reservation finishes: unless its claim
// was refused, its home gets the release (a provisional one's too: its
// claim may have been accepted).
func (s *state) claimHoldEnded(r *reservation) {
	if r.claimSt == claimEnded {
		return
	}
	cust := s.customers.at(r.cust).id
	s.send(uint16(CustomerShard([]byte(cust), s.cfg.Shards)),
		Message{Op: OpReleaseClaim, Claim: r.cl.key, Customer: cust, ID: r.id, At: s.now})
}

// namingClaim is a provisional hold's result: it names its claim
// (Reservation, with Claim and Provisional), so that the coordinator
// learns that the claim's answer decides it. A reserve's idempotent replay
// names it too while the hold's claim is unresolved (replayed).
func (s *state) namingClaim(r *reservation) Result {
	res := resResult(r)
	info := s.resInfo(r)
	res.Reservation = &info
	res.Marks, res.UnderReview = r.markSet(), r.underReview()
	return res
}

// replayed is what a replayed command answers: its stored result, and for
// a reserve whose hold's claim is still unresolved, the hold's claim (a
// coordinator that crashed before resolving it left it to the retry, which
// must resolve it before it answers, even one that came without a claim;
// so too when the hold has ended since: the resolve decides what its key
// answers from then on).
func (s *state) replayed(c *Command, res Result) Result {
	if c.Op.WaitlistChange() && res.Code == OK {
		return s.waitReplay(c, res) // the line as it stands now (waitlist.go)
	}
	if c.Op.CouponChange() {
		return s.couponReplay(c, res) // the serial or the issue as it stands now (coupons.go)
	}
	if c.Op == OpReserve && res.Code == OK {
		if r := s.findRes(res.ID); r != nil && r.claimSt == claimProvisional {
			return s.namingClaim(r)
		} else if r != nil {
			res.Marks, res.UnderReview = r.markSet(), r.underReview() // the idempotency entry keeps neither; the reservation does, as it stands now
		}
	}
	return res
}

// resolvable reports whether a code is an answer a home gives a claim.
func resolvable(c Code) bool {
	return c == OK || c == CodeLimitExceeded || c == CodeBlocked || c == CodeExpired
}

// resolveClaim applies the home's answer to the hold carrying the claim.
// No hold carries it (never made, or forgotten): done, ID 0.
func (s *state) resolveClaim(c *Command) Result {
	if !validKey(c.Claim) || !resolvable(c.ClaimCode) {
		return s.refuse(CodeBadRequest)
	}
	r := s.claimHold(c.Claim)
	switch {
	case r == nil:
		return Result{}
	case r.claimSt == claimFirm && c.ClaimCode == OK, r.claimSt == claimEnded && c.ClaimCode == r.claimCode:
		return resResult(r) // resolved before, the same way: a retry
	case r.claimSt != claimProvisional:
		// Resolved before another way: a sweep that found no claim by the
		// deadline ended it expired, and a later attempt's claim was
		// answered otherwise. The reserve's replay has the answer that stands.
		return s.refuse(CodeWrongState)
	case c.ClaimCode == OK:
		s.j.res(r)
		r.claimSt = claimFirm // its provisional-heap entry goes stale
		return resResult(r)
	}
	s.endRefused(r, c.ClaimCode)
	return resResult(r)
}

// endRefused ends a provisional hold whose claim was refused: its units
// come back at once, and its reserve's record answers the refusal. A hold
// that ended before (cancelled, expired) only gets its record answered.
func (s *state) endRefused(r *reservation, code Code) {
	held := r.state == StateHeld
	if held {
		s.release(r, r.qty)
	}
	s.j.res(r)
	r.claimSt, r.claimCode = claimEnded, code
	if held {
		s.finish(r, StateCancelled)
		s.resEvent(EvHoldRefused, r, int64(r.qty))
	}
	s.answerRefusal(r, code)
}

// answerRefusal makes the reserve's idempotency record answer its claim's
// refusal: the customer was never answered OK for that hold (guarantee:
// a retry gets the first answer the customer could have seen). A refusing
// resolve is not linkable, so the record is never undone.
func (s *state) answerRefusal(r *reservation, code Code) {
	if r.cl.reqKey == "" {
		return
	}
	if e, ok := s.idem.find([]byte(r.cl.reqKey)); ok && e.res.id == r.id {
		e.res = storedResult{code: code}
	}
}

// provisionalLive reports whether a provisional-heap entry still names an
// unresolved hold.
func (s *state) provisionalLive(e dueEntry) bool {
	r := s.findRes(e.id)
	return r != nil && r.claimSt == claimProvisional && r.state == StateHeld && r.cl.deadline == e.at
}

// claimRequired refuses a confirm, extend or reschedule of a provisional
// hold: it names the claim (and its customer, whose home has the answer).
func (s *state) claimRequired(r *reservation) Result {
	res := s.refuse(CodeClaimRequired)
	info := s.resInfo(r)
	res.Reservation = &info
	return res
}

// getClaimHold reads the kept reservation carrying a claim key, for the
// home's sweep: an active one (State says so) anchors the claim; one that
// ended, its claim not refused, has sent or will send the claim's release
// through the outbox, and while it is kept no new hold can carry the key
// (checkClaimedReserve), so the sweep may release the claim as that
// release would (keeping its "accepted" for retries, which replay the
// ended hold). None, or a hold whose claim was refused: not_found.
func (s *state) getClaimHold(c *Command) Result {
	if !validKey(c.Claim) {
		return Result{Code: CodeBadRequest}
	}
	r := s.claimHold(c.Claim)
	if r == nil {
		return s.entryClaimHold(string(c.Claim))
	}
	if r.claimSt == claimEnded {
		return Result{Code: CodeNotFound}
	}
	info := s.resInfo(r)
	res := resResult(r)
	res.Reservation = &info
	return res
}

// entryClaimHold answers get_claim_hold for a waitlist entry carrying the
// claim (waitlist.go): an entry in line answers as an active hold (state
// held, no id), for its end (left, expired, dropped) sends the claim's
// release and its promotion hands the claim to a hold; so the home's sweep
// anchors the claim. None: not_found (the entry ended, and its release is
// on its way, or it was never made).
func (s *state) entryClaimHold(key string) Result {
	id, ok := s.wait.byClaim[key]
	if !ok {
		return Result{Code: CodeNotFound}
	}
	w := s.waitEntryByID(id)
	return Result{State: StateHeld, Qty: int64(w.qty), ExpiresAt: w.expiresAt}
}

// DueHold is a provisional hold whose deadline has passed: the item
// shard's sweep asks the customer's home for the claim's answer.
type DueHold struct {
	ID       uint64
	Claim    string
	Customer string
	Deadline int64
}

// ProvisionalDue returns up to max provisional holds whose deadline is at
// or before until, by (deadline, id). The item shard's leader passes its
// time less ClaimMargin, then resolves each with the home's answer (a key
// the home does not know by then was never accepted: resolve expired).
func (e *Engine) ProvisionalDue(until int64, max int) []DueHold {
	s := &e.st
	var out []DueHold
	for _, d := range s.holds.provisional.ordered(until, max, s.provisionalLive) {
		r := s.findRes(d.id)
		out = append(out, DueHold{ID: r.id, Claim: r.cl.key, Customer: s.customers.at(r.cust).id, Deadline: r.cl.deadline})
	}
	return out
}

// SweepHold is what the item shard's sweep proposes for a due provisional
// hold, given its home's answer to get_claim(K): the resolve with that
// answer, accepted or refused; a key the home does not know by the
// deadline plus the margin was never accepted and never will be: expired.
// An answer that is no claim's (the home could not read it) proposes
// nothing (ok false): the next sweep asks again.
func SweepHold(h *DueHold, claim *Result) (cmd Command, ok bool) {
	code := claim.Code
	switch {
	case code == CodeNotFound:
		code = CodeExpired
	case !resolvable(code):
		return Command{}, false
	}
	return Command{Op: OpResolveClaim, Claim: []byte(h.Claim), ClaimCode: code}, true
}
