// This file holds the protocol's reference values: one or more for every
// request and reply of every op, the control frames, batches, events and
// compressed frames. golden_test.go proves each encodes to the bytes stored
// in testdata/golden.json and decodes back from them; fuzz_test.go seeds its
// corpora from them; limits_test.go mutates them past each limit.
package protocol

import (
	"time"

	"github.com/invsys/inv/engine"
)

// vector is one reference value and how to put it on the wire and read it back.
type vector struct {
	name   string
	about  string
	kind   string // what the payload is: request, result, batch_request ...
	value  any
	encode func(dst []byte) []byte
	decode func(f Frame) (any, error)
}

// Reference values of the vectors, chosen to look like the field: an EAN-13
// barcode, a store code, a member id, a UUID idempotency key, times in 2026.
var (
	vSKU      = []byte("4710088412345")
	vSKU2     = []byte("4710088499999")
	vStore    = []byte("TPE0427")
	vStore2   = []byte("KHH0113")
	vCustomer = []byte("M00012345")
	vKey      = []byte("c2f7c5d0-3a64-4f3e-9d41-7b1f0c8a9e21")
	vNow      = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	vWindow   = time.Date(2026, 1, 3, 10, 0, 0, 0, time.UTC).UnixNano()
	vWindow2  = time.Date(2026, 1, 3, 12, 0, 0, 0, time.UTC).UnixNano()
	vWindow3  = time.Date(2026, 1, 3, 14, 0, 0, 0, time.UTC).UnixNano()
	vID       = engine.MakeID(3, 42)
	// A coupon serial (docs/adr/0106): the 7th of shard 3, and its code.
	vSerial     = engine.MakeID(3, 1<<47|7)
	vSerialCode = uint64(482017553906)
	vCouponSKU  = []byte("CPN-NY2026-100")
	vWebStore   = []byte("WEB")
	vCode       = uint64(493027118465)
)

func requestVector(name, about string, reqID uint32, cmd engine.Command) vector {
	return vector{name: name + "_request", about: about, kind: "request", value: cmd,
		encode: func(dst []byte) []byte { return AppendRequest(dst, reqID, &cmd) },
		decode: func(f Frame) (any, error) {
			var got engine.Command
			err := DecodeRequest(f.Op, f.Payload, &got)
			return got, err
		}}
}

func resultVector(name, about string, reqID uint32, op engine.Op, r engine.Result) vector {
	return vector{name: name + "_reply", about: about, kind: "result", value: r,
		encode: func(dst []byte) []byte { return AppendResult(dst, reqID, op, &r) },
		decode: func(f Frame) (any, error) {
			var got engine.Result
			err := DecodeResult(f.Payload, &got)
			return got, err
		}}
}

