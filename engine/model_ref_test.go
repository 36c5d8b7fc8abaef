// What this file is: the reference model's state and its batch
// semantics (time, expiry, retention, idempotency keys, linked groups).
// The ops themselves are in model_ops_test.go; TestModelRandom
// (model_test.go) compares the engine with it.
//
// How it stays obviously correct: plain maps and slices, linear scans
// instead of indexes, expiry by scanning every reservation, and a linked
// group run on a deep copy of the whole model that is kept or dropped, with
// no undo log.
package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"sort"
	"time"
)

// ---- the reference model ----

type refItemKey struct{ sku, store string }

type refItem struct {
	sku, store                       string
	stock, held, confirmed, pickedUp int64
	opensAt, closesAt                int64
	memberTier                       uint8
	memberUnits, memberUsed          int64
	memberCutoff                     int64
	windows                          []refWindow // sorted by start
	rule                             Marks       // its mark rule: of first_order and loyal, with or without RuleHoldBack (model_review_test.go)
}

type refWindow struct{ start, end, quota, used int64 }

type refCust struct {
	id          string
	tier        uint8
	blocked     bool
	autoBlocked bool
	noShows     []int64
	rateTAT     int64
	resIDs      []uint64 // kept reservations, oldest first
	orders      int64    // reservations ever made: the first_order mark (model_review_test.go)
	pickups     int64    // orders picked up: with the tier, the loyal mark
}

type refRes struct {
	id               uint64
	sku, store, cust string
	qty, fromShare   int64
	state            State
	attempts         int64
	locked           bool
	window           int64
	createdAt        int64
	expiresAt        int64
	updatedAt        int64
	code             uint64
	review           bool // held back by its item's rule, not released yet
}

type refKey struct {
	at  int64
	cmd Command
	res Result
}

type refModel struct {
	cfg       Config
	now       int64
	seq       uint64
	items     map[refItemKey]*refItem
	itemOrder []refItemKey // creation order (ListItems)
	custs     map[string]*refCust
	res       map[uint64]*refRes  // kept reservations
	owned     map[[2]string]int64 // (customer, sku) -> units held, confirmed or picked up (forgotten pickups included)
	keys      map[string]refKey
	limits    map[string]int64         // sku -> per-customer limit (model_stores_test.go)
	stores    map[string]*refStore     // stores given a zone or a window
	lines     map[refItemKey][]refWait // sold-out items' waitlists, head first (model_waitlist_test.go)
	waitSeq   uint64                   // the last waitlist entry's number
	freed     []refItemKey             // items with a line whose units the running command freed
	issues    map[refItemKey]*refIssue // coupon issues (model_coupons_test.go)
	coupons   map[uint64]*refCoupon    // every serial handed out, by ID
	couponSeq uint64                   // serials handed out so far

	// limitChecks counts accepted reserves checked against the limit (the
	// check itself fails the test through fault).
	limitChecks int
	storeFull   int // reserves refused by a store window's capacity
	joined      int // waitlist entries that joined a line
	promoted    int // heads of lines that became holds
	taken       int // coupon serials handed out
	redeemed    int // coupon serials redeemed
	expired     int // coupon serials expired
	heldBack    int // holds a mark rule held back (model_review_test.go)
	released    int // held-back holds released
	fault       string
}

func newRefModel(cfg Config) *refModel {
	return &refModel{cfg: cfg.WithDefaults(), items: map[refItemKey]*refItem{}, custs: map[string]*refCust{},
		res: map[uint64]*refRes{}, owned: map[[2]string]int64{}, keys: map[string]refKey{},
		limits: map[string]int64{}, stores: map[string]*refStore{}, lines: map[refItemKey][]refWait{},
		issues: map[refItemKey]*refIssue{}, coupons: map[uint64]*refCoupon{}}
}

