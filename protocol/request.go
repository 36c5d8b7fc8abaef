package protocol

import (
	"strconv"
	"time"

	"github.com/invsys/inv/engine"
)

// A domain request's payload is a field mask (a u32; with bit 31 set, a
// second u32 for the fields from 31 on: appendFieldMask) followed by the fields
// whose bits are set, in bit order. A field is sent only when it is used by
// the op and differs from its zero value; absent means zero (which the
// engine reads as "none" or "default" everywhere: no window, default TTL,
// all held units, no key). One generic codec therefore serves every op, the
// common reserve costs no bytes for the options it leaves out, and a field
// added later takes a new bit without changing any existing layout.
//
// Each op allows a fixed set of fields (requestFields); a bit outside it is
// refused, so a request cannot smuggle data the server would silently ignore.

// Request field bits, in encoding order.
const (
	fSKU          = iota // str8, <= MaxIDBytes
	fStore               // str8, <= MaxIDBytes
	fCustomer            // str8, <= MaxIDBytes
	fKey                 // str8, <= MaxKeyBytes: idempotency key
	fID                  // u64: reservation id
	fQty                 // i64
	fWindow              // i64: pickup window start, Unix ns
	fWindowEnd           // i64
	fQuota               // i64
	fTTL                 // i64: nanoseconds
	fPickupCode          // u64
	fRestock             // no bytes: the bit itself means true
	fStock               // i64
	fLimit               // i64
	fOpensAt             // i64
	fClosesAt            // i64
	fMemberTier          // u8
	fMemberUnits         // i64
	fMemberCutoff        // i64
	fTier                // u8
	fClaim               // str8, <= MaxKeyBytes: a claim's key (docs/adr/0070)
	fDeadline            // i64: a claim's coordination deadline, Unix ns
	fItemShard           // u16: the shard of a claim's item
	fZone                // str8, <= MaxZoneBytes: a store's IANA time zone (put_store)
	fClaimCode           // u16: a resolve's answer (a code)
	fFromShard           // u16: a delivered outbox message's sender
	fToShard             // u16: the shard a trim's messages went to
	fSeq                 // u64: an outbox message's number
	fPrints              // u8 kinds mask (bit k: Prints[k], k < NumPrints), then a nonzero u64 per set bit: a reserve's fingerprints (docs/adr/0104)
	fMarks               // u16: set_mark_rule's rule, list_by_mark's filter (screening marks)
	fSet                 // u8: the settings an update_item changes (engine.ItemSet; docs/adr/0100)
	fReason              // str8, <= MaxReasonBytes: why stock or settings changed
	fActor               // str8, <= MaxIDBytes: who made the change; a node's only (a forward keeps it)
	fItems               // put_items' items (items.go): u16 count, then each item
	fCouponFlags         // u8: put_coupon_issue's options (engine.CouponFlags; docs/adr/0106)
	requestFieldCount
)

var requestFieldNames = [requestFieldCount]string{
	"sku", "store", "customer", "key", "id", "qty", "window", "window_end", "quota", "ttl",
	"pickup_code", "restock", "stock", "limit", "opens_at", "closes_at", "member_tier",
	"member_units", "member_cutoff", "tier", "claim", "deadline", "item_shard", "zone",
	"claim_code", "from_shard", "to_shard", "seq", "prints", "marks", "set", "reason", "actor", "items",
	"coupon_flags",
}

func bits(fields ...int) uint64 {
	var m uint64
	for _, f := range fields {
		m |= 1 << f
	}
	return m
}

