package engine

import "time"

// Op names a command. Values are part of the wire format (protocol op codes
// 0x10 + Op): never renumber, only append.
//
// Values lie in ranges, and ReadOnly, Mutating and Internal follow from them:
//
//	1..15   the storefront's ops, expire, and the nodes' own ops (Internal)
//	16..31  operator ops, and delivered (the nodes' own): they change state
//	32..    reads: they never change state (get_claim and get_claim_hold
//	        are the nodes' own), except the nodes' own register_key (42)
//	        and the outbox message kinds customer_copy and no_show (43, 44:
//	        Op.Message), numbered there once 30 and 31 were the last values
//	        left below 32, which change state and ReadOnly names
//
// A new read takes the next value after OpLast. A change op numbered above
// 31 must be named by ReadOnly (register_key, or an outbox message kind);
// anything else there would be taken for a read and served from a replica
// without the log. TestOpRanges keeps the ranges honest.
type Op uint8

const (
	// Storefront operations.
	OpReserve    Op = 1 // SKU, Store, Customer, Qty, Window?, TTL?, Key?
	OpConfirm    Op = 2 // ID, Qty? (0 = all held units), Key?
	OpExtend     Op = 3 // ID, TTL, Key?
	OpCancel     Op = 4 // ID, Key?
	OpPickup     Op = 5 // ID or PickupCode (ID 0), Store, PickupCode, Key?
	OpReschedule Op = 6 // ID, Window, Key?
	OpReturn     Op = 7 // ID, Restock, Key?
	OpExpire     Op = 8 // nothing: expires what is due at the batch's time (the leader's timer)

	// Rules that span shards (docs/adr/0070). Nodes send these to each
	// other in SHARD_CALL frames only (Internal): a client may not.
	//
	// On a customer's home shard (claim.go):
	OpClaim        Op = 9  // Claim (key K), Customer, SKU, Qty, Limit, ItemShard, Deadline: count Qty units against Limit (pending)
	OpReleaseClaim Op = 10 // Customer, Claim, Deadline? (only a claim still pending with it): give an accepted claim's units back; also an outbox message (FromShard, Seq)
	OpAnchorClaim  Op = 14 // Customer, Claim: the home's sweep found the claim's hold: it counts until its release arrives
	// On an item's shard (claimhold.go):
	OpResolveClaim Op = 15 // Claim, ItemShard, ClaimCode: the home's answer makes a provisional hold firm (OK) or ends it (a refusal)
	// On any shard (outbox.go):
	OpDelivered Op = 29 // ToShard, Seq: the messages up to Seq reached shard ToShard: drop them from the outbox

	// Retired ops: their numbers stay reserved and never come back; Apply
	// refuses them (bad_request). Claims no longer expire, so nothing is
	// settled or extended, and the outbox replaced the queue of releases.
	OpSettleClaim   Op = 11 // retired (was settle_claim, docs/adr/0050)
	OpExtendClaim   Op = 12 // retired (was extend_claim)
	OpClaimReleased Op = 13 // retired (was claim_released)

	// Operator operations.
	OpPutItem          Op = 16 // SKU, Store, Stock, OpensAt, ClosesAt, MemberTier, MemberUnits, MemberCutoff (Limit must be 0: set_limit sets it)
	OpPutWindow        Op = 17 // SKU, Store, Window (start), WindowEnd, Quota
	OpRestock          Op = 18 // SKU, Store, Qty (> 0 units added)
	OpAdjustStock      Op = 19 // SKU, Store, Qty (signed delta)
	OpSetSaleWindow    Op = 20 // SKU, Store, OpensAt, ClosesAt (0 = unbounded)
	OpSetLimit         Op = 21 // SKU, Limit (0 = none): the SKU's per-customer limit, at every store (every shard keeps it)
	OpSetMemberShare   Op = 22 // SKU, Store, MemberTier, MemberUnits, MemberCutoff
	OpBlock            Op = 23 // Customer
	OpUnblock          Op = 24 // Customer (also clears the no-show history)
	OpSetTier          Op = 25 // Customer, Tier
	OpUnlock           Op = 26 // ID: lift a wrong-code lock
	OpPutStore         Op = 27 // Store, Zone: a store's time zone (an IANA name, checked at the edge)
	OpPutStoreWindow   Op = 28 // Store, Window (start), WindowEnd, Quota (the capacity across every SKU of the store)
	OpGetItem          Op = 32 // SKU, Store
	OpGetWindow        Op = 33 // SKU, Store, Window
	OpGetReservation   Op = 34 // ID
	OpGetCustomer      Op = 35 // Customer
	OpListReservations Op = 36 // Customer
	OpStoresWithStock  Op = 37 // SKU
	OpListItems        Op = 38 // SKU? (empty = all items of the shard): every item, for export and checks
	OpGetStore         Op = 39 // Store: its time zone and pickup windows with their capacity and use
	OpGetClaim         Op = 40 // Customer, Claim: the home's answer for K (accepted pending or anchored, refused, or not_found); internal
	OpGetClaimHold     Op = 41 // Claim, ItemShard: the kept reservation that carries K on an item's shard, or not_found; internal
	// On a key's home shard (regkey.go): a request whose idempotency key
	// is homed on another shard registers the key there first. It changes
	// state (the home's idempotency table) although numbered among reads.
	OpRegisterKey Op = 42 // Key, ID (the request's Fingerprint), ItemShard (the shard the request runs on); internal

	// Customers across shards (customers.go, docs/adr/0072): outbox
	// message kinds, so they change state although numbered among the reads.
	OpCustomerCopy Op = 43 // Customer, Tier, Qty (the block: BlockNone, BlockOperator, BlockNoShows), ToShard (where it applies), FromShard, Seq: the home's copy of a customer's block and tier
	OpNoShow       Op = 44 // Customer, ID (the reservation), Deadline (the no-show's time), FromShard, Seq: a no-show in another shard, counted at the customer's home

	// Settings that stay put and availability in one read (docs/adr/0100,
	// 0102). update_item changes state although numbered among the reads:
	// ReadOnly names it.
	OpUpdateItem Op = 45 // SKU, Store, Set (the settings it changes), their fields, Reason?: a put that leaves what it does not name (update.go)
	OpStoreItems Op = 46 // Store: every item of the store, by SKU: its availability in one read (availability.go)

	// A bulk put (bulk.go, docs/adr/0121): many items of one shard in one
	// command, each applied as update_item applies it; all or none. It
	// changes state although numbered among the reads: ReadOnly names it.
	OpPutItems Op = 47 // Items (<= MaxBulkItems, every one on this shard), Key?, Reason?

	// A sold-out item's fair waitlist (waitlist.go, docs/adr/0105): join
	// and leave change state although numbered among the reads.
	OpJoinWaitlist  Op = 50 // SKU, Store, Customer, Qty (<= MaxWaitlistQty), TTL? (0 = DefaultWaitlistTTL), Key?
	OpLeaveWaitlist Op = 51 // SKU, Store, Customer, Key?
	OpGetWaitlist   Op = 52 // SKU, Store, Customer?: the line's length and the customer's place

	// Screening marks (marks.go, docs/adr/0104). set_mark_rule changes
	// state although numbered among the reads: ReadOnly names it.
	OpSetMarkRule Op = 54 // SKU, Store, Marks: the marks that refuse a reserve of the item (0 = none)
	OpListByMark  Op = 55 // Marks (0 = any mark): held and confirmed reservations with any of them
	OpGetMarkRule Op = 56 // SKU, Store: the item's rule

	// Serial-number coupons (coupons.go, docs/adr/0106): an issue is a
	// pool of serials kept in its store's shard. put_coupon_issue,
	// take_coupon and redeem_coupon change state although numbered among
	// the reads: ReadOnly names them (Op.CouponChange).
	OpPutCouponIssue Op = 60 // SKU, Store, Stock (the serials), Limit? (per customer), OpensAt?, ClosesAt?, TTL? (a serial's life; 0 = until ClosesAt), CouponFlags, Key?
	OpTakeCoupon     Op = 61 // SKU, Store, Customer, Key?: hand out one serial (ID and PickupCode: the serial's check code)
	OpRedeemCoupon   Op = 62 // ID, PickupCode (the serial), Store (the redeeming store), Key?
	OpGetCoupon      Op = 63 // ID, PickupCode: a serial's state (a counter's check before redeeming)
	OpGetCouponIssue Op = 64 // SKU, Store: an issue's counts and its redemptions by store (the invoicing report)

	// A reservation a hold-back rule held back (review.go, docs/adr/0107):
	// release_review changes state although numbered among the reads.
	OpReleaseReview Op = 57 // ID, Key?: an operator lets a held-back reservation be confirmed
	OpLast          Op = 64
)

