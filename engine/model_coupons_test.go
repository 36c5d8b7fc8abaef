// What this file is: the reference model's serial-number coupons
// (docs/adr/0106), which TestModelRandom compares with the engine's
// (coupons.go) result by result: put_coupon_issue, take_coupon,
// redeem_coupon, get_coupon and get_coupon_issue, the serials' expiry
// (back to the pool or not), the drop of expired records after the
// retention, and replays of keyed takes and redeems.
//
// How it stays obviously correct: every serial ever handed out stays in
// one map with its state (a dropped record is only marked so); an issue's
// counts (serials out, redeemed, expired, a customer's serials, the
// redemptions by store) are recounted from that map on every read, and
// expiry scans every serial.
package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"sort"
	"strings"
	"time"
)

// refIssue is one coupon issue's settings.
type refIssue struct {
	flags                             CouponFlags
	serials, limit, opensAt, closesAt int64
	ttl                               time.Duration
}

// refCoupon is one serial ever handed out.
type refCoupon struct {
	issue                          refItemKey
	cust                           string
	state                          CouponState
	takenAt, expiresAt, redeemedAt int64
	by                             string
	returned                       bool // expired and given back to the pool
	dropped                        bool // its record is gone (retention passed)
}

// refCouponCode is a serial's code from its definition (docs/adr/0106):
// HMAC-SHA256(secret, "inv-cpn\x00" || id) mod 10^12.
func refCouponCode(secret []byte, id uint64) uint64 {
	mac := hmac.New(sha256.New, secret)
	var b [16]byte
	copy(b[:8], "inv-cpn\x00")
	binary.BigEndian.PutUint64(b[8:], id)
	mac.Write(b[:])
	return binary.BigEndian.Uint64(mac.Sum(nil)[:8]) % 1_000_000_000_000
}

// counts recounts an issue from its serials: those out of the pool, the
// redeemed and expired ones, one customer's that count against its limit,
// and the redemptions by store.
func (m *refModel) counts(k refItemKey, cust string) (out, redeemed, expired, mine int64, by map[string]int64) {
	by = map[string]int64{}
	for _, cp := range m.coupons {
		if cp.issue != k {
			continue
		}
		counts := !cp.returned
		if counts {
			out++
		}
		if counts && cp.cust == cust {
			mine++
		}
		switch cp.state {
		case CouponRedeemed:
			redeemed++
			by[cp.by]++
		case CouponExpired:
			expired++
		}
	}
	return
}

func (m *refModel) issueInfo(k refItemKey) *CouponIssueInfo {
	is := m.issues[k]
	out, redeemed, expired, _, by := m.counts(k, "")
	info := &CouponIssueInfo{SKU: k.sku, Store: k.store, Flags: is.flags, Serials: is.serials, Available: is.serials - out,
		Redeemed: redeemed, Expired: expired, Limit: is.limit, OpensAt: is.opensAt, ClosesAt: is.closesAt, TTL: is.ttl}
	for st, n := range by {
		info.ByStore = append(info.ByStore, StoreCount{Store: st, Count: n})
	}
	sort.Slice(info.ByStore, func(i, j int) bool { return strings.Compare(info.ByStore[i].Store, info.ByStore[j].Store) < 0 })
	return info
}

func (m *refModel) couponResult(id uint64) Result {
	cp := m.coupons[id]
	is := m.issues[cp.issue]
	return Result{ID: id, PickupCode: refCouponCode(m.cfg.PickupSecret, id), ExpiresAt: cp.expiresAt,
		Coupon: &CouponInfo{SKU: cp.issue.sku, Store: cp.issue.store, Customer: cp.cust, State: cp.state,
			ChainWide: is.flags&CouponChainWide != 0, TakenAt: cp.takenAt, RedeemedAt: cp.redeemedAt, RedeemedBy: cp.by}}
}