// requestFields is the set of fields each client op may carry. Zero marks an
// op a client may not send.
var requestFields = func() (t [256]uint64) {
	item := bits(fSKU, fStore, fKey)
	claimed := bits(fClaim, fDeadline) // set by the coordinating node only (engine/claimhold.go)
	t[engine.OpReserve] = bits(fSKU, fStore, fCustomer, fQty, fWindow, fTTL, fKey, fPrints) | claimed
	t[engine.OpConfirm] = bits(fID, fQty, fKey)
	t[engine.OpExtend] = bits(fID, fTTL, fKey)
	t[engine.OpCancel] = bits(fID, fKey)
	t[engine.OpPickup] = bits(fID, fStore, fPickupCode, fKey)
	t[engine.OpReschedule] = bits(fID, fWindow, fKey)
	t[engine.OpReturn] = bits(fID, fRestock, fKey)
	audited := bits(fReason, fActor) // the server refuses an actor from a client (server/auth.go)
	t[engine.OpPutItem] = item | audited | bits(fStock, fOpensAt, fClosesAt, fMemberTier, fMemberUnits, fMemberCutoff)
	t[engine.OpUpdateItem] = item | audited | bits(fSet, fStock, fOpensAt, fClosesAt, fMemberTier, fMemberUnits, fMemberCutoff)
	t[engine.OpPutItems] = audited | bits(fItems, fKey) // the items' own stores route it (RouteOf)
	t[engine.OpPutWindow] = item | bits(fWindow, fWindowEnd, fQuota)
	t[engine.OpRestock] = item | audited | bits(fQty)
	t[engine.OpAdjustStock] = item | audited | bits(fQty)
	t[engine.OpSetSaleWindow] = item | bits(fOpensAt, fClosesAt)
	t[engine.OpSetLimit] = bits(fSKU, fLimit, fKey) // the SKU's limit, at every store: no store
	t[engine.OpSetMemberShare] = item | bits(fMemberTier, fMemberUnits, fMemberCutoff)
	t[engine.OpBlock] = bits(fCustomer, fKey)
	t[engine.OpUnblock] = bits(fCustomer, fKey)
	t[engine.OpSetTier] = bits(fCustomer, fTier, fKey)
	t[engine.OpUnlock] = bits(fID, fKey)
	t[engine.OpPutStore] = bits(fStore, fZone, fKey)
	t[engine.OpPutStoreWindow] = bits(fStore, fWindow, fWindowEnd, fQuota, fKey)
	// The nodes' own (engine.Op.Internal; docs/adr/0070).
	// Each names the shard it runs on (RouteOf): the customer's home by
	// customer, an item's shard by item_shard, so that a group of them
	// travels as a BATCH and lands in one entry of that shard.
	t[engine.OpClaim] = bits(fCustomer, fSKU, fQty, fLimit, fClaim, fItemShard, fDeadline)
	t[engine.OpReleaseClaim] = bits(fCustomer, fClaim, fDeadline, fFromShard, fSeq) // direct, or a delivered outbox message
	t[engine.OpAnchorClaim] = bits(fCustomer, fClaim)
	t[engine.OpResolveClaim] = bits(fClaim, fClaimCode, fItemShard)
	t[engine.OpDelivered] = bits(fToShard, fSeq)
	t[engine.OpGetClaim] = bits(fCustomer, fClaim)
	t[engine.OpGetClaimHold] = bits(fClaim, fItemShard)
	t[engine.OpRegisterKey] = bits(fKey, fID, fItemShard) // id: the request's fingerprint; item_shard: the shard it runs on
	// Customers across shards (docs/adr/0072): outbox messages. A copy
	// names the shard it goes to (to_shard; qty is the block), a no-show
	// the customer's home (deadline is the no-show's time).
	t[engine.OpCustomerCopy] = bits(fCustomer, fTier, fQty, fToShard, fFromShard, fSeq)
	t[engine.OpNoShow] = bits(fCustomer, fID, fDeadline, fFromShard, fSeq)
	// A sold-out item's waitlist (docs/adr/0105): the item's store routes it.
	t[engine.OpJoinWaitlist] = bits(fSKU, fStore, fCustomer, fQty, fTTL, fKey)
	t[engine.OpLeaveWaitlist] = bits(fSKU, fStore, fCustomer, fKey)
	t[engine.OpGetWaitlist] = bits(fSKU, fStore, fCustomer)
	t[engine.OpGetItem] = bits(fSKU, fStore)
	t[engine.OpGetWindow] = bits(fSKU, fStore, fWindow)
	t[engine.OpGetReservation] = bits(fID)
	t[engine.OpGetCustomer] = bits(fCustomer)
	t[engine.OpListReservations] = bits(fCustomer)
	t[engine.OpStoresWithStock] = bits(fSKU)
	t[engine.OpListItems] = bits(fSKU)
	t[engine.OpGetStore] = bits(fStore)
	// Screening marks (docs/adr/0104).
	t[engine.OpSetMarkRule] = item | bits(fMarks)
	t[engine.OpGetMarkRule] = bits(fSKU, fStore)
	t[engine.OpListByMark] = bits(fMarks)
	t[engine.OpReleaseReview] = bits(fID, fKey) // a held-back hold (docs/adr/0107): its id routes it
	t[engine.OpStoreItems] = bits(fStore)
	// Serial-number coupons (docs/adr/0106): an issue by its store, a
	// serial by its ID's shard.
	t[engine.OpPutCouponIssue] = item | bits(fStock, fLimit, fOpensAt, fClosesAt, fTTL, fCouponFlags)
	t[engine.OpTakeCoupon] = bits(fSKU, fStore, fCustomer, fKey)
	t[engine.OpRedeemCoupon] = bits(fID, fPickupCode, fStore, fKey)
	t[engine.OpGetCoupon] = bits(fID, fPickupCode)
	t[engine.OpGetCouponIssue] = bits(fSKU, fStore)
	return t
}()

