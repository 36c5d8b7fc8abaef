package protocol

import "github.com/invsys/inv/engine"

// A domain reply's payload is the code (u16), a u16 mask of the fields that
// follow, and those fields in bit order. Like requests, a field is present
// only when it is not zero, so the most common reply of a flash sale, a
// refusal with sold_out, is four bytes. The mask does not depend on the op:
// one decoder reads every reply, and a client need not remember which op it
// sent to read the answer.

// Result field bits, in encoding order.
const (
	rID           = iota // u64
	rState               // u8
	rQty                 // i64
	rWindow              // i64
	rExpiresAt           // i64
	rPickupCode          // u64
	rItem                // ItemInfo
	rWindowInfo          // WindowInfo
	rReservation         // ReservationInfo
	rCustomer            // CustomerInfo
	rReservations        // u16 count (>= 1), ReservationInfo × count
	rStores              // u16 count (>= 1), StoreStock × count
	rItems               // u16 count (>= 1), ItemInfo × count
	rClaim               // str8, <= MaxKeyBytes: the claim of the rReservation (a claim_required refusal names it, docs/adr/0050)
	rStore               // StoreInfo: get_store, put_store, put_store_window
	rExt                 // u16 extension mask and its fields (marks.go): screening marks, a waitlist place
	resultFieldCount
)

const resultMaskValid = 1<<resultFieldCount - 1 // rExt is bit 15: the u16 mask is full, and later fields join the extension

// AppendResult appends the reply frame of a domain op. r must pass
// CheckResult (the engine's results always do, except lists longer than the
// protocol's limits, which the server checks for read ops).
func AppendResult(dst []byte, reqID uint32, op engine.Op, r *engine.Result) []byte {
	dst, start := beginFrame(dst, DomainOp(op), FlagReply, reqID)
	dst = appendResult(dst, r)
	return finishFrame(dst, start)
}

// CheckResult reports why r cannot be encoded, or nil: a list or an id over
// its limit.
func CheckResult(r *engine.Result) error {
	if r.Item != nil {
		if err := checkItem(r.Item); err != nil {
			return err
		}
	}
	if r.Reservation != nil {
		if err := checkReservation(r.Reservation); err != nil {
			return err
		}
	}
	if r.Customer != nil && len(r.Customer.ID) > MaxIDBytes {
		return tooLarge("customer id bytes", len(r.Customer.ID), MaxIDBytes)
	}
	if len(r.Reservations) > MaxListReservations {
		return tooLarge("reservations", len(r.Reservations), MaxListReservations)
	}
	for i := range r.Reservations {
		if err := checkReservation(&r.Reservations[i]); err != nil {
			return err
		}
	}
	if len(r.Stores) > MaxListStores {
		return tooLarge("stores", len(r.Stores), MaxListStores)
	}
	for i := range r.Stores {
		if len(r.Stores[i].Store) > MaxIDBytes {
			return tooLarge("store id bytes", len(r.Stores[i].Store), MaxIDBytes)
		}
	}
	if r.Reservation != nil && len(r.Reservation.Claim) > MaxKeyBytes {
		return tooLarge("claim bytes", len(r.Reservation.Claim), MaxKeyBytes)
	}
	if len(r.Items) > MaxListItems {
		return tooLarge("items", len(r.Items), MaxListItems)
	}
	if r.Store != nil {
		if err := checkStore(r.Store); err != nil {
			return err
		}
	}
	for i := range r.Items {
		if err := checkItem(&r.Items[i]); err != nil {
			return err
		}
	}
	return checkCoupon(r)
}

func resultMask(r *engine.Result) uint16 {
	var m uint16
	set := func(f int, nonzero bool) {
		if nonzero {
			m |= 1 << f
		}
	}
	set(rID, r.ID != 0)
	set(rState, r.State != 0)
	set(rQty, r.Qty != 0)
	set(rWindow, r.Window != 0)
	set(rExpiresAt, r.ExpiresAt != 0)
	set(rPickupCode, r.PickupCode != 0)
	set(rItem, r.Item != nil)
	set(rWindowInfo, r.WindowInfo != nil)
	set(rReservation, r.Reservation != nil)
	set(rCustomer, r.Customer != nil)
	set(rReservations, len(r.Reservations) != 0)
	set(rStores, len(r.Stores) != 0)
	set(rItems, len(r.Items) != 0)
	set(rClaim, r.Reservation != nil && r.Reservation.Claim != "")
	set(rStore, r.Store != nil)
	set(rExt, extMask(r) != 0)
	return m
}