var opNames = map[Op]string{
	OpReserve: "reserve", OpConfirm: "confirm", OpExtend: "extend", OpCancel: "cancel",
	OpPickup: "pickup", OpReschedule: "reschedule", OpReturn: "return", OpExpire: "expire",
	OpClaim: "claim", OpReleaseClaim: "release_claim", OpAnchorClaim: "anchor_claim",
	OpResolveClaim: "resolve_claim", OpDelivered: "delivered",
	OpPutItem: "put_item", OpPutWindow: "put_window", OpRestock: "restock",
	OpAdjustStock: "adjust_stock", OpSetSaleWindow: "set_sale_window", OpSetLimit: "set_limit",
	OpSetMemberShare: "set_member_share", OpBlock: "block", OpUnblock: "unblock",
	OpSetTier: "set_tier", OpUnlock: "unlock", OpGetItem: "get_item", OpGetWindow: "get_window",
	OpGetReservation: "get_reservation", OpGetCustomer: "get_customer",
	OpListReservations: "list_reservations", OpStoresWithStock: "stores_with_stock",
	OpListItems: "list_items", OpPutStore: "put_store", OpPutStoreWindow: "put_store_window",
	OpGetStore: "get_store", OpGetClaim: "get_claim", OpGetClaimHold: "get_claim_hold",
	OpRegisterKey: "register_key", OpCustomerCopy: "customer_copy", OpNoShow: "no_show",
	OpSetMarkRule: "set_mark_rule", OpListByMark: "list_by_mark", OpGetMarkRule: "get_mark_rule",
	OpUpdateItem: "update_item", OpStoreItems: "store_items", OpPutItems: "put_items",
	OpJoinWaitlist: "join_waitlist", OpLeaveWaitlist: "leave_waitlist", OpGetWaitlist: "get_waitlist",
	OpPutCouponIssue: "put_coupon_issue", OpTakeCoupon: "take_coupon", OpRedeemCoupon: "redeem_coupon",
	OpGetCoupon: "get_coupon", OpGetCouponIssue: "get_coupon_issue",
	OpReleaseReview: "release_review",
}