func requestVectors() []vector {
	return []vector{
		requestVector("reserve", "hold 2 units for pickup in a window, 5 minute hold, with an idempotency key", 7,
			engine.Command{Op: engine.OpReserve, SKU: vSKU, Store: vStore, Customer: vCustomer, Qty: 2,
				Window: vWindow, TTL: 5 * time.Minute, Key: vKey}),
		requestVector("reserve_minimal", "hold 1 unit: no window, default hold time, no key", 8,
			engine.Command{Op: engine.OpReserve, SKU: vSKU, Store: vStore, Customer: vCustomer, Qty: 1}),
		requestVector("confirm", "payment done: confirm every held unit", 9,
			engine.Command{Op: engine.OpConfirm, ID: vID, Key: vKey}),
		requestVector("confirm_partial", "confirm 1 of the held units, release the rest", 10,
			engine.Command{Op: engine.OpConfirm, ID: vID, Qty: 1}),
		requestVector("extend", "lengthen a hold by 3 minutes while a payment is in progress", 11,
			engine.Command{Op: engine.OpExtend, ID: vID, TTL: 3 * time.Minute}),
		requestVector("cancel", "release the units at once", 12,
			engine.Command{Op: engine.OpCancel, ID: vID, Key: vKey}),
		requestVector("pickup", "pickup at the counter by reservation id and code", 13,
			engine.Command{Op: engine.OpPickup, ID: vID, Store: vStore, PickupCode: vCode}),
		requestVector("pickup_by_code", "pickup at the kiosk by code alone (id 0)", 14,
			engine.Command{Op: engine.OpPickup, Store: vStore, PickupCode: vCode}),
		requestVector("reschedule", "move the pickup to another window", 15,
			engine.Command{Op: engine.OpReschedule, ID: vID, Window: vWindow2}),
		requestVector("return", "return after pickup, putting the units back into stock", 16,
			engine.Command{Op: engine.OpReturn, ID: vID, Restock: true}),
		requestVector("put_item", "create an item with a sale window and 20 units for members until a cutoff", 17,
			engine.Command{Op: engine.OpPutItem, SKU: vSKU, Store: vStore, Stock: 100,
				OpensAt: vNow, ClosesAt: vWindow3, MemberTier: 1, MemberUnits: 20, MemberCutoff: vWindow}),
		requestVector("put_window", "a pickup window of 2 hours with a quota of 10 units", 18,
			engine.Command{Op: engine.OpPutWindow, SKU: vSKU, Store: vStore, Window: vWindow, WindowEnd: vWindow2, Quota: 10}),
		requestVector("restock", "add 50 units", 19,
			engine.Command{Op: engine.OpRestock, SKU: vSKU, Store: vStore, Qty: 50, Key: vKey}),
		requestVector("adjust_stock", "remove 3 units (a signed delta)", 20,
			engine.Command{Op: engine.OpAdjustStock, SKU: vSKU, Store: vStore, Qty: -3}),
		requestVector("set_sale_window", "sale opens at noon and never closes", 21,
			engine.Command{Op: engine.OpSetSaleWindow, SKU: vSKU, Store: vStore, OpensAt: vNow}),
		requestVector("set_limit", "at most 2 units of the SKU per customer, at every store", 22,
			engine.Command{Op: engine.OpSetLimit, SKU: vSKU, Limit: 2}),
		requestVector("set_member_share", "keep 20 units for tier 1 and up until the cutoff", 23,
			engine.Command{Op: engine.OpSetMemberShare, SKU: vSKU, Store: vStore, MemberTier: 1, MemberUnits: 20, MemberCutoff: vWindow}),
		requestVector("block", "block a customer", 24,
			engine.Command{Op: engine.OpBlock, Customer: vCustomer}),
		requestVector("unblock", "lift a block and the no-show history", 25,
			engine.Command{Op: engine.OpUnblock, Customer: vCustomer}),
		requestVector("set_tier", "make the customer a loyal member (tier 2)", 26,
			engine.Command{Op: engine.OpSetTier, Customer: vCustomer, Tier: 2}),
		requestVector("unlock", "lift a wrong-code lock", 27,
			engine.Command{Op: engine.OpUnlock, ID: vID}),
		requestVector("get_item", "read an item", 28,
			engine.Command{Op: engine.OpGetItem, SKU: vSKU, Store: vStore}),
		requestVector("get_window", "read a pickup window", 29,
			engine.Command{Op: engine.OpGetWindow, SKU: vSKU, Store: vStore, Window: vWindow}),
		requestVector("get_reservation", "read a reservation", 30,
			engine.Command{Op: engine.OpGetReservation, ID: vID}),
		requestVector("get_customer", "read a customer", 31,
			engine.Command{Op: engine.OpGetCustomer, Customer: vCustomer}),
		requestVector("list_reservations", "a customer's reservations", 32,
			engine.Command{Op: engine.OpListReservations, Customer: vCustomer}),
		requestVector("stores_with_stock", "stores where a SKU is available", 33,
			engine.Command{Op: engine.OpStoresWithStock, SKU: vSKU}),
		requestVector("list_items", "every item of a SKU", 34,
			engine.Command{Op: engine.OpListItems, SKU: vSKU}),
		requestVector("list_items_all", "every item of the shard (no SKU)", 35,
			engine.Command{Op: engine.OpListItems}),
		requestVector("reserve_claimed", "node to node: a reserve carrying its claim's key and deadline (a provisional hold)", 36,
			engine.Command{Op: engine.OpReserve, SKU: vSKU, Store: vStore, Customer: vCustomer, Qty: 1, Key: vKey,
				Claim: vClaim, Deadline: vDeadline}),
		requestVector("claim", "node to node: claim 1 unit of a limit of 2 on the customer's home, for an item of shard 7", 37,
			engine.Command{Op: engine.OpClaim, Customer: vCustomer, SKU: vSKU, Qty: 1, Limit: 2, Claim: vClaim,
				ItemShard: 7, Deadline: vDeadline}),
		requestVector("release_claim", "node to node: give a claim's units back (its hold ended)", 38,
			engine.Command{Op: engine.OpReleaseClaim, Claim: vClaim}),
		requestVector("release_claim_as_of", "node to node: release a claim still pending with this deadline (the sweep, the coordinator)", 39,
			engine.Command{Op: engine.OpReleaseClaim, Customer: vCustomer, Claim: vClaim, Deadline: vDeadline}),
		requestVector("release_claim_message", "node to node: outbox message 42 from shard 3: a claim's hold ended", 40,
			engine.Command{Op: engine.OpReleaseClaim, Customer: vCustomer, Claim: vClaim, FromShard: 3, Seq: 42}),
		requestVector("anchor_claim", "node to node: the home's sweep found the claim's hold", 41,
			engine.Command{Op: engine.OpAnchorClaim, Customer: vCustomer, Claim: vClaim}),
		requestVector("resolve_claim", "node to node: the home accepted the claim: the provisional hold is firm", 42,
			engine.Command{Op: engine.OpResolveClaim, Claim: vClaim, ItemShard: 7}),
		requestVector("resolve_claim_refused", "node to node: the home refused the claim: the provisional hold ends", 43,
			engine.Command{Op: engine.OpResolveClaim, Claim: vClaim, ClaimCode: engine.CodeLimitExceeded, ItemShard: 7}),
		requestVector("delivered", "node to node: shard 5 applied this shard's messages up to 42", 44,
			engine.Command{Op: engine.OpDelivered, ToShard: 5, Seq: 42}),
		requestVector("get_claim", "node to node: the home's answer for a claim", 45,
			engine.Command{Op: engine.OpGetClaim, Customer: vCustomer, Claim: vClaim}),
		requestVector("get_claim_hold", "node to node: the kept hold carrying a claim on shard 7", 46,
			engine.Command{Op: engine.OpGetClaimHold, Claim: vClaim, ItemShard: 7}),
		requestVector("register_key", "node to node: a key homed on this shard is registered by a request of shard 7", 49,
			engine.Command{Op: engine.OpRegisterKey, Key: vKey, ID: 0x1234_5678_9abc_def0, ItemShard: 7}),
		requestVector("customer_copy", "node to node: outbox message 7 from the customer's home, shard 2: blocked (by an operator), tier 1, for shard 9", 60,
			engine.Command{Op: engine.OpCustomerCopy, Customer: vCustomer, Tier: 1, Qty: int64(engine.BlockOperator), ToShard: 9, FromShard: 2, Seq: 7}),
		requestVector("no_show", "node to node: outbox message 3 from shard 5: the customer's reservation was a no-show there", 61,
			engine.Command{Op: engine.OpNoShow, Customer: vCustomer, ID: vID, Deadline: vNow, FromShard: 5, Seq: 3}),
		requestVector("put_store", "a store's time zone", 47,
			engine.Command{Op: engine.OpPutStore, Store: vStore, Zone: vZone, Key: vKey}),
		requestVector("put_store_window", "a store's pickup window of 2 hours: 12 pre-orders across every SKU", 48,
			engine.Command{Op: engine.OpPutStoreWindow, Store: vStore, Window: vWindow, WindowEnd: vWindow2, Quota: 12}),
		requestVector("get_store", "read a store", 49,
			engine.Command{Op: engine.OpGetStore, Store: vStore}),
		requestVector("update_item", "restock to 120 units, keeping the sale window and the member share, with a reason", 50,
			engine.Command{Op: engine.OpUpdateItem, SKU: vSKU, Store: vStore, Set: engine.SetStock, Stock: 120,
				Reason: []byte("delivery 4711")}),
		requestVector("put_items", "a bulk put of two items of one store: one put of every setting, one of the stock alone, with a key", 54,
			engine.Command{Op: engine.OpPutItems, Key: vKey, Items: []engine.ItemPut{
				{SKU: vSKU, Store: vStore, Set: engine.ItemSetAll, Stock: 120, OpensAt: vNow, MemberTier: 1, MemberUnits: 10, MemberCutoff: vWindow},
				{SKU: vSKU2, Store: vStore, Set: engine.SetStock, Stock: 40}}}),
		requestVector("update_item_clear_share", "remove the member share, leave stock and sale window", 51,
			engine.Command{Op: engine.OpUpdateItem, SKU: vSKU, Store: vStore, Set: engine.SetMemberShare}),
		requestVector("store_items", "every item of a store: its shelf's availability in one read", 53,
			engine.Command{Op: engine.OpStoreItems, Store: vStore}),
		requestVector("adjust_stock_reason", "remove 3 broken units, saying why", 52,
			engine.Command{Op: engine.OpAdjustStock, SKU: vSKU, Store: vStore, Qty: -3, Reason: []byte("3 broken in transit")}),
		requestVector("join_waitlist", "join a sold-out item's waitlist for 1 unit, standing in line 30 minutes", 80,
			engine.Command{Op: engine.OpJoinWaitlist, SKU: vSKU, Store: vStore, Customer: vCustomer, Qty: 1, TTL: 30 * time.Minute, Key: vKey}),
		requestVector("leave_waitlist", "leave an item's waitlist", 81,
			engine.Command{Op: engine.OpLeaveWaitlist, SKU: vSKU, Store: vStore, Customer: vCustomer, Key: vKey}),
		requestVector("get_waitlist", "read an item's waitlist and the customer's place in it", 82,
			engine.Command{Op: engine.OpGetWaitlist, SKU: vSKU, Store: vStore, Customer: vCustomer}),
		requestVector("put_coupon_issue", "a chain-wide issue of 5000 coupons, 1 per member, each redeemable for 30 days, "+
			"unredeemed ones back to the pool", 90, engine.Command{Op: engine.OpPutCouponIssue, SKU: vCouponSKU, Store: vWebStore,
			Stock: 5000, Limit: 1, TTL: 30 * 24 * time.Hour, CouponFlags: engine.CouponChainWide | engine.CouponReturnOnExpiry, Key: vKey}),
		requestVector("take_coupon", "hand one serial of the issue to a member", 91,
			engine.Command{Op: engine.OpTakeCoupon, SKU: vCouponSKU, Store: vWebStore, Customer: vCustomer, Key: vKey}),
		requestVector("redeem_coupon", "a store's counter redeems a serial it scanned", 92,
			engine.Command{Op: engine.OpRedeemCoupon, ID: vSerial, PickupCode: vSerialCode, Store: vStore, Key: vKey}),
		requestVector("get_coupon", "a counter checks a serial before redeeming it", 93,
			engine.Command{Op: engine.OpGetCoupon, ID: vSerial, PickupCode: vSerialCode}),
		requestVector("get_coupon_issue", "read an issue and its redemptions by store", 94,
			engine.Command{Op: engine.OpGetCouponIssue, SKU: vCouponSKU, Store: vWebStore}),
	}
}