// clone copies everything a linked group may change. Keys are shared: a
// group only reads them while it runs.
func (m *refModel) clone() *refModel {
	c := *m
	c.items = make(map[refItemKey]*refItem, len(m.items))
	for k, it := range m.items {
		x := *it
		x.windows = append([]refWindow(nil), it.windows...)
		c.items[k] = &x
	}
	c.itemOrder = append([]refItemKey(nil), m.itemOrder...)
	c.custs = make(map[string]*refCust, len(m.custs))
	for k, cu := range m.custs {
		x := *cu
		x.noShows = append([]int64(nil), cu.noShows...)
		x.resIDs = append([]uint64(nil), cu.resIDs...)
		c.custs[k] = &x
	}
	c.res = make(map[uint64]*refRes, len(m.res))
	for k, r := range m.res {
		x := *r
		c.res[k] = &x
	}
	c.owned = make(map[[2]string]int64, len(m.owned))
	for k, v := range m.owned {
		c.owned[k] = v
	}
	c.limits = make(map[string]int64, len(m.limits))
	for k, v := range m.limits {
		c.limits[k] = v
	}
	c.lines = make(map[refItemKey][]refWait, len(m.lines))
	for k, line := range m.lines {
		c.lines[k] = append([]refWait(nil), line...)
	}
	c.freed = append([]refItemKey(nil), m.freed...)
	c.stores = make(map[string]*refStore, len(m.stores))
	for k, st := range m.stores {
		x := *st
		x.windows = append([]refWindow(nil), st.windows...)
		c.stores[k] = &x
	}
	return &c
}

func refValidID(b []byte) bool { return len(b) >= 1 && len(b) <= MaxIDBytes }

// refPickupCode is the pickup code, computed here from its definition
// (docs/adr/0005): HMAC-SHA256(secret, "inv-pick" || id) mod 10^12.
func refPickupCode(secret []byte, id uint64) uint64 {
	mac := hmac.New(sha256.New, secret)
	var b [16]byte
	copy(b[:8], "inv-pick")
	binary.BigEndian.PutUint64(b[8:], id)
	mac.Write(b[:])
	return binary.BigEndian.Uint64(mac.Sum(nil)[:8]) % 1_000_000_000_000
}

// refMutating: ops below the reads take an idempotency key, except expire
// and the nodes' own ops of rules across shards (claim 9, release_claim 10,
// anchor_claim 14, resolve_claim 15, delivered 29), which are idempotent by
// their claim or message instead; update_item (45), the waitlist's join and
// leave, set_mark_rule and release_review came after the reads.
func refMutating(op Op) bool {
	switch op {
	case OpExpire, 9, 10, 14, 15, 29:
		return false
	}
	return op < OpGetItem || op == OpUpdateItem || op == OpJoinWaitlist || op == OpLeaveWaitlist ||
		op == OpPutCouponIssue || op == OpTakeCoupon || op == OpRedeemCoupon ||
		op == OpSetMarkRule || op == OpReleaseReview
}

func refLinkable(op Op) bool {
	switch op {
	case OpReserve, OpConfirm, OpExtend, OpCancel, OpReschedule, OpReturn:
		return true
	}
	return false
}

// refSame reports whether two commands are the same request (docs/adr/0003):
// the op, ids, qty, window, TTL, reservation id, code and restock flag; for
// operator ops also their own fields. The key and the link flag are not
// contents, nor are fields a storefront op does not read.
func refSame(a, b *Command) bool {
	type storefront struct {
		op               Op
		sku, store, cust string
		qty, window      int64
		ttl              time.Duration
		id, code         uint64
		restock          bool
	}
	sf := func(c *Command) storefront {
		return storefront{c.Op, string(c.SKU), string(c.Store), string(c.Customer), c.Qty, c.Window, c.TTL, c.ID, c.PickupCode, c.Restock}
	}
	type operator struct {
		windowEnd, quota, stock, limit, opensAt, closesAt, memberUnits, memberCutoff int64
		memberTier, tier                                                             uint8
	}
	op := func(c *Command) operator {
		return operator{c.WindowEnd, c.Quota, c.Stock, c.Limit, c.OpensAt, c.ClosesAt, c.MemberUnits, c.MemberCutoff, c.MemberTier, c.Tier}
	}
	return sf(a) == sf(b) && (a.Op < OpPutItem || op(a) == op(b) && string(a.Zone) == string(b.Zone) &&
		a.Set == b.Set && string(a.Reason) == string(b.Reason) && a.CouponFlags == b.CouponFlags && a.Marks == b.Marks)
}

func refCopyCmd(c *Command) Command {
	x := *c
	x.SKU = append([]byte(nil), c.SKU...)
	x.Store = append([]byte(nil), c.Store...)
	x.Customer = append([]byte(nil), c.Customer...)
	x.Key = append([]byte(nil), c.Key...)
	x.Zone = append([]byte(nil), c.Zone...)
	x.Reason = append([]byte(nil), c.Reason...)
	return x
}

// refStored is what a replay returns: the reservation fields, no read views.
func refStored(r Result) Result {
	return Result{Code: r.Code, ID: r.ID, State: r.State, Qty: r.Qty, Window: r.Window,
		ExpiresAt: r.ExpiresAt, PickupCode: r.PickupCode}
}