func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return "op_" + itoa(int64(o))
}

// Valid reports whether o is a known op.
func (o Op) Valid() bool { _, ok := opNames[o]; return ok }

// ReadOnly reports whether the op never changes state. Read-only ops still go
// through Apply (so that they are linearizable when sent through the log) but
// may also be served by Read on a replica that knows it is up to date.
func (o Op) ReadOnly() bool {
	return o >= OpGetItem && o != OpRegisterKey && o != OpSetMarkRule && o != OpUpdateItem && o != OpPutItems && o != OpReleaseReview &&
		!o.Message() && !o.WaitlistChange() && !o.CouponChange()
}

// CouponChange reports whether the op changes a coupon issue or a serial
// (put_coupon_issue, take_coupon, redeem_coupon): ops numbered among the
// reads (docs/adr/0106).
func (o Op) CouponChange() bool {
	return o == OpPutCouponIssue || o == OpTakeCoupon || o == OpRedeemCoupon
}

// WaitlistChange reports whether the op changes a waitlist (join, leave):
// storefront ops numbered among the reads (docs/adr/0105).
func (o Op) WaitlistChange() bool { return o == OpJoinWaitlist || o == OpLeaveWaitlist }

// Mutating reports whether the op may change state and so takes an
// idempotency key. The internal ops are idempotent by their claim's key or
// their message's number instead.
func (o Op) Mutating() bool { return !o.ReadOnly() && o != OpExpire && !o.Internal() }

