package engine

import "time"

// Claims keep a customer's per-SKU limit across shards (docs/adr/0070).
//
// What follows a customer lives in its home shard (CustomerShard). A limited
// reserve of a customer of another shard is coordinated in one round: the
// coordinator proposes, with one deadline D stamped on both, a claim here
// (OpClaim, under the claim key K) and the reserve on the item's shard
// carrying K and D, which makes a provisional hold there (claimhold.go).
//
// Here, a claim is answered once and the answer is final: accepted (the
// claim is pending and counts at once), or refused limit_exceeded, blocked
// or expired (D had passed). The same K again returns that answer: a
// refusal is kept like an idempotency record, and so is an accepted claim
// after its hold ended and released it (it counts no more, but a retry of
// the request is still told "accepted", as its reserve's record still says
// OK); both age out after the retention, at most maxClaimAnswers of them.
// An accepted claim never expires by time and is never settled or
// extended: it counts until its release.
// A release comes from the item shard's outbox when the hold ends
// (release_claim, outbox.go), from the coordinator when the hold was
// refused, or from the home's sweep: once D + ClaimMargin has passed no
// shard takes a claim or a hold for K any more, so the sweep asks the item
// shard (OpGetClaimHold) whether a hold carries K and anchors the claim
// (OpAnchorClaim: it now counts until the outbox releases it) or releases it.
// So a claim may outlive its hold, never the other way round.

// ClaimMargin is how far two shards' leaders' clocks may differ: the
// sweeps wait for a claim's deadline plus this margin before they take what
// a shard holds for it as final.
const ClaimMargin = 2 * time.Second

// MaxClaimWindow bounds how far ahead of a shard's time a claim's deadline
// may lie: the sweeps wait for the deadline, so a far one would keep an
// unresolved claim or hold that long. A coordination takes milliseconds.
const MaxClaimWindow = time.Minute

// maxClaimAnswers bounds the answers a home keeps for retries once they
// count no more (refusals, released claims): a flash sale's last minutes
// fit. When full the oldest goes first, and a retry of it is decided anew
// (refused again while the limit is still full).
const maxClaimAnswers = 1 << 18

// claimPhase is where a claim on the home stands.
type claimPhase uint8

const (
	claimPending  claimPhase = 1 // accepted; its hold is not known yet
	claimAnchored claimPhase = 2 // accepted; its hold was found: it counts until released
	claimRefused  claimPhase = 3 // refused (code): kept so that a retry gets the same answer
	claimReleased claimPhase = 4 // accepted, then released by its hold's end: kept so that a retry is told "accepted"
)

// claim is units of a customer's limit for one SKU under a key.
type claim struct {
	key       string
	customer  string
	sku       string
	units     int32
	phase     claimPhase
	code      Code // claimRefused: the refusal
	itemShard uint16
	deadline  int64
	at        int64 // log time it was answered, or released (kept answers age from it)
}

// skuUnclaimed is the SKU of a key released before any claim of it came
// (releaseClaim): no SKU id holds a NUL byte, and the snapshot keeps it as
// it keeps any released claim.
const skuUnclaimed = "\x00"

// counts reports whether the claim's units count against the limit.
func (c *claim) counts() bool { return c.phase == claimPending || c.phase == claimAnchored }

type claimSubject struct{ customer, sku string }

// claimTable is the home's side.
type claimTable struct {
	byKey   map[string]*claim
	units   map[claimSubject]int32 // units of accepted claims per customer and SKU
	pending dueHeap[string]        // pending claims by (deadline, key), for the sweep
	answers fifo[due[string]]      // refused and released claims by (at, key), for ageing

	answersMax int // maxClaimAnswers (lower in tests of the bound)
}

func (t *claimTable) init() {
	t.byKey = make(map[string]*claim)
	t.units = make(map[claimSubject]int32)
	t.answersMax = maxClaimAnswers
}

// accept counts a claim: pending, or anchored (restore).
func (t *claimTable) accept(c *claim) {
	t.byKey[c.key] = c
	t.addUnits(c, c.units)
	if c.phase == claimPending {
		t.pending.push(due[string]{at: c.deadline, id: c.key})
	}
}

