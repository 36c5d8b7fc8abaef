package main

import (
	"strings"

	"github.com/invsys/inv/engine"
)

// subject is what a command was about: the hints of its refusals name it,
// so that the next command can be pasted. Empty fields print as a
// placeholder (SKU, STORE, ID ...).
type subject struct {
	sku, store, customer, id, key string
	window                        string // the pickup window the command named
	waitlist                      bool   // a waitlist command: refusals are about the item's line
	coupon                        bool   // a coupons command: id is a serial, refusals are about it or its issue
}

// about records what the running command is about, for its hints.
func (e *env) about(s subject) { e.sub = s }

// or is v, or the placeholder p when v is empty.
func or(v, p string) string {
	if v == "" {
		return p
	}
	return v
}

// hintFor is one line saying what a shell user can do about code, for the
// command e ran (nil for codes a user of invctl cannot get: link_failed
// comes only from linked groups, which invctl does not send; not_leader is
// answered inside the client; claim_required reaches a shell user only
// from a waitlist join served by a node older than docs/adr/0112, which
// takes the customer's claim itself).
func hintFor(code engine.Code, e *env) string {
	if h := hints[code]; h != nil {
		return h(e.sub, e.addr)
	}
	return ""
}

// hints per code; each gets the command's subject and the server address.
var hints = map[engine.Code]func(s subject, addr string) string{
	engine.CodeDiskFull: func(subject, string) string {
		return "the node's data disk is below its free-space reserve (disk_reserve_bytes): it refuses writes " +
			"until space is freed there and resumes by itself; reads still work (docs/OPERATIONS.md, Disk space)"
	},
	engine.CodeBadRequest: func(s subject, _ string) string {
		return "the server refused a value of the request; invctl COMMAND -h lists each flag's form"
	},
	engine.CodeUnknownItem: func(s subject, _ string) string {
		sku, store := or(s.sku, "SKU"), or(s.store, "STORE")
		return "no item " + sku + " at store " + store + "; create it with invctl item put --sku " + sku +
			" --store " + store + " --stock N"
	},
	engine.CodeSoldOut: func(s subject, _ string) string {
		sku, store := or(s.sku, "SKU"), or(s.store, "STORE")
		if s.coupon {
			return "every serial of " + sku + " at " + store + " is out; invctl coupons issue --sku " + sku + " --store " + store +
				" --serials N (more than now) adds serials"
		}
		return "not enough units of " + sku + " left at " + store + "; invctl stores --sku " + sku +
			" lists stores that have some, invctl item restock --sku " + sku + " --store " + store + " --qty N adds stock"
	},
	engine.CodeWindowFull: func(s subject, _ string) string {
		sku, store := or(s.sku, "SKU"), or(s.store, "STORE")
		return "that pickup window is full; invctl item get --sku " + sku + " --store " + store +
			" and invctl store get --store " + store + " show each window's room"
	},
	engine.CodeLimitExceeded: func(s subject, _ string) string {
		sku, c := or(s.sku, "SKU"), or(s.customer, "CUSTOMER")
		if s.coupon {
			return "customer " + c + " already has as many serials of " + sku + " as the issue allows; invctl coupons report --sku " +
				sku + " --store " + or(s.store, "STORE") + " shows the limit"
		}
		return "customer " + c + " would own more units of " + sku + " than its limit; invctl reservation list --customer " +
			c + " shows what it holds, invctl item limit --sku " + sku + " --limit N changes the limit"
	},
	engine.CodeBlocked: func(s subject, _ string) string {
		c := or(s.customer, "CUSTOMER")
		return "customer " + c + " is blocked; invctl customer get " + c + " shows why, invctl customer unblock " + c + " lifts it"
	},
	engine.CodeNotOpen: func(s subject, _ string) string {
		sku, store := or(s.sku, "SKU"), or(s.store, "STORE")
		return "the sale of " + sku + " at " + store + " has not opened yet; invctl item get --sku " + sku + " --store " + store +
			" shows when, invctl item sale-window --sku " + sku + " --store " + store + " --opens TIME moves it"
	},
	engine.CodeClosed: func(s subject, _ string) string {
		sku, store := or(s.sku, "SKU"), or(s.store, "STORE")
		return "the sale of " + sku + " at " + store + " has closed; invctl item sale-window --sku " + sku + " --store " + store +
			" --closes TIME reopens it (no --closes: never closes)"
	},
	engine.CodeRateLimited: func(s subject, _ string) string {
		return "customer " + or(s.customer, "CUSTOMER") + " sent too many requests; wait a second and retry"
	},
	engine.CodeKeyConflict: func(s subject, _ string) string {
		return "the idempotency key " + or(s.key, "KEY") + " was used before for another request; give this one a new --key"
	},
	engine.CodeNotFound: func(s subject, _ string) string {
		switch {
		case s.coupon:
			return "no coupon serial " + or(s.id, "SERIAL") + ": check its 33 digits against the barcode (a wrong code reads as no serial)"
		case s.waitlist:
			sku, store := or(s.sku, "SKU"), or(s.store, "STORE")
			return "customer " + or(s.customer, "CUSTOMER") + " is not in the line of " + sku + " at " + store +
				"; invctl waitlist show --sku " + sku + " --store " + store + " --customer " + or(s.customer, "CUSTOMER") + " shows it"
		case s.id != "":
			return "no reservation " + s.id + "; invctl reservation list --customer CUSTOMER lists a customer's reservations"
		case s.customer != "":
			return "no customer " + s.customer + "; a customer is known once it has reserved or was given a tier"
		case s.window != "":
			return "no window at " + s.window + "; invctl item get --sku " + or(s.sku, "SKU") + " --store " +
				or(s.store, "STORE") + " lists the item's windows"
		case s.store != "":
			return "no store " + s.store + "; create it with invctl store put --store " + s.store + " --zone ZONE"
		}
		return "nothing by that name or id"
	},
	engine.CodeExpired: func(s subject, _ string) string {
		if s.coupon {
			return "coupon " + or(s.id, "SERIAL") + " expired unredeemed; invctl coupons show " + or(s.id, "SERIAL") + " shows when"
		}
		return "reservation " + or(s.id, "ID") + " expired (an unpaid hold or an order not collected in time); reserve again"
	},
	engine.CodeWrongState: func(s subject, _ string) string {
		if s.waitlist {
			sku, store := or(s.sku, "SKU"), or(s.store, "STORE")
			return sku + " at " + store + " has units to sell, and a line is for sold-out items only; invctl reserve --sku " +
				sku + " --store " + store + " --customer " + or(s.customer, "CUSTOMER") + " takes them"
		}
		return "reservation " + or(s.id, "ID") + " is in a state that does not allow this; invctl reservation get " +
			or(s.id, "ID") + " shows its state"
	},
	engine.CodeWrongStore: func(s subject, _ string) string {
		if s.coupon {
			return "the coupon is redeemed at its issue's own store only; invctl coupons show " + or(s.id, "SERIAL") + " names it"
		}
		return "the order is collected at another store; invctl reservation get " + or(s.id, "ID") + " shows which"
	},
	engine.CodeBadCode: func(s subject, _ string) string {
		return "no order waits at " + or(s.store, "STORE") + " under that pickup code; check the 12 digits confirm printed"
	},
	engine.CodeLocked: func(s subject, _ string) string {
		return "too many wrong pickup codes; an operator unlocks the order with invctl reservation unlock " + or(s.id, "ID")
	},
	engine.CodeBelowPromised: func(s subject, _ string) string {
		return "that would leave fewer units than are already reserved; invctl item get --sku " + or(s.sku, "SKU") +
			" --store " + or(s.store, "STORE") + " shows held and confirmed units"
	},
	engine.CodeUnknownWindow: func(s subject, _ string) string {
		return "the item has no pickup window starting at " + or(s.window, "that time") + "; invctl item get --sku " +
			or(s.sku, "SKU") + " --store " + or(s.store, "STORE") + " lists its windows"
	},
	engine.CodeWindowConflict: func(s subject, _ string) string {
		return "the window overlaps another; invctl item get --sku " + or(s.sku, "SKU") + " --store " + or(s.store, "STORE") +
			" (or invctl store get --store " + or(s.store, "STORE") + ") lists the windows"
	},
	engine.CodeTooMany: func(s subject, _ string) string {
		if s.waitlist {
			return "the line of " + or(s.sku, "SKU") + " at " + or(s.store, "STORE") + " is full, or customer " +
				or(s.customer, "CUSTOMER") + " already waits in 8 lines of the store's shard; invctl waitlist leave frees a place"
		}
		return "a count limit was reached (windows per item or per store); remove or reuse one first"
	},
	engine.CodeClaimRequired: func(s subject, _ string) string {
		return or(s.sku, "SKU") + " has a per-customer limit counted on customer " + or(s.customer, "CUSTOMER") +
			"'s home shard, and the node that answered is older than the one that takes that claim for a waitlist join " +
			"(docs/adr/0112): upgrade it, or invctl stores --sku " + or(s.sku, "SKU") + " lists stores with units"
	},
	engine.CodeWindowRequired: func(s subject, _ string) string {
		return "invctl item get --sku " + or(s.sku, "SKU") + " --store " + or(s.store, "STORE") +
			" lists the windows; reserve again with --window START"
	},
	engine.CodeTooEarly: func(s subject, _ string) string {
		return "the order can be collected from its pickup window's start; invctl reservation get " + or(s.id, "ID") + " shows it"
	},
	engine.CodeAlreadyRedeemed: func(s subject, _ string) string {
		return "coupon " + or(s.id, "SERIAL") + " was redeemed before, at the store and time printed above; it is spent"
	},
	engine.CodeUnknownIssue: func(s subject, _ string) string {
		sku, store := or(s.sku, "SKU"), or(s.store, "STORE")
		return "no coupon issue " + sku + " at " + store + "; create it with invctl coupons issue --sku " + sku +
			" --store " + store + " --serials N"
	},
	engine.CodeMarked: func(s subject, _ string) string {
		return "the order's screening marks hit the item's mark rule; invctl marks get-rule --sku " + or(s.sku, "SKU") +
			" --store " + or(s.store, "STORE") + " shows it (docs/adr/0104)"
	},
	engine.CodeUnderReview: func(s subject, _ string) string {
		return "the order is held back for review by its item's mark rule; staff release it with invctl marks release " +
			or(s.id, "ID") + ", or cancel it (docs/adr/0107)"
	},
	engine.CodeUnauthorized: func(_ subject, _ string) string {
		return "this needs a token with the right role; give it with --token or INV_TOKEN (docs/SECURITY.md)"
	},
	engine.CodeBusy: func(_ subject, _ string) string {
		return "the server is at a limit; retry in a moment"
	},
	engine.CodeTooLarge: func(_ subject, _ string) string {
		return "the request is over a size limit (docs/PROTOCOL.md lists them)"
	},
	engine.CodeUnknownOp: func(_ subject, _ string) string {
		return "the server is older than this invctl; use the invctl of its version"
	},
	engine.CodeUnavailable: func(_ subject, addr string) string {
		return "is invd running at " + addr + "? start one with make run, or point invctl at yours with --addr or INV_ADDR"
	},
	engine.CodeTimeout: func(s subject, _ string) string {
		if s.key != "" {
			return "the outcome is unknown; run the same command again, with the same --key " + s.key
		}
		return "the outcome is unknown; check with a read (invctl item get, reservation get) before trying again"
	},
	engine.CodeInternal: func(_ subject, _ string) string {
		return "a fault in the server; its log has the details"
	},
}

// errText is err's text without the library's "inv: " prefixes (each
// wrapped layer adds one), and without its code's name when it starts with
// it (the code is printed first already).
func errText(err error, code engine.Code) string {
	s := err.Error()
	for {
		t := strings.TrimPrefix(s, "inv: ")
		t = strings.ReplaceAll(t, ": inv: ", ": ")
		if t == s {
			break
		}
		s = t
	}
	if name := code.String(); s == name {
		return ""
	} else if strings.HasPrefix(s, name+": ") {
		s = s[len(name)+2:]
	}
	return s
}