func (m *refModel) putCouponIssue(c *Command) Result {
	if !refValidID(c.SKU) || !refValidID(c.Store) || c.Stock <= 0 || c.Stock > MaxCouponSerials ||
		c.Limit < 0 || c.Limit > MaxCouponSerials || c.TTL < 0 || c.TTL > MaxCouponTTL ||
		c.CouponFlags > CouponChainWide|CouponReturnOnExpiry || (c.ClosesAt != 0 && c.ClosesAt <= c.OpensAt) {
		return refBad(CodeBadRequest)
	}
	k := refItemKey{string(c.SKU), string(c.Store)}
	if m.issues[k] == nil && len(m.issues) >= MaxCouponIssues {
		return refBad(CodeTooMany)
	}
	if out, _, _, _, _ := m.counts(k, ""); m.issues[k] != nil && c.Stock < out {
		return refBad(CodeBelowPromised)
	}
	m.issues[k] = &refIssue{flags: c.CouponFlags, serials: c.Stock, limit: c.Limit, opensAt: c.OpensAt, closesAt: c.ClosesAt, ttl: c.TTL}
	return Result{CouponIssue: m.issueInfo(k)}
}

func (m *refModel) takeCoupon(c *Command) Result {
	if !refValidID(c.SKU) || !refValidID(c.Store) || !refValidID(c.Customer) {
		return refBad(CodeBadRequest)
	}
	k := refItemKey{string(c.SKU), string(c.Store)}
	is := m.issues[k]
	if is == nil {
		return refBad(CodeUnknownIssue)
	}
	out, _, _, mine, _ := m.counts(k, string(c.Customer))
	switch cu := m.custs[string(c.Customer)]; {
	case cu != nil && cu.blocked:
		return refBad(CodeBlocked)
	case is.opensAt != 0 && m.now < is.opensAt:
		return refBad(CodeNotOpen)
	case is.closesAt != 0 && m.now >= is.closesAt:
		return refBad(CodeClosed)
	case out >= is.serials:
		return refBad(CodeSoldOut)
	case is.limit > 0 && mine >= is.limit:
		return refBad(CodeLimitExceeded)
	}
	m.couponSeq++
	id := MakeID(m.cfg.ShardID, 1<<47|m.couponSeq)
	var exp int64
	if is.ttl > 0 {
		exp = m.now + int64(is.ttl)
	}
	if is.closesAt != 0 && (exp == 0 || is.closesAt < exp) {
		exp = is.closesAt
	}
	m.coupons[id] = &refCoupon{issue: k, cust: string(c.Customer), state: CouponIssued, takenAt: m.now, expiresAt: exp}
	m.taken++
	return m.couponResult(id)
}

// liveCoupon returns the serial (id, code) whose record is kept, or false.
func (m *refModel) liveCoupon(id, code uint64) bool {
	cp := m.coupons[id]
	return cp != nil && !cp.dropped && code == refCouponCode(m.cfg.PickupSecret, id)
}

func (m *refModel) redeemCoupon(c *Command) Result {
	if c.ID == 0 || c.PickupCode == 0 || c.PickupCode >= 1_000_000_000_000 || !refValidID(c.Store) {
		return refBad(CodeBadRequest)
	}
	if !m.liveCoupon(c.ID, c.PickupCode) {
		return refBad(CodeNotFound)
	}
	cp := m.coupons[c.ID]
	is := m.issues[cp.issue]
	switch {
	case cp.state == CouponRedeemed:
		r := m.couponResult(c.ID)
		return Result{Code: CodeAlreadyRedeemed, ID: c.ID, Coupon: r.Coupon}
	case cp.state == CouponExpired:
		return refBad(CodeExpired)
	case is.flags&CouponChainWide == 0 && string(c.Store) != cp.issue.store:
		return refBad(CodeWrongStore)
	case is.opensAt != 0 && m.now < is.opensAt:
		return refBad(CodeNotOpen)
	}
	if _, _, _, _, by := m.counts(cp.issue, ""); len(by) >= MaxCouponStores && by[string(c.Store)] == 0 {
		return refBad(CodeTooMany)
	}
	cp.state, cp.redeemedAt, cp.by = CouponRedeemed, m.now, string(c.Store)
	m.redeemed++
	return m.couponResult(c.ID)
}

func (m *refModel) getCoupon(c *Command) Result {
	if c.ID == 0 || c.PickupCode == 0 || c.PickupCode >= 1_000_000_000_000 {
		return refBad(CodeBadRequest)
	}
	if !m.liveCoupon(c.ID, c.PickupCode) {
		return refBad(CodeNotFound)
	}
	return m.couponResult(c.ID)
}