// AppendRequest appends a request frame for cmd. Fields cmd.Op does not use
// are not sent; cmd.Linked is not either (it has a meaning only inside a
// BATCH). cmd must pass CheckRequest: an op a client may not send or a field
// over its limit panics.
func AppendRequest(dst []byte, reqID uint32, cmd *engine.Command) []byte {
	dst, start := beginFrame(dst, DomainOp(cmd.Op), 0, reqID)
	dst = appendCommand(dst, cmd)
	return finishFrame(dst, start)
}

// CheckRequest reports why cmd cannot be sent, or nil: an op a client may
// not send (unknown, or expire), or an id or key over its limit. Fields the
// op does not use are not checked: they are not sent.
func CheckRequest(cmd *engine.Command) error {
	allowed := requestFields[cmd.Op]
	if allowed == 0 {
		return unknownOp(DomainOp(cmd.Op))
	}
	for _, f := range [...]struct{ bit, n, limit int }{
		{fSKU, len(cmd.SKU), MaxIDBytes},
		{fStore, len(cmd.Store), MaxIDBytes},
		{fCustomer, len(cmd.Customer), MaxIDBytes},
		{fKey, len(cmd.Key), MaxKeyBytes},
		{fClaim, len(cmd.Claim), MaxKeyBytes},
		{fZone, len(cmd.Zone), MaxZoneBytes},
		{fReason, len(cmd.Reason), MaxReasonBytes},
		{fActor, len(cmd.Actor), MaxIDBytes},
	} {
		if allowed&(1<<f.bit) != 0 && f.n > f.limit {
			return tooLarge(requestFieldNames[f.bit]+" bytes", f.n, f.limit)
		}
	}
	if allowed&(1<<fItems) != 0 {
		return checkItems(cmd.Items)
	}
	return nil
}

// presentFields returns the mask of cmd's non-zero fields.
func presentFields(cmd *engine.Command) uint64 {
	var m uint64
	set := func(f int, nonzero bool) {
		if nonzero {
			m |= 1 << f
		}
	}
	set(fSKU, len(cmd.SKU) != 0)
	set(fStore, len(cmd.Store) != 0)
	set(fCustomer, len(cmd.Customer) != 0)
	set(fKey, len(cmd.Key) != 0)
	set(fID, cmd.ID != 0)
	set(fQty, cmd.Qty != 0)
	set(fWindow, cmd.Window != 0)
	set(fWindowEnd, cmd.WindowEnd != 0)
	set(fQuota, cmd.Quota != 0)
	set(fTTL, cmd.TTL != 0)
	set(fPickupCode, cmd.PickupCode != 0)
	set(fRestock, cmd.Restock)
	set(fStock, cmd.Stock != 0)
	set(fLimit, cmd.Limit != 0)
	set(fOpensAt, cmd.OpensAt != 0)
	set(fClosesAt, cmd.ClosesAt != 0)
	set(fMemberTier, cmd.MemberTier != 0)
	set(fMemberUnits, cmd.MemberUnits != 0)
	set(fMemberCutoff, cmd.MemberCutoff != 0)
	set(fTier, cmd.Tier != 0)
	set(fClaim, len(cmd.Claim) != 0)
	set(fDeadline, cmd.Deadline != 0)
	set(fItemShard, cmd.ItemShard != 0)
	set(fZone, len(cmd.Zone) != 0)
	set(fClaimCode, cmd.ClaimCode != 0)
	set(fFromShard, cmd.FromShard != 0)
	set(fToShard, cmd.ToShard != 0)
	set(fSeq, cmd.Seq != 0)
	set(fPrints, cmd.Prints != [engine.NumPrints]uint64{})
	set(fMarks, cmd.Marks != 0)
	set(fSet, cmd.Set != 0)
	set(fReason, len(cmd.Reason) != 0)
	set(fActor, len(cmd.Actor) != 0)
	set(fItems, len(cmd.Items) != 0)
	set(fCouponFlags, cmd.CouponFlags != 0)
	return m
}

