package engine

import (
	"slices"
	"strings"
	"time"
)

// CouponInfo is a read of one serial (coupons.go). The serial itself is
// the Result's ID and PickupCode; its expiry the Result's ExpiresAt.
type CouponInfo struct {
	SKU, Store string // the issue's
	Customer   string // who took it
	State      CouponState
	ChainWide  bool // any store redeems it (else Store only)
	TakenAt    int64
	RedeemedAt int64  // 0 = not redeemed
	RedeemedBy string // the store that redeemed it
}

// CouponIssueInfo is a read of one issue: its settings, its counts, and
// its redemptions by store, the invoicing report.
type CouponIssueInfo struct {
	SKU, Store string
	Flags      CouponFlags
	Serials    int64 // the pool's size
	Available  int64 // serials left to hand out: Serials minus those out
	Redeemed   int64
	Expired    int64 // expired unredeemed, returned to the pool or not
	Limit      int64 // serials per customer (0 = none)
	OpensAt    int64
	ClosesAt   int64
	TTL        time.Duration // a serial's life after it is taken (0 = until ClosesAt)
	ByStore    []StoreCount  // redemptions by store, by store id
}

// StoreCount is a count at one store.
type StoreCount struct {
	Store string
	Count int64
}

func (s *state) couponInfo(cp *coupon) *CouponInfo {
	is := s.coupons.issues[cp.issue]
	return &CouponInfo{SKU: is.sku, Store: is.store, Customer: cp.customer, State: cp.state,
		ChainWide: is.flags&CouponChainWide != 0, TakenAt: cp.takenAt, RedeemedAt: cp.redeemedAt, RedeemedBy: cp.redeemedBy}
}

func (s *state) issueInfo(is *couponIssue) *CouponIssueInfo {
	info := &CouponIssueInfo{SKU: is.sku, Store: is.store, Flags: is.flags, Serials: is.serials,
		Available: is.serials - is.out, Redeemed: is.redeemed, Expired: is.expired, Limit: is.limit,
		OpensAt: is.opensAt, ClosesAt: is.closesAt, TTL: time.Duration(is.ttl)}
	for st, n := range is.byStore {
		info.ByStore = append(info.ByStore, StoreCount{Store: st, Count: n})
	}
	slices.SortFunc(info.ByStore, func(a, b StoreCount) int { return strings.Compare(a.Store, b.Store) })
	return info
}