// keep keeps an answer that counts no more (refused, released) for
// retries, dropping the oldest over the bound.
func (t *claimTable) keep(c *claim) {
	if t.answers.len() >= t.answersMax {
		t.forget(t.answers.pop())
	}
	t.byKey[c.key] = c
	t.answers.push(due[string]{at: c.at, id: c.key})
}

func (t *claimTable) forget(e due[string]) {
	if c := t.byKey[e.id]; c != nil && !c.counts() && c.at == e.at {
		delete(t.byKey, e.id)
	}
}

// age forgets the kept answers of at or before cutoff.
func (t *claimTable) age(cutoff int64) {
	for t.answers.len() > 0 && t.answers.peek().at <= cutoff {
		t.forget(t.answers.pop())
	}
}

// claimAnswerRetention is how long a home keeps answers that count no
// more: the idempotency retention (a retry's reserve replays that long),
// within the finished-reservation retention (the item shard refuses a new
// hold for a key a kept reservation carries, checkClaimedReserve: so a
// released claim's "accepted" never stands for a new, uncounted hold).
func (c *Config) claimAnswerRetention() time.Duration {
	return min(c.IdempotencyRetention, c.FinishedRetention)
}

func (t *claimTable) remove(c *claim) {
	delete(t.byKey, c.key)
	t.addUnits(c, -c.units)
}

// addUnits changes a subject's total of accepted units.
func (t *claimTable) addUnits(c *claim, d int32) {
	sub := claimSubject{c.customer, c.sku}
	n := t.units[sub] + d
	assertCount(n, "claimed units")
	if n != 0 {
		t.units[sub] = n
	} else {
		delete(t.units, sub)
	}
}

// pendingLive reports whether a pending-heap entry still names a pending claim.
func (t *claimTable) pendingLive(e due[string]) bool {
	c := t.byKey[e.id]
	return c != nil && c.phase == claimPending && c.deadline == e.at
}

// answer is a claim's result: accepted (Qty units; ExpiresAt its deadline
// while pending, 0 once anchored) or its refusal (Qty units).
func (c *claim) answer() Result {
	switch c.phase {
	case claimRefused: // claimReleased answers as anchored: accepted, deadline gone
		return Result{Code: c.code, Qty: int64(c.units)}
	case claimPending:
		return Result{Qty: int64(c.units), ExpiresAt: c.deadline}
	}
	return Result{Qty: int64(c.units)}
}

// sameClaim reports whether a command asks for the claim c answered.
func (c *claim) sameClaim(cmd *Command) bool {
	return c.customer == string(cmd.Customer) && c.sku == string(cmd.SKU) && int64(c.units) == cmd.Qty &&
		c.itemShard == cmd.ItemShard
}

// CustomerShard returns the shard that keeps a customer's counters:
// FNV-1a 64 over len(customer) as one byte and the customer id, mod shards
// (the same function as protocol.ShardOfCustomer).
func CustomerShard(customer []byte, shards int) int {
	h := uint64(fnvOffset)
	h = (h ^ uint64(byte(len(customer)))) * fnvPrime
	for _, b := range customer {
		h = (h ^ uint64(b)) * fnvPrime
	}
	return int(h % uint64(shards))
}

const fnvPrime = 1099511628211

// claimsElsewhere reports whether a customer's counters live in another
// shard, so that a limited reserve needs a claim.
func (s *state) claimsElsewhere(customer []byte) bool {
	return s.cfg.Shards > 1 && CustomerShard(customer, s.cfg.Shards) != int(s.cfg.ShardID)
}

// claimedUnits is what accepted claims hold of a customer's limit.
func (s *state) claimedUnits(customer, sku string) int32 {
	return s.claims.units[claimSubject{customer, sku}]
}

func validKey(b []byte) bool { return len(b) >= 1 && len(b) <= MaxKeyBytes }