func refBad(c Code) Result { return Result{Code: c} }

// apply runs one batch: time, expiry, key and record retention, then the commands.
func (m *refModel) apply(now int64, cmds []Command) []Result {
	if now > m.now {
		m.now = now
	}
	m.expireWaits()
	m.expireCoupons()
	m.expire()
	m.promoteFreed() // the units expiry freed go to the heads of their lines first
	for k, v := range m.keys {
		if v.at <= m.now-int64(m.cfg.IdempotencyRetention) {
			delete(m.keys, k)
		}
	}
	m.collect()
	out := make([]Result, 0, len(cmds))
	for i := 0; i < len(cmds); {
		n := 1
		for i+n-1 < len(cmds)-1 && cmds[i+n-1].Linked {
			n++
		}
		if n == 1 && !cmds[i].Linked {
			out = append(out, m.keyed(&cmds[i]))
		} else {
			out = append(out, m.linked(cmds[i:i+n])...)
		}
		m.promoteFreed() // after the command, or after the group is decided
		i += n
	}
	return out
}

// expire ends every hold past its TTL and every confirmed reservation past
// its pickup deadline, earliest first.
func (m *refModel) expire() {
	var due []*refRes
	for _, r := range m.res {
		if (r.state == StateHeld || r.state == StateConfirmed) && r.expiresAt <= m.now {
			due = append(due, r)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if due[i].expiresAt != due[j].expiresAt {
			return due[i].expiresAt < due[j].expiresAt
		}
		return due[i].id < due[j].id
	})
	for _, r := range due {
		m.release(r, r.qty)
		if r.state == StateHeld {
			m.finish(r, StateExpired)
			continue
		}
		m.finish(r, StateNoShow)
		cu := m.custs[r.cust]
		if m.cfg.NoShowLimit < 0 {
			continue
		}
		var kept []int64
		for _, t := range cu.noShows {
			if t > m.now-int64(m.cfg.NoShowPeriod) {
				kept = append(kept, t)
			}
		}
		cu.noShows = append(kept, m.now)
		if len(cu.noShows) >= m.cfg.NoShowLimit && !cu.blocked {
			cu.blocked, cu.autoBlocked = true, true
		}
	}
}

// collect forgets finished (and picked-up) reservations older than the retention.
func (m *refModel) collect() {
	for id, r := range m.res {
		if r.state == StateHeld || r.state == StateConfirmed || r.updatedAt > m.now-int64(m.cfg.FinishedRetention) {
			continue
		}
		delete(m.res, id)
		cu := m.custs[r.cust]
		for i, x := range cu.resIDs {
			if x == id {
				cu.resIDs = append(cu.resIDs[:i:i], cu.resIDs[i+1:]...)
				break
			}
		}
	}
}

func (m *refModel) keyed(c *Command) Result {
	if len(c.Key) == 0 || !refMutating(c.Op) {
		return m.one(c)
	}
	if len(c.Key) > MaxKeyBytes {
		return refBad(CodeBadRequest)
	}
	if k, ok := m.keys[string(c.Key)]; ok {
		if !refSame(&k.cmd, c) {
			return refBad(CodeKeyConflict)
		}
		if (c.Op == OpJoinWaitlist || c.Op == OpLeaveWaitlist) && k.res.Code == OK {
			return m.waitReplay(c, k.res)
		}
		if c.Op == OpPutCouponIssue || c.Op == OpTakeCoupon || c.Op == OpRedeemCoupon {
			return m.couponReplay(c, k.res)
		}
		return m.reviewReplay(c, k.res)
	}
	r := m.one(c)
	m.keys[string(c.Key)] = refKey{at: m.now, cmd: refCopyCmd(c), res: refStored(r)}
	return r
}

// lookup is what a key says before a command runs: (result, true) for a
// replay, a conflict or an oversize key.
func (m *refModel) lookup(c *Command) (Result, bool) {
	if len(c.Key) == 0 {
		return Result{}, false
	}
	if len(c.Key) > MaxKeyBytes {
		return refBad(CodeBadRequest), true
	}
	k, ok := m.keys[string(c.Key)]
	if !ok {
		return Result{}, false
	}
	if !refSame(&k.cmd, c) {
		return refBad(CodeKeyConflict), true
	}
	return k.res, true
}

