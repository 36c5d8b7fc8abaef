package engine

import (
	"encoding/binary"
	"time"
)

// Claims keep a customer's per-SKU limit across shards (docs/adr/0050).
//
// The customer's shard (CustomerShard) counts, per (customer, SKU), the
// units claimed by holds in other shards. A limited reserve of a customer
// whose shard is another one is refused claim_required until it carries a
// claim: the coordinating node claims on the customer's shard (OpClaim,
// refused limit_exceeded over the limit), then reserves with the claim's key,
// expiry and proof. The item shard checks the proof (a MAC under the pickup
// secret, which clients do not have), ends the hold ClaimMargin before the
// claim, and remembers the claim's key on the reservation:
//
//   - confirm of a claimed hold needs a settled claim (OpSettleClaim first);
//   - extend needs the claim extended first (OpExtendClaim);
//   - when the reservation finishes (cancel, return, expiry, no-show) the
//     item shard queues the claim's release; the leader sends it to the
//     customer's shard and then proposes OpClaimReleased.
//
// So a hold never outlives its claim, and a claim outlives its hold only
// until the release arrives (or, unsettled, until it expires on its own).

// ClaimMargin is how much sooner a hold ends than the claim that covers
// it: the two shards' times are stamped by their leaders, whose clocks may
// differ by up to this much.
const ClaimMargin = 2 * time.Second

// MaxClaimTTL bounds a claim's life while unsettled: the longest hold and
// its margin.
func (c *Config) maxClaimTTL() time.Duration { return c.MaxHold + ClaimMargin }

// claim is units of a customer's limit for one SKU, held by a key.
type claim struct {
	key       string
	customer  string
	sku       string
	units     int32
	createdAt int64
	expiresAt int64 // 0: settled, counts until released
}

type claimSubject struct{ customer, sku string }

// claimDue is an expiry of a held claim, ordered by (time, key) so that the
// order is the same on every replica whatever the heap's history.
type claimDue struct {
	at  int64
	key string
}

type claimHeap []claimDue

func (h claimHeap) less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].key < h[j].key
}