// Internal reports whether the op is one nodes send each other (claims,
// their resolution, outbox deliveries and trims, the sweeps' reads): a
// client's frame may not carry it.
func (o Op) Internal() bool {
	switch o {
	case OpClaim, OpReleaseClaim, OpAnchorClaim, OpResolveClaim, OpDelivered, OpGetClaim, OpGetClaimHold,
		OpRegisterKey, OpCustomerCopy, OpNoShow:
		return true
	}
	return false
}

// NodeOnly reports whether a command carries a field only nodes set (a
// claim, a deadline, a shard or a message number): a client may not.
func (c *Command) NodeOnly() bool {
	return len(c.Claim) > 0 || c.Deadline != 0 || c.ItemShard != 0 || c.ClaimCode != OK ||
		c.FromShard != 0 || c.ToShard != 0 || c.Seq != 0
}

// Message reports whether the op is an outbox message kind: what a
// destination shard applies when a message is delivered to it (a command
// of this op with FromShard and Seq set): a claim's release, a no-show
// counted at the customer's home, the home's copy of a customer's block
// and tier. A kind added later is one more op here; the numbering,
// delivery and trimming stay as they are.
func (o Op) Message() bool { return o == OpReleaseClaim || o == OpCustomerCopy || o == OpNoShow }

// Limits on what comes in. The protocol checks them at the edge; the engine
// checks them again and refuses with CodeBadRequest or CodeTooMany.
const (
	MaxIDBytes         = 64      // SKU, store and customer ids: barcodes, store codes and member ids fit
	MaxKeyBytes        = 64      // idempotency keys: a UUID in text form fits
	MaxQty             = 1 << 20 // units in one reservation or one stock change
	MaxStock           = 1 << 30 // units of one item: keeps every sum inside int32
	MaxWindowsPerItem  = 64      // pickup windows of one item (8 a day for a week fits)
	MaxWindowsPerStore = 256     // pickup windows of one store (8 a day for a month fits)
	MaxZoneBytes       = 64      // a store's time zone name: the longest IANA names have about 30 bytes
	MaxLinked          = 64      // commands in one linked group (a cart's lines)
	MaxTier            = 15      // customer tiers 0..15 (0 regular, 1 member, 2 loyal, ...)
)

// Command is one request to the engine. Which fields matter depends on Op
// (see the Op constants). Byte slices may point into the caller's buffers:
// the engine copies what it keeps and never holds on to them.
//
// Times are Unix nanoseconds; durations are time.Duration.
type Command struct {
	Op     Op
	Linked bool // this command and the next succeed or fail together (the chain ends at the first command without Linked)

	SKU      []byte
	Store    []byte
	Customer []byte
	Key      []byte // idempotency key of a mutating command (optional)

	ID         uint64        // reservation id
	Qty        int64         // units (reserve, confirm, restock); signed delta for OpAdjustStock
	Window     int64         // pickup window start; 0 = no window
	WindowEnd  int64         // OpPutWindow, OpPutStoreWindow
	Quota      int64         // OpPutWindow: the item's quota; OpPutStoreWindow: the store's capacity
	Zone       []byte        // OpPutStore: IANA time zone name
	TTL        time.Duration // hold time (0 = the configured default)
	PickupCode uint64        // 12-digit pickup code
	Restock    bool          // OpReturn: put the units back into stock

	Stock        int64 // OpPutItem
	Limit        int64 // OpSetLimit: per-customer limit of the SKU; 0 = none
	OpensAt      int64 // sale window; 0 = open since forever
	ClosesAt     int64 // 0 = never closes
	MemberTier   uint8 // customers of this tier or higher may take the member share
	MemberUnits  int64 // units kept for members until MemberCutoff
	MemberCutoff int64
	Tier         uint8 // OpSetTier

	// Screening marks (marks.go). Prints are the storefront's opaque
	// hashes of the reserve's payment, device and address (0 = not sent);
	// Marks is set_mark_rule's rule (with RuleHoldBack: hold back rather
	// than refuse) and list_by_mark's filter.
	Prints [NumPrints]uint64
	Marks  Marks

	// Settings an update_item changes (ItemSet bits): a named setting whose
	// fields are zero is cleared; one not named stays as it is.
	Set ItemSet
	// Who changed stock or settings and why, kept in the change's event
	// (docs/adr/0100). The server sets Actor from the connection's token;
	// Reason is the operator's text (at most MaxReasonBytes).
	Actor  []byte
	Reason []byte

	// Items are put_items' items (bulk.go): each names its settings in its
	// own Set, as an update_item does. Their byte fields may point into the
	// caller's buffers, like the command's own.
	Items []ItemPut
	// CouponFlags: put_coupon_issue's options (coupons.go).
	CouponFlags CouponFlags

	// Rules that span shards (docs/adr/0070). Only nodes set these: the
	// server refuses a client's request that carries any of them.
	Claim     []byte // a claim's key K (the claim ops); on OpReserve, the claim on the customer's home that counts the hold's units
	Deadline  int64  // the coordination deadline D (Unix ns), stamped on a claim and on its reserve: no shard takes either after it
	ItemShard uint16 // OpClaim: the shard of the item the claim is for (the home's sweep asks it); resolve_claim, get_claim_hold: the item's shard they run on (it routes them)
	ClaimCode Code   // OpResolveClaim: the home's answer, OK (accepted) or its refusal
	FromShard uint16 // a delivered outbox message: the shard that sent it
	ToShard   uint16 // OpDelivered: the shard the messages went to
	Seq       uint64 // a delivered outbox message's number (0: not a delivery); OpDelivered: delivered up to Seq
}