var (
	vItem = engine.ItemInfo{SKU: string(vSKU), Store: string(vStore), Stock: 100, Held: 2, Confirmed: 5,
		PickedUp: 1, Available: 92, Limit: 2, OpensAt: vNow, ClosesAt: vWindow3, MemberTier: 1,
		MemberUnits: 20, MemberUsed: 3, MemberCutoff: vWindow,
		Windows: []engine.WindowInfo{
			{Start: vWindow, End: vWindow2, Quota: 10, Used: 6},
			{Start: vWindow2, End: vWindow3, Quota: 10, Used: 2},
		}}
	vItem2 = engine.ItemInfo{SKU: string(vSKU), Store: string(vStore2), Stock: 40, Available: 40, Limit: 2}

	vCoupon = engine.CouponInfo{SKU: string(vCouponSKU), Store: string(vWebStore), Customer: string(vCustomer),
		State: engine.CouponIssued, ChainWide: true, TakenAt: vNow}
	vCouponRedeemed = engine.CouponInfo{SKU: string(vCouponSKU), Store: string(vWebStore), Customer: string(vCustomer),
		State: engine.CouponRedeemed, ChainWide: true, TakenAt: vNow, RedeemedAt: vNow + int64(time.Hour), RedeemedBy: string(vStore)}
	vZone      = []byte("Asia/Taipei")
	vStoreInfo = engine.StoreInfo{Store: string(vStore), Zone: string(vZone), Windows: []engine.WindowInfo{
		{Start: vWindow, End: vWindow2, Quota: 12, Used: 8},
		{Start: vWindow2, End: vWindow3, Quota: 12, Used: 0},
	}}
	vClaim      = []byte("c7f3a9d2e4b6")
	vDeadline   = vNow + int64(3*time.Second)
	vResClaimed = engine.ReservationInfo{ID: vID, SKU: string(vSKU), Store: string(vStore), Customer: string(vCustomer),
		Qty: 1, State: engine.StateHeld, CreatedAt: vNow, ExpiresAt: vNow + int64(10*time.Minute), UpdatedAt: vNow,
		Claim: string(vClaim)}
	vRes = engine.ReservationInfo{ID: vID, SKU: string(vSKU), Store: string(vStore), Customer: string(vCustomer),
		Qty: 2, Window: vWindow, State: engine.StateConfirmed, CreatedAt: vNow,
		ExpiresAt: vWindow2, UpdatedAt: vNow + int64(time.Minute), PickupCode: vCode, Attempts: 1}
	vRes2 = engine.ReservationInfo{ID: engine.MakeID(5, 7), SKU: string(vSKU2), Store: string(vStore),
		Customer: string(vCustomer), Qty: 1, State: engine.StateHeld, CreatedAt: vNow,
		ExpiresAt: vNow + int64(10*time.Minute), UpdatedAt: vNow}
)