func (h *claimHeap) push(e claimDue) {
	*h = append(*h, e)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !a.less(i, p) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *claimHeap) pop() claimDue {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && a.less(r, l) {
			m = r
		}
		if !a.less(m, i) {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
	return top
}

// claimTable is the customer shard's side.
type claimTable struct {
	byKey map[string]*claim
	units map[claimSubject]int32
	due   claimHeap
}

func (t *claimTable) init() {
	t.byKey = make(map[string]*claim)
	t.units = make(map[claimSubject]int32)
}

func (t *claimTable) add(c *claim) {
	t.byKey[c.key] = c
	t.units[claimSubject{c.customer, c.sku}] += c.units
	if c.expiresAt != 0 {
		t.due.push(claimDue{at: c.expiresAt, key: c.key})
	}
}

func (t *claimTable) remove(c *claim) {
	delete(t.byKey, c.key)
	t.setUnits(c, 0)
}

// setUnits changes a live claim's units and the subject's total.
func (t *claimTable) setUnits(c *claim, units int32) {
	sub := claimSubject{c.customer, c.sku}
	if n := t.units[sub] - c.units + units; n != 0 {
		t.units[sub] = n
	} else {
		delete(t.units, sub)
	}
	c.units = units
}

// ClaimRelease is a claim an item shard must still release on the
// customer's shard: its reservation finished.
type ClaimRelease struct {
	ID       uint64 // the reservation
	Customer string
	Key      string
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

// claimedUnits is what claims of other shards hold of a customer's limit.
func (s *state) claimedUnits(customer, sku string) int32 {
	return s.claims.units[claimSubject{customer, sku}]
}

// ClaimProof is the MAC that proves a claim to an item shard: HMAC-SHA256
// under the pickup secret over the claim's customer, SKU, units, key and
// expiry (0 = settled), its first 8 bytes (never 0).
func (s *state) claimProof(customer, sku []byte, units int32, key []byte, expiresAt int64) uint64 {
	b := append(s.proofBuf[:0], "inv-claim"...)
	for _, f := range [][]byte{customer, sku, key} {
		b = append(b, byte(len(f)))
		b = append(b, f...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(units))
	b = binary.BigEndian.AppendUint64(b, uint64(expiresAt))
	s.proofBuf = b
	s.mac.Reset()
	s.mac.Write(b)
	sum := s.mac.Sum(s.macBuf[:0])
	return binary.BigEndian.Uint64(sum[:8]) | 1
}

func (s *state) claimResult(c *claim) Result {
	return Result{Qty: int64(c.units), ExpiresAt: c.expiresAt,
		PickupCode: s.claimProof([]byte(c.customer), []byte(c.sku), c.units, []byte(c.key), c.expiresAt)}
}

func validKey(b []byte) bool { return len(b) >= 1 && len(b) <= MaxKeyBytes }

// claimOp takes Qty units of Customer's Limit for SKU under the key Claim,
// or refuses limit_exceeded. The same key with the same claim returns it
// again (a retry); with another, key_conflict.
func (s *state) claimOp(c *Command) Result {
	if !validID(c.Customer) || !validID(c.SKU) || !validKey(c.Claim) || c.Qty <= 0 || c.Qty > MaxQty ||
		c.Limit <= 0 || c.Limit > MaxStock || c.TTL < 0 || c.TTL > s.cfg.maxClaimTTL() {
		return s.refuse(CodeBadRequest)
	}
	if cl := s.claims.byKey[string(c.Claim)]; cl != nil {
		if cl.customer != string(c.Customer) || cl.sku != string(c.SKU) || int64(cl.units) != c.Qty {
			return s.refuse(CodeKeyConflict)
		}
		return s.claimResult(cl)
	}
	owned := s.claimedUnits(string(c.Customer), string(c.SKU))
	if _, cu := s.findCustomer(c.Customer); cu != nil {
		if cu.blocked {
			return s.claimRefusal(c, CodeBlocked)
		}
		if k, ok := s.skuByName[string(c.SKU)]; ok {
			owned += cu.owned(k)
		}
	}
	if int64(owned)+c.Qty > c.Limit {
		return s.claimRefusal(c, CodeLimitExceeded)
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = s.cfg.DefaultHoldTTL + ClaimMargin
	}
	cl := &claim{key: string(c.Claim), customer: string(c.Customer), sku: string(c.SKU), units: int32(c.Qty),
		createdAt: s.now, expiresAt: s.now + int64(ttl)}
	s.claims.add(cl)
	s.emit(Event{Kind: EvClaimed, Customer: cl.customer, SKU: cl.sku, Qty: int64(cl.units)})
	return s.claimResult(cl)
}

// releaseClaim gives a claim's units back. An unknown key was released or
// expired already: done, with Qty 0.
func (s *state) releaseClaim(c *Command) Result {
	if !validKey(c.Claim) {
		return s.refuse(CodeBadRequest)
	}
	cl := s.claims.byKey[string(c.Claim)]
	if cl == nil {
		return Result{}
	}
	units := cl.units
	s.claims.remove(cl)
	s.emit(Event{Kind: EvClaimEnded, Customer: cl.customer, SKU: cl.sku, Qty: int64(units)})
	return Result{Qty: int64(units)}
}

// settleClaim keeps Qty units of a claim (0 = all) until they are released:
// its hold is being confirmed. Settling again is a retry.
func (s *state) settleClaim(c *Command) Result {
	if !validKey(c.Claim) || c.Qty < 0 {
		return s.refuse(CodeBadRequest)
	}
	cl := s.claims.byKey[string(c.Claim)]
	if cl == nil {
		return s.refuse(CodeNotFound) // expired or released: the hold is gone too
	}
	units := int32(c.Qty)
	if units == 0 {
		units = cl.units
	}
	if int64(units) > int64(cl.units) {
		return s.refuse(CodeBadRequest)
	}
	if cl.expiresAt == 0 && units == cl.units {
		return s.claimResult(cl)
	}
	released := cl.units - units
	s.claims.setUnits(cl, units)
	cl.expiresAt = 0
	s.emit(Event{Kind: EvClaimSettled, Customer: cl.customer, SKU: cl.sku, Qty: int64(units)})
	if released > 0 {
		s.emit(Event{Kind: EvClaimEnded, Customer: cl.customer, SKU: cl.sku, Qty: int64(released)})
	}
	return s.claimResult(cl)
}

// extendClaim moves a held claim's expiry to now+TTL, within the longest
// hold (and its margin) from the claim's creation; never earlier.
func (s *state) extendClaim(c *Command) Result {
	if !validKey(c.Claim) || c.TTL <= 0 {
		return s.refuse(CodeBadRequest)
	}
	cl := s.claims.byKey[string(c.Claim)]
	if cl == nil {
		return s.refuse(CodeNotFound)
	}
	if cl.expiresAt == 0 {
		return s.refuse(CodeWrongState) // settled: its hold was confirmed and no longer expires
	}
	maxTTL := s.cfg.maxClaimTTL()
	exp := min(s.now+int64(min(c.TTL, maxTTL)), cl.createdAt+int64(maxTTL))
	if exp > cl.expiresAt {
		cl.expiresAt = exp
		s.claims.due.push(claimDue{at: exp, key: cl.key})
		s.emit(Event{Kind: EvClaimMoved, Customer: cl.customer, SKU: cl.sku, Qty: int64(cl.units)})
	}
	return s.claimResult(cl)
}

// expireClaims ends every held claim whose time has passed.
func (s *state) expireClaims() {
	for len(s.claims.due) > 0 && s.claims.due[0].at <= s.now {
		e := s.claims.due.pop()
		cl := s.claims.byKey[e.key]
		if cl == nil || cl.expiresAt != e.at {
			continue // released, settled or extended since
		}
		units := cl.units
		s.claims.remove(cl)
		s.emit(Event{Kind: EvClaimEnded, Customer: cl.customer, SKU: cl.sku, Qty: int64(units)})
	}
}

// claimReleased drops the item shard's pending release of reservation ID's
// claim: the customer's shard has it. Unknown ids are done already.
func (s *state) claimReleased(c *Command) Result {
	if c.ID == 0 {
		return s.refuse(CodeBadRequest)
	}
	for i := range s.releases {
		if s.releases[i].ID == c.ID {
			s.releases = append(s.releases[:i], s.releases[i+1:]...)
			return Result{ID: c.ID}
		}
	}
	return Result{ID: c.ID}
}

// queueRelease records that a finished reservation's claim must be
// released on the customer's shard (item shard).
func (s *state) queueRelease(r *reservation) {
	if r.claim == "" {
		return
	}
	s.j.releases(len(s.releases))
	s.releases = append(s.releases, ClaimRelease{ID: r.id, Customer: s.customers.at(r.cust).id, Key: r.claim})
}

// provenClaim checks the claim a command carries for a customer's units of
// a SKU: bad_request if the proof does not match.
func (s *state) provenClaim(c *Command, customer, sku []byte, units int32) bool {
	return validKey(c.Claim) && c.Proof != 0 && s.claimProof(customer, sku, units, c.Claim, c.ClaimExpiry) == c.Proof
}

// claimRefusal is a refused claim with the proof of its refusal: the
// expiry field carries minus the code. The item shard answers a reserve
// carrying it with that code, and keeps it for the reserve's key like any
// refusal, so that a retry gets the first answer.
func (s *state) claimRefusal(c *Command, code Code) Result {
	r := s.refuse(code)
	r.PickupCode = s.claimProof(c.Customer, c.SKU, int32(c.Qty), c.Claim, -int64(code))
	return r
}

// refusedClaim returns the code of a refusal proof a reserve carries
// (claimRefusal), or OK if it carries none.
func refusedClaim(c *Command) Code {
	if c.ClaimExpiry >= 0 {
		return OK
	}
	switch code := Code(-c.ClaimExpiry); code {
	case CodeLimitExceeded, CodeBlocked:
		return code
	}
	return CodeBadRequest
}

// claimRequired is the refusal of a confirm or extend of a claimed hold
// that came without the claim's new state: it names the claim, so that the
// coordinating node can settle or extend it and try again.
func (s *state) claimRequired(r *reservation) Result {
	res := s.refuse(CodeClaimRequired)
	info := s.resInfo(r)
	res.Reservation = &info // info.Claim names the claim
	return res
}

// ClaimReleases returns up to max pending releases of this item shard's
// finished reservations' claims, oldest first.
func (e *Engine) ClaimReleases(max int) []ClaimRelease {
	n := min(max, len(e.st.releases))
	return append([]ClaimRelease(nil), e.st.releases[:n]...)
}