// validClaim checks a claim's shape: this shard is the customer's home and
// the item's shard another one; the deadline lies within MaxClaimWindow.
func (s *state) validClaim(c *Command) bool {
	return validID(c.Customer) && validID(c.SKU) && validKey(c.Claim) && c.Qty > 0 && c.Qty <= MaxQty &&
		c.Limit > 0 && c.Limit <= MaxStock && c.Deadline > 0 && c.Deadline-s.now <= int64(MaxClaimWindow) &&
		s.cfg.Shards > 1 && !s.claimsElsewhere(c.Customer) &&
		int(c.ItemShard) < s.cfg.Shards && c.ItemShard != s.cfg.ShardID
}

// claimOp answers a claim: the first answer for its key, or a new one.
func (s *state) claimOp(c *Command) Result {
	if !s.validClaim(c) {
		return s.refuse(CodeBadRequest)
	}
	if cl := s.claims.byKey[string(c.Claim)]; cl != nil {
		if cl.sku == skuUnclaimed && cl.customer == string(c.Customer) {
			// Released before it was claimed (releaseClaim): its hold has
			// ended, so it is answered as a released claim, accepted and
			// counting nothing, and kept as this claim from now on.
			cl.sku, cl.units, cl.itemShard, cl.deadline = string(c.SKU), int32(c.Qty), c.ItemShard, c.Deadline
			return cl.answer()
		}
		if !cl.sameClaim(c) {
			return s.refuse(CodeKeyConflict)
		}
		if cl.phase == claimPending && c.Deadline > cl.deadline {
			// A retry of the request (same key) may make its hold until its
			// own deadline: the sweep waits for the later one.
			cl.deadline = c.Deadline
			s.claims.pending.push(due[string]{at: cl.deadline, id: cl.key})
		}
		return cl.answer()
	}
	cl := &claim{key: string(c.Claim), customer: string(c.Customer), sku: string(c.SKU), units: int32(c.Qty),
		itemShard: c.ItemShard, deadline: c.Deadline, at: s.now}
	if code := s.claimRefusal(c); code != OK {
		cl.phase, cl.code = claimRefused, code
		s.claims.keep(cl)
		s.refuse(code) // counted once, when decided
		return cl.answer()
	}
	cl.phase = claimPending
	s.claims.accept(cl)
	s.emit(Event{Kind: EvClaimed, Customer: cl.customer, SKU: cl.sku, Qty: int64(cl.units)})
	return cl.answer()
}

// claimRefusal decides a new claim: expired once its deadline has passed
// (the item's shard refuses the hold then too, so the two agree), blocked,
// or limit_exceeded when the customer's own holds here plus its accepted
// claims would pass the limit.
func (s *state) claimRefusal(c *Command) Code {
	if c.Deadline <= s.now {
		return CodeExpired
	}
	owned := s.claimedUnits(string(c.Customer), string(c.SKU))
	if _, cu := s.findCustomer(c.Customer); cu != nil {
		if cu.blocked {
			return CodeBlocked
		}
		if k, ok := s.skuByName[string(c.SKU)]; ok {
			owned += cu.owned(k)
		}
	}
	if int64(owned)+c.Qty > c.Limit {
		return CodeLimitExceeded
	}
	return OK
}

// releaseClaim gives an accepted claim's units back (Qty). An unknown key
// released by its hold's end is kept released (see below); otherwise an unknown key
// was released already, and a refused one never counted: done, Qty 0.
// A claim released by its hold's end stays as an answer for retries.
//
// With a Deadline it releases only a pending claim whose deadline is that
// one: the sweep (which found no hold for the claim by that deadline) and
// the coordinator (whose hold was refused) release what they judged, not
// a claim a retry of the request has moved on (claimOp) or whose hold the
// sweep has found (anchored). Without, it releases whatever the claim is:
// the outbox's release after its hold ended.
func (s *state) releaseClaim(c *Command) Result {
	if !validKey(c.Claim) || c.Deadline < 0 {
		return s.refuse(CodeBadRequest)
	}
	cl := s.claims.byKey[string(c.Claim)]
	if cl == nil && c.Deadline == 0 && len(c.Customer) > 0 {
		// The hold ended before its claim reached the home (the outbox's
		// release overtook a claim still on its way, or a retry's): the
		// key is kept released, so that the claim, when it comes, counts
		// nothing (claimOp) and cannot be anchored. Without this it would
		// count forever: its hold's release has come and gone.
		s.claims.keep(&claim{key: string(c.Claim), customer: string(c.Customer), sku: skuUnclaimed, units: 1,
			phase: claimReleased, at: s.now})
		return Result{}
	}
	if cl == nil || !cl.counts() || (c.Deadline != 0 && (cl.phase != claimPending || cl.deadline != c.Deadline)) {
		return Result{}
	}
	s.claims.remove(cl)
	if c.Deadline == 0 {
		// The hold ended: a retry of its request replays its reserve, and
		// its claim must answer as it did.
		cl.phase, cl.at = claimReleased, s.now
		s.claims.keep(cl)
	}
	s.emit(Event{Kind: EvClaimEnded, Customer: cl.customer, SKU: cl.sku, Qty: int64(cl.units)})
	return Result{Qty: int64(cl.units)}
}

