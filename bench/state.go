package bench

import "strconv"

// State is a target's state after a run, as Target.Dump reads it: the input
// of the invariant check. Its types are bench's own rather than engine's so
// that a peer-like target or a test can build one without an engine; an
// adapter fills them from engine.ItemInfo and engine.ReservationInfo field by
// field (HoldState has engine.State's numbers, so a conversion is enough).
type State struct {
	Items []ItemState
	Holds []HoldInfo

	// Owned counts the units each customer holds, has confirmed or picked up
	// of one SKU, across stores, as the target counts them. Nil means the
	// target has no such counter: the check derives it from Holds.
	Owned map[CustomerSKU]int64

	// AllHolds says Holds lists every reservation the target has, not only
	// the acknowledged ones Dump was asked for. Only then can the check name
	// active holds the driver was never told about one by one; the per-item
	// counts catch them in either case.
	AllHolds bool
}

// ItemState is one item's counters.
type ItemState struct {
	SKU, Store string
	Stock      int64
	Held       int64 // units in HELD reservations
	Confirmed  int64
	PickedUp   int64
	Windows    []WindowState
}

// Active returns the units the item has promised: held, confirmed or picked up.
func (it *ItemState) Active() int64 { return it.Held + it.Confirmed + it.PickedUp }

// WindowState is one pickup window's counters.
type WindowState struct {
	Start int64 // Unix ns, as WindowStart gives it
	Quota int64
	Used  int64 // units held, confirmed or picked up in the window
}

// HoldInfo is one reservation.
type HoldInfo struct {
	ID         uint64
	SKU, Store string
	Customer   string
	Window     int64 // start, 0 = none
	Qty        int64
	State      HoldState
}

// CustomerSKU keys the per-customer limit: a customer's units of one SKU
// across all stores.
type CustomerSKU struct{ Customer, SKU string }

// HoldState is a reservation's state. Values are engine.State's.
type HoldState uint8

const (
	HoldHeld      HoldState = 1
	HoldConfirmed HoldState = 2
	HoldPickedUp  HoldState = 3
	HoldCancelled HoldState = 4
	HoldExpired   HoldState = 5
	HoldNoShow    HoldState = 6
	HoldReturned  HoldState = 7
)

var holdStateNames = [...]string{"none", "held", "confirmed", "picked_up", "cancelled", "expired", "no_show", "returned"}

func (s HoldState) String() string {
	if int(s) < len(holdStateNames) {
		return holdStateNames[s]
	}
	return "state_" + strconv.Itoa(int(s))
}

// Active reports whether a reservation in state s still takes units of its item.
func (s HoldState) Active() bool { return s == HoldHeld || s == HoldConfirmed || s == HoldPickedUp }
