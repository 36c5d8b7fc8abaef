package client

import (
	"time"

	"github.com/invsys/inv/engine"
)

// Requests and results of the domain operations. Ids (SKU, store, customer)
// are strings of 1–64 bytes (barcodes, store codes, member ids); times are
// time.Time (the wire's Unix nanoseconds), and the zero time means "none"
// everywhere: no window, no sale window bound, no cutoff. Key is the
// idempotency key of a mutating call: leave it empty and the client makes
// one up for the call and all its retries; set it (Client.NewKey, or an id
// of your own of at most 64 bytes) to make a call safe to repeat across
// restarts of your own process.

// ReserveRequest holds Qty units of an item (SKU at Store) for Customer.
type ReserveRequest struct {
	SKU, Store, Customer string
	Qty                  int64         // units; 0 means 1
	Window               time.Time     // pickup window (its start); zero = none
	TTL                  time.Duration // hold time; 0 = the server's default (10 min)
	Key                  string
}

// CartRequest reserves several lines for one customer at one store, all or
// nothing (ReserveMany).
type CartRequest struct {
	Store, Customer string
	Lines           []CartLine    // 1..64
	TTL             time.Duration // hold time of every line; 0 = the server's default
	Key             string        // the cart's key; each line's key derives from it
}

// CartLine is one line of a cart.
type CartLine struct {
	SKU    string
	Store  string    // "" = the cart's Store; another store makes a cart across stores
	Qty    int64     // 0 means 1
	Window time.Time // zero = none
}

// ConfirmRequest confirms a hold after payment. Qty 0 confirms every held
// unit; fewer releases the rest.
type ConfirmRequest struct {
	ID  uint64
	Qty int64
	Key string
}

// ExtendRequest keeps a hold until at least TTL from now: the hold's expiry
// becomes max(its expiry, now+TTL), never earlier, and never past the
// server's maximum hold counted from the reservation's creation (a hold
// with a claim, docs/adr/0050, also ends before its claim). Extending by
// 10m twice in a row gives 10m from the second call, not 20m.
type ExtendRequest struct {
	ID  uint64
	TTL time.Duration
	Key string
}

// CancelRequest releases a reservation's units at once.
type CancelRequest struct {
	ID  uint64
	Key string
}

// PickupRequest hands an order over at Store. With ID 0 the order is found
// by its pickup Code alone (a kiosk that scans only the code).
type PickupRequest struct {
	ID    uint64
	Store string
	Code  uint64 // the 12-digit pickup code
	Key   string
}

// RescheduleRequest moves a reservation to another pickup window.
type RescheduleRequest struct {
	ID     uint64
	Window time.Time
	Key    string
}

// ReturnRequest takes back a picked-up order; Restock puts its units back.
type ReturnRequest struct {
	ID      uint64
	Restock bool
	Key     string
}

// UnlockRequest lifts the lock that wrong pickup codes put on a reservation.
type UnlockRequest struct {
	ID  uint64
	Key string
}

// Result is a reservation as a mutating call left it.
type Result struct {
	ID        uint64
	State     State
	Qty       int64
	Window    time.Time // zero = no window
	ExpiresAt time.Time // hold expiry (held) or pickup deadline (confirmed)
	// PickupCode, once confirmed: in Confirm's result always (a retry with
	// the same key gets it again); in the results of other calls only on
	// an operator token (docs/SECURITY.md, "Who sees pickup codes").
	PickupCode uint64
	// UnderReview: the reserve's hold was held back by the item's mark rule
	// (docs/adr/0107): Confirm answers ErrUnderReview until a store or an
	// operator calls ReleaseReview. A replay answers the review as it
	// stands now.
	UnderReview bool
}

// PickupCodeString renders the pickup code as its 12 digits.
func (r Result) PickupCodeString() string { return engine.FormatPickupCode(r.PickupCode) }

// Barcode is the barcode-ready form of the pickup (the reservation's id
// and its code, as a store's scanner reads them), or "" without a code.
func (r Result) Barcode() string {
	if r.PickupCode == 0 {
		return ""
	}
	return engine.PickupBarcode(r.ID, r.PickupCode)
}

// Operator requests.

// ItemSpec creates or replaces an item (PutItem). The per-customer limit
// is the SKU's, the same at every store: SetLimit sets it.
type ItemSpec struct {
	SKU, Store   string
	Stock        int64
	OpensAt      time.Time // sale window; zero = open since forever
	ClosesAt     time.Time // zero = never closes
	MemberTier   uint8     // customers of this tier or higher may take the member share
	MemberUnits  int64     // units kept for members until MemberCutoff
	MemberCutoff time.Time
	Key          string
}