// anchorClaim marks a pending claim whose hold the sweep found: it counts
// until the item shard's outbox releases it. Anchoring again is a retry.
func (s *state) anchorClaim(c *Command) Result {
	if !validKey(c.Claim) {
		return s.refuse(CodeBadRequest)
	}
	cl := s.claims.byKey[string(c.Claim)]
	switch {
	case cl == nil:
		return s.refuse(CodeNotFound) // released: its hold ended, and the release came first
	case !cl.counts():
		return s.refuse(CodeWrongState) // refused, or released: its hold ended
	case cl.phase == claimPending:
		cl.phase = claimAnchored // its pending-heap entry goes stale
		s.emit(Event{Kind: EvClaimAnchored, Customer: cl.customer, SKU: cl.sku, Qty: int64(cl.units)})
	}
	return cl.answer()
}

// getClaim reads the home's answer for a key: as claimOp answered it, or
// not_found (never claimed, released, or a refusal aged out).
func (s *state) getClaim(c *Command) Result {
	if !validKey(c.Claim) {
		return Result{Code: CodeBadRequest}
	}
	if cl := s.claims.byKey[string(c.Claim)]; cl != nil {
		return cl.answer()
	}
	return Result{Code: CodeNotFound}
}

// DueClaim is a pending claim whose deadline has passed: the home's sweep
// asks its item shard whether a hold carries it.
type DueClaim struct {
	Key       string
	Customer  string
	SKU       string
	Qty       int64
	ItemShard uint16
	Deadline  int64
}

// ClaimsDue returns up to max pending claims whose deadline is at or
// before until, by (deadline, key). The home's leader passes its time less
// ClaimMargin, then anchors or releases each (docs/adr/0070).
func (e *Engine) ClaimsDue(until int64, max int) []DueClaim {
	t := &e.st.claims
	var out []DueClaim
	for _, d := range t.pending.ordered(until, max, t.pendingLive) {
		c := t.byKey[d.id]
		out = append(out, DueClaim{Key: c.key, Customer: c.customer, SKU: c.sku, Qty: int64(c.units),
			ItemShard: c.itemShard, Deadline: c.deadline})
	}
	return out
}

// SweepClaim is what the home's sweep proposes for a due claim, given its
// item shard's answer to get_claim_hold(K): an active hold anchors the
// claim; a hold that ended (its release is in the outbox) releases it as
// that release would, keeping its answer; no hold releases it as of the
// deadline the sweep read (a retry may have moved it on meanwhile). The
// router's sweep and the tests' use this one decision.
func SweepClaim(d *DueClaim, hold *Result) Command {
	cust := []byte(d.Customer) // it routes the command to the home (protocol.RouteOf)
	switch {
	case hold.Code == OK && hold.State.Active():
		return Command{Op: OpAnchorClaim, Customer: cust, Claim: []byte(d.Key)}
	case hold.Code == OK:
		return Command{Op: OpReleaseClaim, Customer: cust, Claim: []byte(d.Key)}
	}
	return Command{Op: OpReleaseClaim, Customer: cust, Claim: []byte(d.Key), Deadline: d.Deadline}
}