// appendCommand appends a request payload (mask and fields).
func appendCommand(dst []byte, cmd *engine.Command) []byte {
	allowed := requestFields[cmd.Op]
	if allowed == 0 {
		panic("protocol: encoding " + cmd.Op.String() + ", which a client may not send")
	}
	m := presentFields(cmd) & allowed
	dst = appendFieldMask(dst, m)
	has := func(f int) bool { return m&(1<<f) != 0 }
	if has(fSKU) {
		dst = appendStr8(dst, cmd.SKU, MaxIDBytes, "sku")
	}
	if has(fStore) {
		dst = appendStr8(dst, cmd.Store, MaxIDBytes, "store")
	}
	if has(fCustomer) {
		dst = appendStr8(dst, cmd.Customer, MaxIDBytes, "customer")
	}
	if has(fKey) {
		dst = appendStr8(dst, cmd.Key, MaxKeyBytes, "key")
	}
	if has(fID) {
		dst = appendU64(dst, cmd.ID)
	}
	if has(fQty) {
		dst = appendI64(dst, cmd.Qty)
	}
	if has(fWindow) {
		dst = appendI64(dst, cmd.Window)
	}
	if has(fWindowEnd) {
		dst = appendI64(dst, cmd.WindowEnd)
	}
	if has(fQuota) {
		dst = appendI64(dst, cmd.Quota)
	}
	if has(fTTL) {
		dst = appendI64(dst, int64(cmd.TTL))
	}
	if has(fPickupCode) {
		dst = appendU64(dst, cmd.PickupCode)
	}
	// fRestock: the bit alone.
	if has(fStock) {
		dst = appendI64(dst, cmd.Stock)
	}
	if has(fLimit) {
		dst = appendI64(dst, cmd.Limit)
	}
	if has(fOpensAt) {
		dst = appendI64(dst, cmd.OpensAt)
	}
	if has(fClosesAt) {
		dst = appendI64(dst, cmd.ClosesAt)
	}
	if has(fMemberTier) {
		dst = appendU8(dst, cmd.MemberTier)
	}
	if has(fMemberUnits) {
		dst = appendI64(dst, cmd.MemberUnits)
	}
	if has(fMemberCutoff) {
		dst = appendI64(dst, cmd.MemberCutoff)
	}
	if has(fTier) {
		dst = appendU8(dst, cmd.Tier)
	}
	if has(fClaim) {
		dst = appendStr8(dst, cmd.Claim, MaxKeyBytes, "claim")
	}
	if has(fDeadline) {
		dst = appendI64(dst, cmd.Deadline)
	}
	if has(fItemShard) {
		dst = appendU16(dst, cmd.ItemShard)
	}
	if has(fZone) {
		dst = appendStr8(dst, cmd.Zone, MaxZoneBytes, "zone")
	}
	if has(fClaimCode) {
		dst = appendU16(dst, uint16(cmd.ClaimCode))
	}
	if has(fFromShard) {
		dst = appendU16(dst, cmd.FromShard)
	}
	if has(fToShard) {
		dst = appendU16(dst, cmd.ToShard)
	}
	if has(fSeq) {
		dst = appendU64(dst, cmd.Seq)
	}
	if has(fPrints) {
		dst = appendPrints(dst, &cmd.Prints)
	}
	if has(fMarks) {
		dst = appendU16(dst, uint16(cmd.Marks))
	}
	if has(fSet) {
		dst = appendU8(dst, uint8(cmd.Set))
	}
	if has(fReason) {
		dst = appendStr8(dst, cmd.Reason, MaxReasonBytes, "reason")
	}
	if has(fActor) {
		dst = appendStr8(dst, cmd.Actor, MaxIDBytes, "actor")
	}
	if has(fItems) {
		dst = appendItems(dst, cmd.Items)
	}
	if has(fCouponFlags) {
		dst = appendU8(dst, uint8(cmd.CouponFlags))
	}
	return dst
}