func resultVectors() []vector {
	return []vector{
		resultVector("reserve_held", "the hold is taken: id, state, units, window, hold expiry", 7, engine.OpReserve,
			engine.Result{ID: vID, State: engine.StateHeld, Qty: 2, Window: vWindow, ExpiresAt: vNow + int64(5*time.Minute)}),
		resultVector("reserve_sold_out", "refused: not enough available units (4 bytes of payload)", 8, engine.OpReserve,
			engine.Result{Code: engine.CodeSoldOut}),
		resultVector("reserve_window_full", "refused: the window's quota is used up", 8, engine.OpReserve,
			engine.Result{Code: engine.CodeWindowFull}),
		resultVector("reserve_key_conflict", "refused: the key was used before with different contents", 7, engine.OpReserve,
			engine.Result{Code: engine.CodeKeyConflict}),
		resultVector("confirm_ok", "confirmed: pickup code issued, pickup deadline set", 9, engine.OpConfirm,
			engine.Result{ID: vID, State: engine.StateConfirmed, Qty: 2, Window: vWindow, ExpiresAt: vWindow2, PickupCode: vCode}),
		resultVector("cancel_expired", "refused: the hold expired first; the state says so", 12, engine.OpCancel,
			engine.Result{Code: engine.CodeExpired, ID: vID, State: engine.StateExpired, Qty: 2}),
		resultVector("pickup_bad_code", "refused: wrong code (one more attempt counted)", 13, engine.OpPickup,
			engine.Result{Code: engine.CodeBadCode, ID: vID, State: engine.StateConfirmed, Qty: 2}),
		resultVector("extend_ok", "the hold now expires 3 minutes later", 11, engine.OpExtend,
			engine.Result{ID: vID, State: engine.StateHeld, Qty: 2, Window: vWindow, ExpiresAt: vNow + int64(8*time.Minute)}),
		resultVector("pickup_ok", "collected", 13, engine.OpPickup,
			engine.Result{ID: vID, State: engine.StatePickedUp, Qty: 2, Window: vWindow, PickupCode: vCode}),
		resultVector("reschedule_ok", "moved to the next window; the pickup deadline moved with it", 15, engine.OpReschedule,
			engine.Result{ID: vID, State: engine.StateConfirmed, Qty: 2, Window: vWindow2, ExpiresAt: vWindow3, PickupCode: vCode}),
		resultVector("return_ok", "returned; the units went back into stock", 16, engine.OpReturn,
			engine.Result{ID: vID, State: engine.StateReturned, Qty: 2, Window: vWindow, PickupCode: vCode}),
		resultVector("unlock_ok", "the lock is lifted; the reservation can be picked up again", 27, engine.OpUnlock,
			engine.Result{ID: vID, State: engine.StateConfirmed, Qty: 2, Window: vWindow, ExpiresAt: vWindow2, PickupCode: vCode}),
		resultVector("put_item_ok", "an operator change: code only", 17, engine.OpPutItem, engine.Result{}),
		resultVector("put_window_conflict", "refused: the new window overlaps another", 18, engine.OpPutWindow,
			engine.Result{Code: engine.CodeWindowConflict}),
		resultVector("restock_ok", "units added", 19, engine.OpRestock, engine.Result{}),
		resultVector("adjust_stock_below_promised", "refused: stock would go below what is held and confirmed", 20,
			engine.OpAdjustStock, engine.Result{Code: engine.CodeBelowPromised}),
		resultVector("set_sale_window_ok", "sale window set", 21, engine.OpSetSaleWindow, engine.Result{}),
		resultVector("set_limit_ok", "limit set: the reply names it", 22, engine.OpSetLimit, engine.Result{Qty: 2}),
		resultVector("set_member_share_ok", "member share set", 23, engine.OpSetMemberShare, engine.Result{}),
		resultVector("put_items_ok", "a bulk put applied: qty is the number of items", 54, engine.OpPutItems, engine.Result{Qty: 2}),
		resultVector("put_items_refused", "refused whole: qty names the refused item, from 1", 55, engine.OpPutItems,
			engine.Result{Code: engine.CodeBelowPromised, Qty: 2}),
		resultVector("update_item_ok", "an operator change: code only", 50, engine.OpUpdateItem, engine.Result{}),
		resultVector("block_ok", "customer blocked", 24, engine.OpBlock, engine.Result{}),
		resultVector("unblock_ok", "customer unblocked", 25, engine.OpUnblock, engine.Result{}),
		resultVector("set_tier_ok", "tier set", 26, engine.OpSetTier, engine.Result{}),
		resultVector("get_item", "an item with two pickup windows", 28, engine.OpGetItem,
			engine.Result{Item: &vItem}),
		resultVector("get_window", "one pickup window", 29, engine.OpGetWindow,
			engine.Result{WindowInfo: &engine.WindowInfo{Start: vWindow, End: vWindow2, Quota: 10, Used: 6}}),
		resultVector("get_reservation", "a confirmed reservation with one wrong code tried", 30, engine.OpGetReservation,
			engine.Result{Reservation: &vRes}),
		resultVector("get_customer", "a member blocked by the no-show rule", 31, engine.OpGetCustomer,
			engine.Result{Customer: &engine.CustomerInfo{ID: string(vCustomer), Tier: 1, Blocked: true,
				AutoBlocked: true, NoShows: 3, Open: 1}}),
		resultVector("get_customer_not_found", "refused: no such customer", 31, engine.OpGetCustomer,
			engine.Result{Code: engine.CodeNotFound}),
		resultVector("list_reservations", "two reservations of one customer", 32, engine.OpListReservations,
			engine.Result{Reservations: []engine.ReservationInfo{vRes, vRes2}}),
		resultVector("stores_with_stock", "two stores with units of a SKU", 33, engine.OpStoresWithStock,
			engine.Result{Stores: []engine.StoreStock{{Store: string(vStore), Available: 92}, {Store: string(vStore2), Available: 40}}}),
		resultVector("list_items", "two items of one SKU", 34, engine.OpListItems,
			engine.Result{Items: []engine.ItemInfo{vItem, vItem2}}),
		resultVector("store_items", "the items of a store", 53, engine.OpStoreItems,
			engine.Result{Items: []engine.ItemInfo{vItem}}),
		resultVector("reserve_claim_required", "refused: a limited item (limit 2) of a customer of another shard", 36,
			engine.OpReserve, engine.Result{Code: engine.CodeClaimRequired, Qty: 2}),
		resultVector("confirm_claim_required", "refused: the hold is provisional, its claim must be resolved first; the reply names it", 9,
			engine.OpConfirm, engine.Result{Code: engine.CodeClaimRequired, Reservation: &vResClaimed}),
		resultVector("reserve_provisional", "held, provisionally: the reply names the claim that decides it", 36, engine.OpReserve,
			engine.Result{ID: vID, State: engine.StateHeld, Qty: 1, ExpiresAt: vNow + int64(10*time.Minute), Reservation: &vResClaimed}),
		resultVector("claim_ok", "accepted, pending until its deadline: units and the deadline", 37, engine.OpClaim,
			engine.Result{Qty: 1, ExpiresAt: vDeadline}),
		resultVector("claim_refused", "refused (and kept for the claim's key): units", 37, engine.OpClaim,
			engine.Result{Code: engine.CodeLimitExceeded, Qty: 1}),
		resultVector("release_claim_ok", "released: the units given back", 38, engine.OpReleaseClaim, engine.Result{Qty: 1}),
		resultVector("release_claim_message_out_of_order", "refused: not the next message from its shard", 40,
			engine.OpReleaseClaim, engine.Result{Code: engine.CodeOutOfOrder}),
		resultVector("anchor_claim_ok", "anchored: units, no deadline any more", 41, engine.OpAnchorClaim, engine.Result{Qty: 1}),
		resultVector("resolve_claim_ok", "the hold, firm", 42, engine.OpResolveClaim,
			engine.Result{ID: vID, State: engine.StateHeld, Qty: 1, ExpiresAt: vNow + int64(10*time.Minute)}),
		resultVector("delivered_ok", "two messages dropped from the outbox", 44, engine.OpDelivered, engine.Result{Qty: 2}),
		resultVector("get_claim_not_found", "refused: the home knows no such claim", 45, engine.OpGetClaim,
			engine.Result{Code: engine.CodeNotFound}),
		resultVector("get_claim_hold", "the active hold carrying the claim", 46, engine.OpGetClaimHold,
			engine.Result{ID: vID, State: engine.StateHeld, Qty: 1, ExpiresAt: vNow + int64(10*time.Minute), Reservation: &vResClaimed}),
		resultVector("register_key_ok", "registered, or the same request registered it before", 49, engine.OpRegisterKey, engine.Result{}),
		resultVector("register_key_conflict", "refused: the key is another request's", 50, engine.OpRegisterKey,
			engine.Result{Code: engine.CodeKeyConflict}),
		resultVector("customer_copy_ok", "applied (or a duplicate)", 60, engine.OpCustomerCopy, engine.Result{}),
		resultVector("no_show_out_of_order", "refused: not the next message from its shard", 61,
			engine.OpNoShow, engine.Result{Code: engine.CodeOutOfOrder}),
		resultVector("put_store_ok", "the store as set: its zone, no windows yet", 47, engine.OpPutStore,
			engine.Result{Store: &engine.StoreInfo{Store: string(vStore), Zone: string(vZone)}}),
		resultVector("put_store_window_ok", "the store with its windows after the change", 48, engine.OpPutStoreWindow,
			engine.Result{Store: &vStoreInfo}),
		resultVector("join_waitlist_ok", "in line: third of 3, for 1 unit until its entry's expiry", 80, engine.OpJoinWaitlist,
			engine.Result{Qty: 1, ExpiresAt: vNow, Waitlist: &engine.WaitlistInfo{Length: 3, Position: 3}}),
		resultVector("join_waitlist_not_sold_out", "refused: the item has the units: reserve them", 80, engine.OpJoinWaitlist,
			engine.Result{Code: engine.CodeWrongState}),
		resultVector("leave_waitlist_ok", "out of the line: 2 remain", 81, engine.OpLeaveWaitlist,
			engine.Result{Qty: 1, Waitlist: &engine.WaitlistInfo{Length: 2}}),
		resultVector("get_waitlist", "a line of 2 where the customer is the head", 82, engine.OpGetWaitlist,
			engine.Result{Qty: 1, ExpiresAt: vNow, Waitlist: &engine.WaitlistInfo{Length: 2, Position: 1}}),
		resultVector("put_coupon_issue_ok", "the issue as it stands: 5000 serials, none out yet", 90, engine.OpPutCouponIssue,
			engine.Result{CouponIssue: &engine.CouponIssueInfo{SKU: string(vCouponSKU), Store: string(vWebStore),
				Flags: engine.CouponChainWide | engine.CouponReturnOnExpiry, Serials: 5000, Available: 5000, Limit: 1,
				TTL: 30 * 24 * time.Hour}}),
		resultVector("take_coupon_ok", "the serial (id and code) and its expiry", 91, engine.OpTakeCoupon,
			engine.Result{ID: vSerial, PickupCode: vSerialCode, ExpiresAt: vNow + int64(30*24*time.Hour), Coupon: &vCoupon}),
		resultVector("take_coupon_sold_out", "refused: every serial of the issue is out", 91, engine.OpTakeCoupon,
			engine.Result{Code: engine.CodeSoldOut}),
		resultVector("redeem_coupon_ok", "redeemed at the counter's store", 92, engine.OpRedeemCoupon,
			engine.Result{ID: vSerial, PickupCode: vSerialCode, ExpiresAt: vNow + int64(30*24*time.Hour), Coupon: &vCouponRedeemed}),
		resultVector("redeem_coupon_already_redeemed", "refused: the serial was redeemed before, here is where and when", 92,
			engine.OpRedeemCoupon, engine.Result{Code: engine.CodeAlreadyRedeemed, ID: vSerial, Coupon: &vCouponRedeemed}),
		resultVector("get_coupon", "a serial not yet redeemed", 93, engine.OpGetCoupon,
			engine.Result{ID: vSerial, PickupCode: vSerialCode, ExpiresAt: vNow + int64(30*24*time.Hour), Coupon: &vCoupon}),
		resultVector("get_coupon_issue", "an issue with 2 serials redeemed at two stores", 94, engine.OpGetCouponIssue,
			engine.Result{CouponIssue: &engine.CouponIssueInfo{SKU: string(vCouponSKU), Store: string(vWebStore),
				Flags: engine.CouponChainWide, Serials: 5000, Available: 4990, Redeemed: 2, Expired: 1, Limit: 1,
				ByStore: []engine.StoreCount{{Store: string(vStore2), Count: 1}, {Store: string(vStore), Count: 1}}}}),
		resultVector("get_store", "a store in Taipei with two pickup windows, their capacity across every SKU and what is used", 49,
			engine.OpGetStore, engine.Result{Store: &vStoreInfo}),
		resultVector("reserve_window_required", "refused: the item has pickup windows; the reserve must name one", 8,
			engine.OpReserve, engine.Result{Code: engine.CodeWindowRequired}),
		resultVector("pickup_too_early", "refused: the pickup window starts later (named); no attempt counted", 13,
			engine.OpPickup, engine.Result{Code: engine.CodeTooEarly, Window: vWindow}),
	}
}

