package engine

// Code is the outcome of one command. It is the single error-code table of
// the project: the engine returns it, the wire carries it as a uint16, and
// the client maps it to typed errors. Values are part of the wire format:
// never renumber, only append.
type Code uint16

const (
	OK Code = 0

	// Refusals of the domain (engine).
	CodeBadRequest     Code = 1  // malformed command: bad id length, qty <= 0, bad TTL, bad window ...
	CodeUnknownItem    Code = 2  // no item with that (SKU, store)
	CodeSoldOut        Code = 3  // not enough available units
	CodeWindowFull     Code = 4  // the pickup window's quota is used up
	CodeLimitExceeded  Code = 5  // the customer would own more units of the SKU than the limit
	CodeBlocked        Code = 6  // the customer is blocked
	CodeNotOpen        Code = 7  // before the item's sale window opens
	CodeClosed         Code = 8  // after the item's sale window closed
	CodeRateLimited    Code = 9  // the customer's request rate limit is exhausted
	CodeKeyConflict    Code = 10 // idempotency key reused with different contents
	CodeNotFound       Code = 11 // unknown reservation, customer or window
	CodeExpired        Code = 12 // the reservation expired (EXPIRED or NO_SHOW)
	CodeWrongState     Code = 13 // the reservation is not in a state that allows the operation
	CodeWrongStore     Code = 14 // pickup by id at a store that is not the reservation's (by code alone: CodeBadCode)
	CodeBadCode        Code = 15 // wrong pickup code
	CodeLocked         Code = 16 // too many wrong pickup codes; an operator must unlock
	CodeBelowPromised  Code = 17 // stock or quota change would go below what is already promised
	CodeUnknownWindow  Code = 18 // the item has no pickup window starting at that time
	CodeWindowConflict Code = 19 // a new window overlaps another window of the item
	CodeLinkFailed     Code = 20 // another command of the linked group failed; nothing was applied
	CodeTooMany        Code = 21 // a per-item or per-shard count limit (windows per item, linked group length)
	CodeClaimRequired  Code = 22 // a limited item of a customer whose counters live in another shard: claim there first; or a provisional hold: resolve its claim first
	CodeWindowRequired Code = 23 // a reserve without a pickup window of an item that has windows: pick one
	CodeTooEarly       Code = 24 // a pickup before the reservation's pickup window starts (no attempt counted)
	CodeOutOfOrder     Code = 25 // an outbox message that is not the next one from its shard: the sender resends from its first undelivered one
	CodeUnderReview    Code = 30 // the reservation was held back by its item's mark rule: an operator releases it before it may be confirmed or extended (review.go)
	CodeMarked         Code = 36 // the reserve's screening marks hit the item's mark rule (marks.go); the reply carries the marks

	// Serial-number coupons (coupons.go, docs/adr/0106).
	CodeAlreadyRedeemed Code = 26 // the coupon serial was redeemed before; the reply's coupon says where and when
	CodeUnknownIssue    Code = 27 // no coupon issue with that (SKU, store)

	// Refusals of the server and protocol (never produced by the engine).
	CodeUnauthorized Code = 64 // missing or wrong token, or the role may not do this
	CodeBusy         Code = 65 // a bound was reached; retry after a back-off
	CodeNotLeader    Code = 66 // this node does not lead the shard; see the leader hint
	CodeTooLarge     Code = 67 // frame, field or batch over its limit
	CodeUnknownOp    Code = 68 // op code not known to this server
	CodeProtocol     Code = 69 // malformed frame or field encoding
	CodeNoHello      Code = 70 // a request before HELLO
	CodeUnavailable  Code = 71 // the shard is not ready (no leader, shutting down)
	CodeTimeout      Code = 72 // the proposal did not commit in time; outcome unknown
	CodeInternal     Code = 73 // a bug; the server logged it
	CodeNotHeld      Code = 74 // node to node: this node holds no replica of the shard; ask a node that does
	CodeDiskFull     Code = 75 // the node's disk is below its free-space reserve: writes refused, reads served
)

var codeNames = map[Code]string{
	OK:                 "ok",
	CodeBadRequest:     "bad_request",
	CodeUnknownItem:    "unknown_item",
	CodeSoldOut:        "sold_out",
	CodeWindowFull:     "window_full",
	CodeLimitExceeded:  "limit_exceeded",
	CodeBlocked:        "blocked",
	CodeNotOpen:        "not_open",
	CodeClosed:         "closed",
	CodeRateLimited:    "rate_limited",
	CodeKeyConflict:    "key_conflict",
	CodeNotFound:       "not_found",
	CodeExpired:        "expired",
	CodeWrongState:     "wrong_state",
	CodeWrongStore:     "wrong_store",
	CodeBadCode:        "bad_code",
	CodeLocked:         "locked",
	CodeBelowPromised:  "below_promised",
	CodeUnknownWindow:  "unknown_window",
	CodeWindowConflict: "window_conflict",
	CodeLinkFailed:     "link_failed",
	CodeTooMany:        "too_many",
	CodeClaimRequired:  "claim_required",
	CodeWindowRequired: "window_required",
	CodeTooEarly:       "too_early",
	CodeOutOfOrder:     "out_of_order",
	CodeUnderReview:    "under_review",
	CodeMarked:         "marked",
	CodeUnauthorized:   "unauthorized",
	CodeBusy:           "busy",
	CodeNotLeader:      "not_leader",
	CodeTooLarge:       "too_large",
	CodeUnknownOp:      "unknown_op",
	CodeProtocol:       "protocol_error",
	CodeNoHello:        "no_hello",
	CodeUnavailable:    "unavailable",
	CodeTimeout:        "timeout",
	CodeInternal:       "internal",
	CodeNotHeld:        "not_held",
	CodeDiskFull:       "disk_full",

	CodeAlreadyRedeemed: "already_redeemed",
	CodeUnknownIssue:    "unknown_issue",
}

// String returns the code's stable snake_case name (used by invctl, logs and metrics).
func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return "code_" + itoa(int64(c))
}

// Codes lists every known code in ascending order.
func Codes() []Code {
	out := make([]Code, 0, len(codeNames))
	for c := Code(0); c < 256; c++ {
		if _, ok := codeNames[c]; ok {
			out = append(out, c)
		}
	}
	return out
}

// ParseCode is the inverse of String.
func ParseCode(s string) (Code, bool) {
	for c, n := range codeNames {
		if n == s {
			return c, true
		}
	}
	return 0, false
}

// Refusal reports whether c is a clear domain refusal (as opposed to OK or a
// server/transport condition whose outcome may be unknown).
func (c Code) Refusal() bool { return c != OK && c < 64 }

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