// WindowSpec creates or changes an item's pickup window [Start, End) with
// the item's own quota. A window of the item's store with the same start
// (StoreWindowSpec) bounds every SKU of the store together; the two
// coincide or do not overlap.
type WindowSpec struct {
	SKU, Store string
	Start, End time.Time
	Quota      int64
	Key        string
}

// StockChange adds Qty units (Restock: > 0) or a signed delta (AdjustStock).
type StockChange struct {
	SKU, Store string
	Qty        int64
	Reason     string // why, kept in the change's event (at most protocol.MaxReasonBytes)
	Key        string
}

// SaleWindow sets an item's sale window [OpensAt, ClosesAt); zero = unbounded.
type SaleWindow struct {
	SKU, Store        string
	OpensAt, ClosesAt time.Time
	Key               string
}

// LimitSpec sets the per-customer limit of a SKU, the same at every store;
// 0 = none. Every shard keeps it (SetLimit reaches them all).
type LimitSpec struct {
	SKU   string
	Limit int64
	Key   string
}

// StoreSpec sets a store's time zone, an IANA name (Asia/Taipei). Reads of
// the store give its windows in that zone.
type StoreSpec struct {
	Store string
	Zone  string
	Key   string
}

// StoreWindowSpec creates or changes a pickup window [Start, End) of a
// store, with a Capacity: the units of every SKU of the store that may be
// held, confirmed or picked up in it (the counter's and shelf's room).
type StoreWindowSpec struct {
	Store      string
	Start, End time.Time
	Capacity   int64
	Key        string
}

// MemberShare keeps Units of an item for customers of Tier or higher until Cutoff.
type MemberShare struct {
	SKU, Store string
	Tier       uint8
	Units      int64
	Cutoff     time.Time
	Key        string
}

// CustomerRequest names a customer (Block, Unblock).
type CustomerRequest struct {
	Customer string
	Key      string
}

// TierRequest sets a customer's tier (0 regular, 1 member, 2 loyal ... 15).
type TierRequest struct {
	Customer string
	Tier     uint8
	Key      string
}

// Reads.

// Item is a read of one item (one SKU at one store).
type Item struct {
	SKU, Store   string
	Stock        int64
	Held         int64
	Confirmed    int64
	PickedUp     int64
	Available    int64 // Stock - Held - Confirmed - PickedUp
	Limit        int64 // the SKU's per-customer limit (the same at every store); 0 = none
	OpensAt      time.Time
	ClosesAt     time.Time
	MemberTier   uint8
	MemberUnits  int64
	MemberUsed   int64
	MemberCutoff time.Time
	Windows      []Window
	// Location is the zone the times are in: nil for GetItem's (UTC, as the
	// wire gives them); the store's for GetItemLocal and In.
	Location *time.Location
}

// In returns the item with every time (sale window, member cutoff, pickup
// windows) in loc, and Location set: a storefront prints a store's times in
// the store's zone, as StoreDay does. The windows are copied.
func (it Item) In(loc *time.Location) Item {
	if loc == nil {
		loc = time.UTC
	}
	in := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.In(loc)
	}
	it.OpensAt, it.ClosesAt, it.MemberCutoff = in(it.OpensAt), in(it.ClosesAt), in(it.MemberCutoff)
	ws := make([]Window, len(it.Windows))
	for i, w := range it.Windows {
		ws[i] = Window{Start: in(w.Start), End: in(w.End), Quota: w.Quota, Used: w.Used}
	}
	if it.Windows == nil {
		ws = nil
	}
	it.Windows, it.Location = ws, loc
	return it
}

// Window is a read of one pickup window.
type Window struct {
	Start, End time.Time
	Quota      int64
	Used       int64 // held + confirmed + picked up in the window
}

// Store is a read of one store: its time zone and its pickup windows,
// whose times are in the store's zone (Location; UTC when the store has no
// zone, or one this host's zone database does not know).
type Store struct {
	Store    string
	Zone     string // IANA name; "" = none set
	Location *time.Location
	Windows  []StoreWindow
}

// StoreWindow is a read of one pickup window of a store.
type StoreWindow struct {
	Start, End time.Time // in the store's zone
	Capacity   int64     // units across every SKU of the store
	Used       int64     // held + confirmed + picked up in the window
}

// Reservation is a read of one reservation.
type Reservation struct {
	ID                   uint64
	SKU, Store, Customer string
	Qty                  int64
	Window               time.Time
	State                State
	CreatedAt            time.Time
	ExpiresAt            time.Time // hold expiry or pickup deadline
	UpdatedAt            time.Time
	PickupCode           uint64 // once confirmed, and only on an operator token: 0 for the other roles
	Attempts             int64  // wrong pickup codes so far
	Locked               bool
	// Location is the zone the times are in: nil for GetReservation's
	// (UTC, as the wire gives them); the store's for GetReservationLocal
	// and In.
	Location *time.Location
}