func appendResult(dst []byte, r *engine.Result) []byte {
	m := resultMask(r)
	dst = appendU16(dst, uint16(r.Code))
	dst = appendU16(dst, m)
	has := func(f int) bool { return m&(1<<f) != 0 }
	if has(rID) {
		dst = appendU64(dst, r.ID)
	}
	if has(rState) {
		dst = appendU8(dst, uint8(r.State))
	}
	if has(rQty) {
		dst = appendI64(dst, r.Qty)
	}
	if has(rWindow) {
		dst = appendI64(dst, r.Window)
	}
	if has(rExpiresAt) {
		dst = appendI64(dst, r.ExpiresAt)
	}
	if has(rPickupCode) {
		dst = appendU64(dst, r.PickupCode)
	}
	if m>>rItem == 0 {
		return dst // the hot path ends here: no read data
	}
	if has(rItem) {
		dst = appendItem(dst, r.Item)
	}
	if has(rWindowInfo) {
		dst = appendWindow(dst, r.WindowInfo)
	}
	if has(rReservation) {
		dst = appendReservation(dst, r.Reservation)
	}
	if has(rCustomer) {
		dst = appendCustomer(dst, r.Customer)
	}
	if has(rReservations) {
		dst = appendCount(dst, len(r.Reservations), MaxListReservations, "reservations")
		for i := range r.Reservations {
			dst = appendReservation(dst, &r.Reservations[i])
		}
	}
	if has(rStores) {
		dst = appendCount(dst, len(r.Stores), MaxListStores, "stores")
		for i := range r.Stores {
			dst = appendStr8(dst, r.Stores[i].Store, MaxIDBytes, "store")
			dst = appendI64(dst, r.Stores[i].Available)
		}
	}
	if has(rItems) {
		dst = appendCount(dst, len(r.Items), MaxListItems, "items")
		for i := range r.Items {
			dst = appendItem(dst, &r.Items[i])
		}
	}
	if has(rClaim) {
		dst = appendStr8(dst, r.Reservation.Claim, MaxKeyBytes, "claim")
	}
	if has(rStore) {
		dst = appendStore(dst, r.Store)
	}
	if has(rExt) {
		dst = appendExt(dst, r)
	}
	return dst
}

// DecodeResult decodes a domain reply's payload into r, overwriting all of
// it. A reply without read data allocates nothing; read data (items, lists)
// is allocated, within a small multiple of the payload's length.
func DecodeResult(payload []byte, r *engine.Result) error {
	*r = engine.Result{}
	c := cursor{b: payload}
	r.Code = engine.Code(c.u16())
	m := c.u16()
	if c.err != nil {
		return c.err
	}
	if m&^resultMaskValid != 0 {
		return errReservedMask
	}
	has := func(f int) bool { return m&(1<<f) != 0 }
	if has(rID) {
		r.ID = c.u64()
		c.nonzero(r.ID != 0)
	}
	if has(rState) {
		r.State = engine.State(c.u8())
		c.nonzero(r.State != 0)
	}
	i64 := func(f int, v *int64) {
		if has(f) {
			*v = c.i64()
			c.nonzero(*v != 0)
		}
	}
	i64(rQty, &r.Qty)
	i64(rWindow, &r.Window)
	i64(rExpiresAt, &r.ExpiresAt)
	if has(rPickupCode) {
		r.PickupCode = c.u64()
		c.nonzero(r.PickupCode != 0)
	}
	if m>>rItem != 0 {
		decodeReadData(&c, m, r)
	}
	return c.end()
}

// decodeReadData reads the optional read parts of a reply (bits rItem up).
func decodeReadData(c *cursor, m uint16, r *engine.Result) {
	has := func(f int) bool { return m&(1<<f) != 0 }
	if has(rItem) {
		r.Item = new(engine.ItemInfo)
		decodeItem(c, r.Item)
	}
	if has(rWindowInfo) {
		r.WindowInfo = new(engine.WindowInfo)
		decodeWindow(c, r.WindowInfo)
	}
	if has(rReservation) {
		r.Reservation = new(engine.ReservationInfo)
		decodeReservation(c, r.Reservation)
	}
	if has(rCustomer) {
		r.Customer = new(engine.CustomerInfo)
		decodeCustomer(c, r.Customer)
	}
	if has(rReservations) {
		n := c.count(MaxListReservations, minReservationBytes, "reservations")
		if n == 0 {
			c.fail(errEmptyList)
			return
		}
		r.Reservations = make([]engine.ReservationInfo, n)
		for i := range r.Reservations {
			decodeReservation(c, &r.Reservations[i])
		}
	}
	if has(rStores) {
		n := c.count(MaxListStores, minStoreStockBytes, "stores")
		if n == 0 {
			c.fail(errEmptyList)
			return
		}
		r.Stores = make([]engine.StoreStock, n)
		for i := range r.Stores {
			r.Stores[i].Store = string(c.str8(MaxIDBytes, "store bytes"))
			r.Stores[i].Available = c.i64()
		}
	}
	if has(rItems) {
		n := c.count(MaxListItems, minItemBytes, "items")
		if n == 0 {
			c.fail(errEmptyList)
			return
		}
		r.Items = make([]engine.ItemInfo, n)
		for i := range r.Items {
			decodeItem(c, &r.Items[i])
		}
	}
	if has(rClaim) {
		claim := c.str8(MaxKeyBytes, "claim bytes")
		c.nonzero(len(claim) != 0)
		if r.Reservation == nil {
			c.fail(malformed("a claim without its reservation"))
			return
		}
		r.Reservation.Claim = string(claim)
	}
	if has(rStore) {
		r.Store = new(engine.StoreInfo)
		decodeStore(c, r.Store)
	}
	if has(rExt) {
		decodeExt(c, r)
	}
}