// State of a reservation.
type State uint8

const (
	StateHeld      State = 1
	StateConfirmed State = 2
	StatePickedUp  State = 3
	StateCancelled State = 4
	StateExpired   State = 5
	StateNoShow    State = 6
	StateReturned  State = 7
)

var stateNames = [...]string{"", "held", "confirmed", "picked_up", "cancelled", "expired", "no_show", "returned"}

func (s State) String() string {
	if int(s) < len(stateNames) && s != 0 {
		return stateNames[s]
	}
	return "state_" + itoa(int64(s))
}

// Active reports whether the reservation still takes units of its item.
func (s State) Active() bool { return s == StateHeld || s == StateConfirmed || s == StatePickedUp }

// Result is the outcome of one command. For commands on a reservation the
// Reservation fields describe it after the command. Read commands fill the
// matching pointer or slice (these allocate; the mutating hot path does not).
type Result struct {
	Code Code

	ID         uint64 // reservation id
	State      State
	Qty        int64
	Window     int64
	ExpiresAt  int64  // hold expiry (HELD) or pickup deadline (CONFIRMED)
	PickupCode uint64 // set once confirmed
	// Marks: a reserve's marks (also on its marked refusal), or an
	// item's rule (set_mark_rule, get_mark_rule; RuleHoldBack its action).
	Marks Marks
	// UnderReview: the reserve's hold was held back by its item's rule: it
	// cannot be confirmed until an operator releases it (review.go).
	UnderReview bool

	Item         *ItemInfo
	WindowInfo   *WindowInfo
	Reservation  *ReservationInfo
	Customer     *CustomerInfo
	Reservations []ReservationInfo
	Stores       []StoreStock
	Items        []ItemInfo
	Store        *StoreInfo
	Waitlist     *WaitlistInfo    // join_waitlist, leave_waitlist, get_waitlist
	Coupon       *CouponInfo      // take_coupon, redeem_coupon (also its already_redeemed refusal), get_coupon
	CouponIssue  *CouponIssueInfo // put_coupon_issue, get_coupon_issue

	// Sent is the outbox message the command appended: a cancel or return
	// of a claimed reservation sends its claim's release to the customer's
	// home (docs/adr/0070), and the node answering the command may wait
	// for it to arrive. Engine results only: the wire does not carry it,
	// and an idempotent replay does not either.
	Sent MessageRef
	// Copies are the customer_copy messages a block, unblock or set_tier
	// appended on the customer's home, one per other shard (customers.go):
	// whoever answers the operator waits until every one arrived, so that
	// once answered every shard refuses (or serves) the customer. Engine
	// results only, like Sent.
	Copies []MessageRef
}

