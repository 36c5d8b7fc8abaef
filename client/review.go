package client

import (
	"context"

	"github.com/invsys/inv/engine"
)

// Review of held-back reservations (docs/adr/0107). An item's mark rule
// either refuses the reserves its marks hit (ErrMarked) or holds them back:
// the reserve succeeds (Result.UnderReview), the units are taken and the
// customer's limit counts them, but Confirm and Extend answer
// ErrUnderReview until a store (at the reservation's store) or an operator
// releases the hold. Cancel ends it; its hold's TTL runs as for any hold.

// ErrUnderReview: the hold was held back by its item's mark rule; it cannot
// be confirmed or extended until ReleaseReview.
var ErrUnderReview = sentinelSaying(engine.CodeUnderReview,
	"the order is held back for review: staff must release it before it can be confirmed")

// MarkAction is what an item's mark rule does to a reserve its marks hit.
type MarkAction uint8

const (
	MarkRefuse   MarkAction = iota // refuse it: ErrMarked
	MarkHoldBack                   // take the hold under review: Result.UnderReview
)

// String is the action's name as invctl takes it: "refuse" or "hold".
func (a MarkAction) String() string {
	if a == MarkHoldBack {
		return "hold"
	}
	return "refuse"
}

// ParseMarkAction is the inverse of String.
func ParseMarkAction(s string) (MarkAction, bool) {
	switch s {
	case "refuse":
		return MarkRefuse, true
	case "hold":
		return MarkHoldBack, true
	}
	return 0, false
}

// ruleWord is the rule's word on the wire: the marks, and the action in
// engine.RuleHoldBack.
func (r MarkRule) ruleWord() engine.Marks {
	m := r.Refuse &^ engine.RuleHoldBack
	if r.Action == MarkHoldBack && m != 0 {
		m |= engine.RuleHoldBack
	}
	return m
}

// ReadMarkRule reads an item's whole mark rule: its marks and its action
// (operator).
func (c *Client) ReadMarkRule(ctx context.Context, sku, store string, opts ...ReadOption) (MarkRule, error) {
	r := request{kind: kindOp, sku: sku, store: store, cmd: engine.Command{Op: engine.OpGetMarkRule}}
	if err := c.read(ctx, &r, opts); err != nil {
		return MarkRule{}, err
	}
	rule := MarkRule{SKU: sku, Store: store, Refuse: r.res.Marks &^ engine.RuleHoldBack}
	if r.res.Marks&engine.RuleHoldBack != 0 {
		rule.Action = MarkHoldBack
	}
	return rule, errorOf(r.res.Code)
}

// ReleaseReviewRequest names a held-back hold to release.
type ReleaseReviewRequest struct {
	ID  uint64
	Key string
}

// ReleaseReview lets a held-back hold be confirmed (a store token at the
// reservation's store, or an operator). A hold not under review answers
// ErrWrongState; one whose TTL passed, ErrExpired.
func (c *Client) ReleaseReview(ctx context.Context, req ReleaseReviewRequest) (Result, error) {
	r := request{kind: kindOp, key: req.Key, cmd: engine.Command{Op: engine.OpReleaseReview, ID: req.ID}}
	return c.mutateID(ctx, &r)
}