// DecodeRequest decodes the payload of a request frame with op code op into
// cmd, overwriting all of it. cmd's byte slices alias payload: the caller
// keeps payload unchanged while it uses cmd (the engine copies what it keeps).
// It allocates nothing, except for put_store, whose time zone it looks up
// (CheckZone): a zone the zone database does not know is a bad request.
func DecodeRequest(op Op, payload []byte, cmd *engine.Command) error {
	eop, ok := op.Engine()
	if !ok {
		return unknownOp(op)
	}
	*cmd = engine.Command{Op: eop}
	c := cursor{b: payload}
	m := decodeFieldMask(&c)
	if c.err != nil {
		return c.err
	}
	if extra := m &^ requestFields[eop]; extra != 0 {
		return fieldNotAllowed(extra, eop)
	}
	has := func(f int) bool { return m&(1<<f) != 0 }
	if has(fSKU) {
		cmd.SKU = c.str8(MaxIDBytes, "sku bytes")
		c.nonzero(len(cmd.SKU) != 0)
	}
	if has(fStore) {
		cmd.Store = c.str8(MaxIDBytes, "store bytes")
		c.nonzero(len(cmd.Store) != 0)
	}
	if has(fCustomer) {
		cmd.Customer = c.str8(MaxIDBytes, "customer bytes")
		c.nonzero(len(cmd.Customer) != 0)
	}
	if has(fKey) {
		cmd.Key = c.str8(MaxKeyBytes, "key bytes")
		c.nonzero(len(cmd.Key) != 0)
	}
	u64 := func(f int, v *uint64) {
		if has(f) {
			*v = c.u64()
			c.nonzero(*v != 0)
		}
	}
	i64 := func(f int, v *int64) {
		if has(f) {
			*v = c.i64()
			c.nonzero(*v != 0)
		}
	}
	u8 := func(f int, v *uint8) {
		if has(f) {
			*v = c.u8()
			c.nonzero(*v != 0)
		}
	}
	u64(fID, &cmd.ID)
	i64(fQty, &cmd.Qty)
	i64(fWindow, &cmd.Window)
	i64(fWindowEnd, &cmd.WindowEnd)
	i64(fQuota, &cmd.Quota)
	if has(fTTL) {
		cmd.TTL = time.Duration(c.i64())
		c.nonzero(cmd.TTL != 0)
	}
	u64(fPickupCode, &cmd.PickupCode)
	cmd.Restock = has(fRestock)
	i64(fStock, &cmd.Stock)
	i64(fLimit, &cmd.Limit)
	i64(fOpensAt, &cmd.OpensAt)
	i64(fClosesAt, &cmd.ClosesAt)
	u8(fMemberTier, &cmd.MemberTier)
	i64(fMemberUnits, &cmd.MemberUnits)
	i64(fMemberCutoff, &cmd.MemberCutoff)
	u8(fTier, &cmd.Tier)
	if has(fClaim) {
		cmd.Claim = c.str8(MaxKeyBytes, "claim bytes")
		c.nonzero(len(cmd.Claim) != 0)
	}
	i64(fDeadline, &cmd.Deadline)
	u16 := func(f int, v *uint16) {
		if has(f) {
			*v = c.u16()
			c.nonzero(*v != 0)
		}
	}
	u16(fItemShard, &cmd.ItemShard)
	if has(fZone) {
		cmd.Zone = c.str8(MaxZoneBytes, "zone bytes")
		c.nonzero(len(cmd.Zone) != 0)
	}
	if has(fClaimCode) {
		cmd.ClaimCode = engine.Code(c.u16())
		c.nonzero(cmd.ClaimCode != 0)
	}
	u16(fFromShard, &cmd.FromShard)
	u16(fToShard, &cmd.ToShard)
	u64(fSeq, &cmd.Seq)
	if has(fPrints) {
		decodePrints(&c, &cmd.Prints)
	}
	if has(fMarks) {
		cmd.Marks = engine.Marks(c.u16())
		c.nonzero(cmd.Marks != 0)
	}
	if has(fSet) {
		cmd.Set = engine.ItemSet(c.u8())
		c.nonzero(cmd.Set != 0)
	}
	if has(fReason) {
		cmd.Reason = c.str8(MaxReasonBytes, "reason bytes")
		c.nonzero(len(cmd.Reason) != 0)
	}
	if has(fActor) {
		cmd.Actor = c.str8(MaxIDBytes, "actor bytes")
		c.nonzero(len(cmd.Actor) != 0)
	}
	if has(fItems) {
		cmd.Items = decodeItems(&c)
	}
	if has(fCouponFlags) {
		cmd.CouponFlags = engine.CouponFlags(c.u8())
		c.nonzero(cmd.CouponFlags != 0)
	}
	if err := c.end(); err != nil {
		return err
	}
	if eop == engine.OpPutStore {
		return CheckZone(string(cmd.Zone))
	}
	if eop == engine.OpPutItems && len(cmd.Items) == 0 {
		return errNoItems
	}
	return nil
}