// ItemInfo is a read of one item.
type ItemInfo struct {
	SKU, Store   string
	Stock        int64
	Held         int64
	Confirmed    int64
	PickedUp     int64
	Available    int64 // Stock - Held - Confirmed - PickedUp
	Limit        int64 // the SKU's per-customer limit (the same at every store)
	OpensAt      int64
	ClosesAt     int64
	MemberTier   uint8
	MemberUnits  int64
	MemberUsed   int64 // units of the member share taken by members
	MemberCutoff int64
	Windows      []WindowInfo
}

// WindowInfo is a read of one pickup window.
type WindowInfo struct {
	Start, End int64
	Quota      int64
	Used       int64 // held + confirmed + picked up in the window
}

// StoreInfo is a read of one store: its time zone (an IANA name; "" = none
// set, read as UTC) and its pickup windows, where Quota is the capacity
// across every SKU of the store and Used what its reservations hold in the
// window. The engine keeps the zone's name only: whoever prints the windows
// finds the zone's offsets (time.LoadLocation).
type StoreInfo struct {
	Store   string
	Zone    string
	Windows []WindowInfo
}

// ReservationInfo is a read of one reservation.
type ReservationInfo struct {
	ID         uint64
	SKU, Store string
	Customer   string
	Qty        int64
	Window     int64
	State      State
	CreatedAt  int64
	ExpiresAt  int64 // hold expiry or pickup deadline
	UpdatedAt  int64 // last state change
	PickupCode uint64
	Attempts   int64 // wrong pickup codes so far
	Locked     bool
	Claim      string // key of the claim on the customer's home that counts the units; "" = none
	// Provisional: a claimed hold whose claim is not resolved yet: it takes
	// stock but cannot be confirmed, extended or rescheduled (claimhold.go).
	// Engine reads only: the wire does not carry it.
	Provisional bool
	Marks       Marks // computed when the reservation was made (marks.go)
	UnderReview bool  // held back by its item's mark rule and not released yet (review.go)
}

// CustomerInfo is a read of one customer.
type CustomerInfo struct {
	ID          string
	Tier        uint8
	Blocked     bool
	AutoBlocked bool  // blocked by the no-show rule
	NoShows     int64 // no-shows within the configured period
	Open        int64 // reservations HELD or CONFIRMED in this shard
}

// WaitlistInfo is a read of an item's waitlist (waitlist.go): how many
// entries stand in line, and where the customer asked about stands (from
// 1, the head; 0 = not in line). The customer's entry's units and expiry
// are the Result's Qty and ExpiresAt.
type WaitlistInfo struct {
	Length   int64
	Position int64
	// Claimed (engine results only, not on the wire): a join carrying a
	// claim finds that claim carried by an entry in line or by the hold
	// its promotion made (the router anchors the claim; else it releases it).
	Claimed bool
}

// StoreStock is one store that has a SKU available.
type StoreStock struct {
	Store     string
	Available int64
}

// EventKind names a state change.
type EventKind uint8