// In returns the reservation with its times (pickup window, created,
// expiry, last change) in loc, and Location set, so a receipt or a
// counter prints the pickup window in the store's own time.
func (r Reservation) In(loc *time.Location) Reservation {
	if loc == nil {
		loc = time.UTC
	}
	in := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.In(loc)
	}
	r.Window, r.CreatedAt, r.ExpiresAt, r.UpdatedAt = in(r.Window), in(r.CreatedAt), in(r.ExpiresAt), in(r.UpdatedAt)
	r.Location = loc
	return r
}

// PickupCodeString renders the pickup code as its 12 digits ("" without
// a code).
func (r *Reservation) PickupCodeString() string {
	if r.PickupCode == 0 {
		return ""
	}
	return engine.FormatPickupCode(r.PickupCode)
}

// Barcode is the barcode-ready form of a confirmed reservation's pickup
// (its id and code, as a store's scanner reads them), or "" before it is
// confirmed.
func (r *Reservation) Barcode() string {
	if r.PickupCode == 0 {
		return ""
	}
	return engine.PickupBarcode(r.ID, r.PickupCode)
}

// Customer is a read of one customer.
type Customer struct {
	ID          string
	Tier        uint8
	Blocked     bool
	AutoBlocked bool  // blocked by the no-show rule
	NoShows     int64 // within the configured period
	Open        int64 // reservations held or confirmed
}

// StoreStock is one store where a SKU is available.
type StoreStock struct {
	Store     string
	Available int64
}

// Conversions between the wire's Unix nanoseconds and time.Time. Zero is
// "none" on the wire, and the zero time.Time is "none" here; time.Time's
// own zero is not Unix 0, hence the explicit mapping.

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func resultOf(r *engine.Result) Result {
	return Result{ID: r.ID, State: r.State, Qty: r.Qty, Window: fromNanos(r.Window),
		ExpiresAt: fromNanos(r.ExpiresAt), PickupCode: r.PickupCode, UnderReview: r.UnderReview}
}

func itemOf(it *engine.ItemInfo) Item {
	out := Item{SKU: it.SKU, Store: it.Store, Stock: it.Stock, Held: it.Held,
		Confirmed: it.Confirmed, PickedUp: it.PickedUp, Available: it.Available,
		Limit: it.Limit, OpensAt: fromNanos(it.OpensAt), ClosesAt: fromNanos(it.ClosesAt),
		MemberTier: it.MemberTier, MemberUnits: it.MemberUnits, MemberUsed: it.MemberUsed,
		MemberCutoff: fromNanos(it.MemberCutoff)}
	if len(it.Windows) > 0 {
		out.Windows = make([]Window, len(it.Windows))
		for i := range it.Windows {
			out.Windows[i] = windowOf(&it.Windows[i])
		}
	}
	return out
}

func windowOf(w *engine.WindowInfo) Window {
	return Window{Start: fromNanos(w.Start), End: fromNanos(w.End), Quota: w.Quota, Used: w.Used}
}

func reservationOf(r *engine.ReservationInfo) Reservation {
	return Reservation{ID: r.ID, SKU: r.SKU, Store: r.Store, Customer: r.Customer, Qty: r.Qty,
		Window: fromNanos(r.Window), State: r.State, CreatedAt: fromNanos(r.CreatedAt),
		ExpiresAt: fromNanos(r.ExpiresAt), UpdatedAt: fromNanos(r.UpdatedAt),
		PickupCode: r.PickupCode, Attempts: r.Attempts, Locked: r.Locked}
}

func customerOf(c *engine.CustomerInfo) Customer {
	return Customer{ID: c.ID, Tier: c.Tier, Blocked: c.Blocked, AutoBlocked: c.AutoBlocked,
		NoShows: c.NoShows, Open: c.Open}
}

// storeOf converts a store read, its windows into the store's zone.
func storeOf(st *engine.StoreInfo) Store {
	out := Store{Store: st.Store, Zone: st.Zone, Location: time.UTC}
	if st.Zone != "" {
		if loc, err := time.LoadLocation(st.Zone); err == nil {
			out.Location = loc
		}
	}
	for _, w := range st.Windows {
		out.Windows = append(out.Windows, StoreWindow{Start: fromNanos(w.Start).In(out.Location),
			End: fromNanos(w.End).In(out.Location), Capacity: w.Quota, Used: w.Used})
	}
	return out
}