// cart is a customer's two-line order reserved all-or-nothing, then a
// confirm of an earlier hold, in one BATCH.
var cart = []engine.Command{
	{Op: engine.OpReserve, Linked: true, SKU: vSKU, Store: vStore, Customer: vCustomer, Qty: 1, Key: []byte("cart-1-line-1")},
	{Op: engine.OpReserve, SKU: vSKU2, Store: vStore, Customer: vCustomer, Qty: 2, Key: []byte("cart-1-line-2")},
	{Op: engine.OpConfirm, ID: vID},
}

var cartResults = []engine.Result{
	{ID: engine.MakeID(3, 43), State: engine.StateHeld, Qty: 1, ExpiresAt: vNow + int64(10*time.Minute)},
	{ID: engine.MakeID(3, 44), State: engine.StateHeld, Qty: 2, ExpiresAt: vNow + int64(10*time.Minute)},
	{ID: vID, State: engine.StateConfirmed, Qty: 2, Window: vWindow, ExpiresAt: vWindow2, PickupCode: vCode},
}

func batchVectors() []vector {
	mixed := []BatchResult{
		{Op: DomainOp(engine.OpReserve), Result: engine.Result{Code: engine.CodeLinkFailed}},
		{Op: DomainOp(engine.OpReserve), Result: engine.Result{Code: engine.CodeSoldOut}},
		{Op: OpNotLeader, NotLeader: NotLeader{Shard: 3, LeaderID: 2, LeaderAddr: "10.0.0.12:7400"}},
	}
	return []vector{
		{name: "batch_request", about: "a two-line cart (first line linked to the second) and a confirm",
			kind: "batch_request", value: cart,
			encode: func(dst []byte) []byte { return AppendBatchRequest(dst, 40, cart) },
			decode: func(f Frame) (any, error) { return DecodeBatchRequest(f.Payload, nil) }},
		{name: "batch_result", about: "the replies of batch_request, in its order",
			kind: "batch_result", value: batchResultsOf(cart, cartResults),
			encode: func(dst []byte) []byte { return AppendBatchResult(dst, 40, cart, cartResults) },
			decode: func(f Frame) (any, error) { return DecodeBatchResult(f.Payload, nil) }},
		{name: "batch_result_mixed", about: "the cart refused as a whole (link_failed on the line that did not fail), the confirm's shard led elsewhere",
			kind: "batch_result", value: mixed,
			encode: func(dst []byte) []byte {
				var w BatchWriter
				w.Begin(dst, 41, true)
				w.AddResult(engine.OpReserve, &mixed[0].Result)
				w.AddResult(engine.OpReserve, &mixed[1].Result)
				w.AddNotLeader(&mixed[2].NotLeader)
				return w.Finish()
			},
			decode: func(f Frame) (any, error) { return DecodeBatchResult(f.Payload, nil) }},
	}
}

func batchResultsOf(cmds []engine.Command, rs []engine.Result) []BatchResult {
	out := make([]BatchResult, len(rs))
	for i := range rs {
		out[i] = BatchResult{Op: DomainOp(cmds[i].Op), Result: rs[i]}
	}
	return out
}