// linked runs a chain all-or-nothing on a copy of the model. Every line
// must end OK (a replayed refusal or a key conflict fails the group like a
// fresh refusal); if one fails, the copy is dropped, the failing line keeps
// its code, replays keep their first result and the other lines get
// link_failed. Keys are stored once the group is decided.
func (m *refModel) linked(chain []Command) []Result {
	out := make([]Result, len(chain))
	bad := OK
	switch {
	case chain[len(chain)-1].Linked:
		bad = CodeBadRequest
	case len(chain) > MaxLinked:
		bad = CodeTooMany
	}
	for i := range chain {
		if bad == OK && !refLinkable(chain[i].Op) {
			bad = CodeBadRequest
		}
	}
	if bad != OK {
		for i := range out {
			out[i] = refBad(bad)
		}
		return out
	}
	trial := m.clone()
	failed := -1
	for i := range chain {
		c := &chain[i]
		r, replay := m.lookup(c)
		if replay {
			r = m.reviewReplay(c, r) // as the engine's replayed; a failed group's replays below keep the bare record
		}
		if !replay && len(c.Key) > 0 {
			for j := 0; j < i; j++ { // the same key earlier in the group: a replay of that line
				if string(chain[j].Key) == string(c.Key) {
					r, replay = refStored(out[j]), true
					r.UnderReview = out[j].UnderReview // the engine answers the earlier line's result whole
					if !refSame(&chain[j], c) {
						r = refBad(CodeKeyConflict)
					}
					break
				}
			}
		}
		if !replay {
			r = trial.one(c)
		}
		out[i] = r
		if r.Code != OK {
			failed = i
			break
		}
	}
	if failed < 0 {
		keys := m.keys
		*m = *trial
		m.keys = keys
	} else {
		// A dropped group freed nothing: its marks go with it (m.freed is as before the group).
		code := out[failed].Code
		for i := range chain {
			switch prev, ok := m.lookup(&chain[i]); {
			case i == failed:
				out[i] = refBad(code)
			case ok:
				out[i] = prev
			default:
				out[i] = refBad(CodeLinkFailed)
			}
		}
	}
	for i := range chain {
		c := &chain[i]
		if _, ok := m.keys[string(c.Key)]; len(c.Key) > 0 && len(c.Key) <= MaxKeyBytes && !ok {
			m.keys[string(c.Key)] = refKey{at: m.now, cmd: refCopyCmd(c), res: refStored(out[i])}
		}
	}
	return out
}

func (m *refModel) one(c *Command) Result {
	switch c.Op {
	case OpReserve:
		return m.reserve(c)
	case OpConfirm:
		return m.confirm(c)
	case OpExtend:
		return m.extend(c)
	case OpCancel:
		return m.cancel(c)
	case OpPickup:
		return m.pickup(c)
	case OpReschedule:
		return m.reschedule(c)
	case OpReturn:
		return m.ret(c)
	case OpExpire:
		return Result{}
	case OpPutItem:
		return m.putItem(c)
	case OpPutWindow:
		return m.putWindow(c)
	case OpRestock:
		return m.restock(c)
	case OpAdjustStock:
		return m.adjust(c)
	case OpSetSaleWindow:
		return m.saleWindow(c)
	case OpSetLimit:
		return m.setLimit(c)
	case OpSetMemberShare:
		return m.memberShare(c)
	case OpUpdateItem:
		return m.updateItem(c)
	case OpBlock, OpUnblock, OpSetTier:
		return m.customerOp(c)
	case OpUnlock:
		return m.unlock(c)
	case OpPutStore:
		return m.putStore(c)
	case OpPutStoreWindow:
		return m.putStoreWindow(c)
	case OpGetStore:
		return m.getStore(c)
	case OpJoinWaitlist:
		return m.joinWaitlist(c)
	case OpLeaveWaitlist:
		return m.leaveWaitlist(c)
	case OpGetWaitlist:
		return m.getWaitlist(c)
	case OpPutCouponIssue:
		return m.putCouponIssue(c)
	case OpTakeCoupon:
		return m.takeCoupon(c)
	case OpRedeemCoupon:
		return m.redeemCoupon(c)
	case OpGetCoupon:
		return m.getCoupon(c)
	case OpGetCouponIssue:
		return m.getCouponIssue(c)
	case OpSetMarkRule:
		return m.setMarkRule(c)
	case OpReleaseReview:
		return m.releaseReview(c)
	case OpGetItem, OpGetWindow, OpGetReservation, OpGetCustomer, OpListReservations, OpStoresWithStock, OpListItems:
		return m.read(c)
	}
	return refBad(CodeBadRequest)
}
