package protocol

import (
	"time"

	"github.com/invsys/inv/engine"
)

// Coupon serials and issues in a reply's extension (marks.go lists the
// layout; docs/adr/0106).

func appendCoupon(dst []byte, cp *engine.CouponInfo) []byte {
	dst = appendU8(dst, uint8(cp.State))
	chain := uint8(0)
	if cp.ChainWide {
		chain = 1
	}
	dst = appendU8(dst, chain)
	dst = appendStr8(dst, cp.SKU, MaxIDBytes, "coupon sku")
	dst = appendStr8(dst, cp.Store, MaxIDBytes, "coupon store")
	dst = appendStr8(dst, cp.Customer, MaxIDBytes, "coupon customer")
	dst = appendI64(dst, cp.TakenAt)
	dst = appendI64(dst, cp.RedeemedAt)
	return appendStr8(dst, cp.RedeemedBy, MaxIDBytes, "coupon redeemed by")
}

func decodeCoupon(c *cursor) *engine.CouponInfo {
	cp := &engine.CouponInfo{State: engine.CouponState(c.u8())}
	chain := c.u8()
	if c.err == nil && (cp.State < engine.CouponIssued || cp.State > engine.CouponExpired || chain > 1) {
		c.fail(malformed("a coupon's state or chain-wide flag"))
		return cp
	}
	cp.ChainWide = chain == 1
	cp.SKU = string(c.str8(MaxIDBytes, "coupon sku bytes"))
	cp.Store = string(c.str8(MaxIDBytes, "coupon store bytes"))
	cp.Customer = string(c.str8(MaxIDBytes, "coupon customer bytes"))
	cp.TakenAt, cp.RedeemedAt = c.i64(), c.i64()
	cp.RedeemedBy = string(c.str8(MaxIDBytes, "coupon redeemed by bytes"))
	return cp
}

func appendCouponIssue(dst []byte, is *engine.CouponIssueInfo) []byte {
	dst = appendStr8(dst, is.SKU, MaxIDBytes, "issue sku")
	dst = appendStr8(dst, is.Store, MaxIDBytes, "issue store")
	dst = appendU8(dst, uint8(is.Flags))
	for _, v := range [...]int64{is.Serials, is.Available, is.Redeemed, is.Expired, is.Limit, is.OpensAt, is.ClosesAt, int64(is.TTL)} {
		dst = appendI64(dst, v)
	}
	dst = appendU16(dst, uint16(len(is.ByStore))) // may be 0; CheckResult bounds it
	for _, b := range is.ByStore {
		dst = appendStr8(dst, b.Store, MaxIDBytes, "issue by-store store")
		dst = appendI64(dst, b.Count)
	}
	return dst
}

// minStoreCountBytes is one entry of an issue's redemptions by store: a
// one-byte store and its count.
const minStoreCountBytes = 1 + 1 + 8

func decodeCouponIssue(c *cursor) *engine.CouponIssueInfo {
	is := &engine.CouponIssueInfo{}
	is.SKU = string(c.str8(MaxIDBytes, "issue sku bytes"))
	is.Store = string(c.str8(MaxIDBytes, "issue store bytes"))
	is.Flags = engine.CouponFlags(c.u8())
	var ttl int64
	for _, v := range [...]*int64{&is.Serials, &is.Available, &is.Redeemed, &is.Expired, &is.Limit, &is.OpensAt, &is.ClosesAt, &ttl} {
		*v = c.i64()
	}
	is.TTL = time.Duration(ttl)
	if n := c.count(MaxListStores, minStoreCountBytes, "issue stores"); n > 0 {
		is.ByStore = make([]engine.StoreCount, n)
		for i := range is.ByStore {
			is.ByStore[i].Store = string(c.str8(MaxIDBytes, "issue by-store store bytes"))
			is.ByStore[i].Count = c.i64()
		}
	}
	return is
}

// checkCoupon reports why a reply's coupon parts cannot be encoded.
func checkCoupon(r *engine.Result) error {
	if cp := r.Coupon; cp != nil {
		for _, s := range [...]string{cp.SKU, cp.Store, cp.Customer, cp.RedeemedBy} {
			if len(s) > MaxIDBytes {
				return tooLarge("coupon id bytes", len(s), MaxIDBytes)
			}
		}
	}
	if is := r.CouponIssue; is != nil {
		if len(is.SKU) > MaxIDBytes || len(is.Store) > MaxIDBytes {
			return tooLarge("issue id bytes", max(len(is.SKU), len(is.Store)), MaxIDBytes)
		}
		if len(is.ByStore) > MaxListStores {
			return tooLarge("issue stores", len(is.ByStore), MaxListStores)
		}
		for _, b := range is.ByStore {
			if len(b.Store) > MaxIDBytes {
				return tooLarge("store id bytes", len(b.Store), MaxIDBytes)
			}
		}
	}
	return nil
}