func (m *refModel) getCouponIssue(c *Command) Result {
	if !refValidID(c.SKU) || !refValidID(c.Store) {
		return refBad(CodeBadRequest)
	}
	k := refItemKey{string(c.SKU), string(c.Store)}
	if m.issues[k] == nil {
		return refBad(CodeUnknownIssue)
	}
	return Result{CouponIssue: m.issueInfo(k)}
}

// couponReplay is a replayed put's, take's or redeem's answer: the stored
// result with the issue or the serial as it stands now.
func (m *refModel) couponReplay(c *Command, res Result) Result {
	if c.Op == OpPutCouponIssue {
		if res.Code == OK {
			res.CouponIssue = m.issueInfo(refItemKey{string(c.SKU), string(c.Store)})
		}
		return res
	}
	if cp := m.coupons[res.ID]; cp != nil && !cp.dropped && res.ID != 0 {
		res.Coupon = m.couponResult(res.ID).Coupon
	}
	return res
}

// expireCoupons ends the issued serials whose expiry has passed (back to
// the pool when their issue says so now) and drops the records of those
// that expired the retention ago.
func (m *refModel) expireCoupons() {
	for _, cp := range m.coupons {
		switch {
		case cp.state == CouponIssued && cp.expiresAt != 0 && cp.expiresAt <= m.now:
			cp.state = CouponExpired
			cp.returned = m.issues[cp.issue].flags&CouponReturnOnExpiry != 0
			m.expired++
		}
		if cp.state == CouponExpired && cp.expiresAt+int64(m.cfg.FinishedRetention) <= m.now {
			cp.dropped = true
		}
	}
}

var (
	refIssueSKUs   = []string{"K1", "K2"}
	refIssueStores = []string{"S1", "WEB"}
)

// coupon draws a coupon command (docs/adr/0106): an issue put with a small
// pool (so that takes run it dry), takes, redeems of serials in every
// state at their store or another with the right code or a wrong one,
// and the reads; now and then a malformed one.
func (g *refGen) coupon() Command {
	sku, store := g.idOf(refIssueSKUs), g.idOf(refIssueStores)
	switch p := g.r.IntN(100); {
	case p < 12:
		c := Command{Op: OpPutCouponIssue, SKU: sku, Store: store, Stock: 1 + g.r.Int64N(4),
			CouponFlags: CouponFlags(g.r.IntN(4)), Limit: g.r.Int64N(3)}
		switch q := g.r.IntN(100); {
		case q < 40:
			c.TTL = time.Duration(1 + g.r.Int64N(int64(20*time.Minute)))
		case q < 60:
			c.ClosesAt = g.m.now + 1 + g.r.Int64N(int64(time.Hour))
		case q < 70:
			c.OpensAt = g.m.now + g.r.Int64N(int64(10*time.Minute))
		case q < 73:
			c.Stock = MaxCouponSerials + 1
		case q < 75:
			c.CouponFlags = 4
		}
		return c
	case p < 50:
		return Command{Op: OpTakeCoupon, SKU: sku, Store: store, Customer: g.idOf(refCusts)}
	case p < 85:
		id, code := g.serial()
		return Command{Op: OpRedeemCoupon, ID: id, PickupCode: code, Store: g.idOf(append(refStores, "WEB"))}
	case p < 95:
		id, code := g.serial()
		return Command{Op: OpGetCoupon, ID: id, PickupCode: code}
	}
	return Command{Op: OpGetCouponIssue, SKU: sku, Store: store}
}

// serial picks a serial the model knows (any state), mostly with its
// right code; else a made-up one.
func (g *refGen) serial() (uint64, uint64) {
	if len(g.m.coupons) == 0 || g.chance(5) {
		id := MakeID(g.m.cfg.ShardID, 1<<47|uint64(1+g.r.IntN(4)))
		return id, 1 + g.r.Uint64N(999_999_999_999)
	}
	ids := make([]uint64, 0, len(g.m.coupons))
	for id := range g.m.coupons {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] }) // map order is random: keep runs replayable
	id := ids[g.r.IntN(len(ids))]
	if g.chance(8) {
		return id, refCouponCode(g.m.cfg.PickupSecret, id) ^ 1
	}
	return id, refCouponCode(g.m.cfg.PickupSecret, id)
}