const (
	EvReserved      EventKind = 1  // a hold was taken
	EvConfirmed     EventKind = 2  // a hold was confirmed: pickup code issued
	EvExtended      EventKind = 3  // a hold's expiry moved
	EvCancelled     EventKind = 4  //
	EvExpired       EventKind = 5  // a hold's TTL passed
	EvPickedUp      EventKind = 6  //
	EvNoShow        EventKind = 7  // a confirmed order's pickup deadline passed
	EvRescheduled   EventKind = 8  // moved to another window
	EvReturned      EventKind = 9  //
	EvLocked        EventKind = 10 // too many wrong codes
	EvUnlocked      EventKind = 11 //
	EvItemPut       EventKind = 12 // item created or changed (stock, limit, sale window, member share)
	EvWindowPut     EventKind = 13 // pickup window created or changed
	EvStockChanged  EventKind = 14 // restock or adjust
	EvCustomer      EventKind = 15 // customer blocked, unblocked (also by the no-show rule) or tier set
	EvBadCode       EventKind = 16 // a wrong pickup code was tried
	EvClaimed       EventKind = 17 // units of a customer's limit were claimed (customer's home): the claim is pending
	EvClaimEnded    EventKind = 18 // a claim was released: its units are free again
	EvClaimSettled  EventKind = 19 // retired (claims are no longer settled): never emitted
	EvClaimMoved    EventKind = 20 // retired (claims are no longer extended): never emitted
	EvLimitSet      EventKind = 21 // a SKU's per-customer limit was set (SKU, Qty = the limit)
	EvStorePut      EventKind = 22 // a store's time zone was set (Store, Zone)
	EvStoreWindow   EventKind = 23 // a store's pickup window was created or changed (Store, Window, Qty = the capacity)
	EvClaimAnchored EventKind = 24 // a pending claim's hold was found by the home's sweep: it counts until released
	EvHoldRefused   EventKind = 25 // a provisional hold ended: its claim was refused (item's shard; its units are back)

	// A sold-out item's waitlist (waitlist.go): SKU, Store, Customer, Qty
	// (the entry's units).
	EvWaitJoined   EventKind = 30 // a customer joined the line
	EvWaitLeft     EventKind = 31 // a customer left the line
	EvWaitExpired  EventKind = 32 // an entry's TTL passed
	EvWaitPromoted EventKind = 33 // the head took freed units: ID is its new hold (an EvReserved of it comes just before)
	EvWaitDropped  EventKind = 34 // the head could not take freed units for a reason waiting cannot mend (blocked, closed, limit): it left the line
	EvMarkRule     EventKind = 35 // an item's mark rule was set (SKU, Store, Qty = the rule's marks, RuleHoldBack its action)

	// Review of held-back reservations (review.go): ID, SKU, Store,
	// Customer, Qty (the hold's units), State.
	EvHeldBack       EventKind = 36 // a reserve's hold was held back by its item's rule (an EvReserved of it comes just before)
	EvReviewReleased EventKind = 37 // an operator released a held-back hold: it may be confirmed

	// Serial-number coupons (coupons.go): SKU is the issue's; ID the serial's.
	EvCouponIssuePut EventKind = 40 // an issue was created or changed (SKU, Store: the issue's; Qty: its serials; Stock: serials left in the pool)
	EvCouponTaken    EventKind = 41 // a serial was handed out (Store: the issue's; Customer: who took it)
	EvCouponRedeemed EventKind = 42 // a serial was redeemed (Store: the store that redeemed it; Customer: who took it)
	EvCouponExpired  EventKind = 43 // a serial's life ended unredeemed (Store: the issue's; Qty 1: back in the pool, 0: not)
)

var eventNames = [...]string{0: "", "reserved", "confirmed", "extended", "cancelled", "expired",
	"picked_up", "no_show", "rescheduled", "returned", "locked", "unlocked", "item_put",
	"window_put", "stock_changed", "customer", "bad_code", "claimed", "claim_ended", "claim_settled",
	"claim_moved", "limit_set", "store_put", "store_window_put", "claim_anchored", "hold_refused",
	"", "", "", "", // 26..29: not kinds of this version
	"waitlist_joined", "waitlist_left", "waitlist_expired", "waitlist_promoted", "waitlist_dropped",
	EvMarkRule: "mark_rule", EvHeldBack: "held_back", EvReviewReleased: "review_released",
	EvCouponIssuePut: "coupon_issue_put", EvCouponTaken: "coupon_taken", EvCouponRedeemed: "coupon_redeemed",
	EvCouponExpired: "coupon_expired"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "event_" + itoa(int64(k))
}

// Event is one state change, in the order the engine made it. The strings
// point at the engine's own copies (no allocation); the event is valid after
// the Apply that produced it returns, but its slice is reused by the next Apply.
type Event struct {
	Kind       EventKind
	At         int64 // the batch's time
	ID         uint64
	SKU, Store string
	Customer   string
	Qty        int64 // units concerned (reserved, released, restocked ...)
	Window     int64
	State      State  // reservation's state after the change
	PickupCode uint64 // EvConfirmed
	Stock      int64  // item's stock after EvItemPut / EvStockChanged
	Tier       uint8  // EvCustomer
	Blocked    bool   // EvCustomer
	Zone       string // EvStorePut
	Actor      string // EvItemPut, EvStockChanged: who made the change (the token's name)
	Reason     string // EvItemPut, EvStockChanged: why, as the operator wrote it
}