// fieldNotAllowed names the first offending bit. Errors allocate; only a
// misbehaving peer reaches here.
func fieldNotAllowed(extra uint64, op engine.Op) error {
	for f := 0; f < 64; f++ {
		if extra&(1<<f) == 0 {
			continue
		}
		if f >= requestFieldCount {
			return errReservedMask
		}
		if f == fLimit && op == engine.OpPutItem {
			return errItemLimit
		}
		if f == fStore && op == engine.OpSetLimit {
			return errLimitStore
		}
		return malformed("field " + requestFieldNames[f] + " is not used by " + op.String())
	}
	return nil
}

// A client written for the per-item limit sends it where it no longer
// belongs: the request is well formed, its content is not, and the answer
// says what to do instead.
var (
	errItemLimit = &Error{Code: engine.CodeBadRequest,
		Msg: "put_item carries no limit: the per-customer limit is the SKU's, the same at every store; set it with set_limit (SKU and limit, no store)"}
	errNoItems    = &Error{Code: engine.CodeBadRequest, Msg: "put_items carries no items: send 1 to " + strconv.Itoa(MaxBulkItems)}
	errLimitStore = &Error{Code: engine.CodeBadRequest,
		Msg: "set_limit names a SKU and no store: the per-customer limit is the SKU's, the same at every store"}
)

// CheckZone reports whether name is a time zone of the zone database
// (time.LoadLocation), or why not, as a bad_request Error. The engine keeps
// only the name and checks its form; whether the zone exists is decided
// here, once, where the request enters, so that every replica applies the
// same command whatever zone database its host has.
func CheckZone(name string) error {
	if name == "" {
		return &Error{Code: engine.CodeBadRequest, Msg: "put_store needs a time zone (an IANA name such as Asia/Taipei)"}
	}
	for i := 0; i < len(name); i++ { // the characters of IANA names; nothing else reaches the zone database
		switch ch := name[i]; {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '/', ch == '_', ch == '-', ch == '+':
		default:
			return &Error{Code: engine.CodeBadRequest, Msg: "time zone " + strconv.Quote(name) + " is not an IANA name such as Asia/Taipei"}
		}
	}
	if _, err := time.LoadLocation(name); err != nil || name == "Local" {
		return &Error{Code: engine.CodeBadRequest, Msg: "unknown time zone " + strconv.Quote(name) + ": use an IANA name such as Asia/Taipei"}
	}
	return nil
}

// The field mask on the wire: a u32 whose bits 0 to 30 are fields 0 to 30;
// bit 31 set means a second u32 follows, whose bits are fields 31 to 62
// (nonzero: a mask that needs no extension is sent without one, so every
// request has one encoding). Requests of the fields below 31 keep their
// layout byte for byte.
const maskExtension = 1 << 31

// appendFieldMask appends m as one u32, or two when a field of 31 or above
// is set.
func appendFieldMask(dst []byte, m uint64) []byte {
	if m < maskExtension {
		return appendU32(dst, uint32(m))
	}
	dst = appendU32(dst, uint32(m&(maskExtension-1))|maskExtension)
	return appendU32(dst, uint32(m>>31))
}

// decodeFieldMask reads a field mask written by appendFieldMask.
func decodeFieldMask(c *cursor) uint64 {
	m := uint64(c.u32())
	if m&maskExtension == 0 {
		return m
	}
	ext := c.u32()
	c.nonzero(ext != 0)
	return m&(maskExtension-1) | uint64(ext)<<31
}