// Config is the engine's configuration. Every replica of a shard must run
// with the same Config (it is part of the deterministic state machine).
type Config struct {
	ShardID              uint16        // high 16 bits of every reservation id this shard issues
	Shards               int           // shards of the cluster: > 1 makes limits count across shards (claim.go) and sizes the outbox
	PickupSecret         []byte        // HMAC key of pickup codes; must be the same on every replica
	DefaultHoldTTL       time.Duration // TTL of a hold when the request gives 0 (default 10 min)
	MaxHold              time.Duration // longest a hold may live from its creation, extensions included (default 30 min)
	PickupPeriod         time.Duration // pickup deadline after confirm for reservations without a window (default 7 days)
	PickupGrace          time.Duration // pickup deadline after the end of the reservation's window (default 0)
	IdempotencyRetention time.Duration // how long keys are kept (default 24 h)
	FinishedRetention    time.Duration // how long finished reservations stay readable (default 30 days)
	MaxPickupAttempts    int           // wrong codes before the reservation locks (default 5)
	NoShowLimit          int           // no-shows within NoShowPeriod that block a customer; < 0 = off (0 = default 3)
	NoShowPeriod         time.Duration // default 90 days
	RatePerSecond        float64       // per-customer request rate; 0 = off (default off)
	RateBurst            int           // bucket size (default max(1, RatePerSecond))
	Marks                MarkConfig    // screening marks' thresholds (marks.go)
	WaitlistHoldTTL      time.Duration // TTL of a hold a waitlist's head is promoted to (default DefaultHoldTTL, at most MaxHold)
}

// Defaults of Config.
const (
	DefaultHoldTTL              = 10 * time.Minute
	DefaultMaxHold              = 30 * time.Minute
	DefaultPickupPeriod         = 7 * 24 * time.Hour
	DefaultIdempotencyRetention = 24 * time.Hour
	DefaultFinishedRetention    = 30 * 24 * time.Hour
	DefaultMaxPickupAttempts    = 5
	DefaultNoShowLimit          = 3
	DefaultNoShowPeriod         = 90 * 24 * time.Hour
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.DefaultHoldTTL <= 0 {
		c.DefaultHoldTTL = DefaultHoldTTL
	}
	if c.MaxHold <= 0 {
		c.MaxHold = DefaultMaxHold
	}
	if c.MaxHold < c.DefaultHoldTTL {
		c.MaxHold = c.DefaultHoldTTL
	}
	if c.WaitlistHoldTTL <= 0 {
		c.WaitlistHoldTTL = c.DefaultHoldTTL
	}
	if c.WaitlistHoldTTL > c.MaxHold {
		c.WaitlistHoldTTL = c.MaxHold
	}
	if c.PickupPeriod <= 0 {
		c.PickupPeriod = DefaultPickupPeriod
	}
	if c.IdempotencyRetention <= 0 {
		c.IdempotencyRetention = DefaultIdempotencyRetention
	}
	if c.FinishedRetention <= 0 {
		c.FinishedRetention = DefaultFinishedRetention
	}
	if c.MaxPickupAttempts <= 0 {
		c.MaxPickupAttempts = DefaultMaxPickupAttempts
	}
	if c.NoShowLimit == 0 {
		c.NoShowLimit = DefaultNoShowLimit
	}
	if c.NoShowPeriod <= 0 {
		c.NoShowPeriod = DefaultNoShowPeriod
	}
	c.Marks = c.Marks.withDefaults()
	if c.RatePerSecond > 0 && c.RateBurst <= 0 {
		c.RateBurst = int(c.RatePerSecond)
		if c.RateBurst < 1 {
			c.RateBurst = 1
		}
	}
	return c
}

// ShardOfID returns the shard that issued a reservation id.
func ShardOfID(id uint64) uint16 { return uint16(id >> 48) }

// SeqOfID returns the per-shard sequence number of a reservation id.
func SeqOfID(id uint64) uint64 { return id & (1<<48 - 1) }

// MakeID builds a reservation id from a shard and a sequence number.
func MakeID(shard uint16, seq uint64) uint64 { return uint64(shard)<<48 | seq&(1<<48-1) }
