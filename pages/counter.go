package pages

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/invsys/inv/engine"
)

// The counter: a clerk scans (or types) a pickup code; check says what it
// names, or why it may not be handed over, before anything changes
// (docs/adr/0092); pickup hands it over; today lists the store's windows.

// scanRequest is the body of check and pickup.
type scanRequest struct {
	Store string `json:"store"`
	Code  string `json:"code"`          // the 12 digits, or the barcode form
	Key   string `json:"key,omitempty"` // pickup: an idempotency key, so that a double press hands over once
}

// Outcomes of the counter's answers.
const (
	outcomeReady     = "ready"      // check: the order may be handed over
	outcomePickedUp  = "picked_up"  // pickup: handed over
	outcomeRefused   = "refused"    // Reason says why
	outcomeNotListed = "not_listed" // check of a code alone that the book does not know: pickup decides
)

// counterAnswer is what check and pickup answer (HTTP 200: a refusal is an
// answer for the clerk, not a failed request).
type counterAnswer struct {
	Outcome string     `json:"outcome"`
	Reason  string     `json:"reason,omitempty"` // wrong_store, locked, expired, bad_code, too_early, collected, not_found, wrong_state, rate_limited
	Order   *orderView `json:"order,omitempty"`
	// From is when a too_early order may be collected (its window's start).
	From *time.Time `json:"from,omitempty"`
	// Zone is the store's time zone: the page prints times in it.
	Zone string `json:"zone,omitempty"`
}

// orderView is an order as the counter shows it: no code, and the
// customer masked.
type orderView struct {
	ID          string     `json:"id"` // decimal: ids use all 64 bits, more than a JavaScript number holds
	SKU         string     `json:"sku"`
	Qty         int64      `json:"qty"`
	Customer    string     `json:"customer"`
	Store       string     `json:"store"`
	WindowStart *time.Time `json:"window_start,omitempty"`
	WindowEnd   *time.Time `json:"window_end,omitempty"`
	Deadline    *time.Time `json:"deadline,omitempty"`     // collect before this
	CollectedAt *time.Time `json:"collected_at,omitempty"` // once handed over
}

// readScan decodes and checks a check or pickup request and spends a
// pickup attempt; false when it answered already.
func (h *Handler) readScan(w http.ResponseWriter, r *http.Request, a *Access) (scanRequest, Scan, bool) {
	var req scanRequest
	if !readJSON(w, r, &req) {
		return req, Scan{}, false
	}
	if !validStore(req.Store) {
		writeError(w, http.StatusBadRequest, "bad_request", "name the store: 1 to 64 bytes")
		return req, Scan{}, false
	}
	if len(req.Key) > engine.MaxKeyBytes {
		writeError(w, http.StatusBadRequest, "bad_request", "the key is over 64 bytes")
		return req, Scan{}, false
	}
	if !a.serves(req.Store) {
		writeError(w, http.StatusForbidden, "unauthorized", "this sign-in is not for store "+req.Store)
		return req, Scan{}, false
	}
	sc, err := ParseScan(req.Code)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return req, Scan{}, false
	}
	if !h.be.AllowPickup(a.Caller, req.Store) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusOK, counterAnswer{Outcome: outcomeRefused, Reason: "rate_limited"})
		return req, Scan{}, false
	}
	return req, sc, true
}

// check answers what a scanned code names, changing nothing unless the
// code is wrong (a wrong code counts, as at the engine's own pickup).
func (h *Handler) check(w http.ResponseWriter, r *http.Request, a *Access) {
	req, sc, ok := h.readScan(w, r, a)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	ans, err := h.inspect(ctx, req.Store, sc)
	if err != nil {
		h.unavailable(w, "counter check", err)
		return
	}
	h.log.Debug("counter check", "store", req.Store, "outcome", ans.Outcome, "reason", ans.Reason, "caller", a.Role)
	writeJSON(w, http.StatusOK, ans)
}

// inspect decides a check in the engine's own order for a pickup by id:
// the order's state, its store, its lock, its window, then the code. A code
// alone is looked up in the book, at this store only, as the engine looks
// it up.
func (h *Handler) inspect(ctx context.Context, store string, sc Scan) (counterAnswer, error) {
	id := sc.ID
	if id == 0 {
		found, complete := h.book.Lookup(store, sc.Code)
		switch {
		case found != 0:
			id = found
		case complete && h.holdsEveryShard():
			return refused("bad_code"), nil
		default:
			return counterAnswer{Outcome: outcomeNotListed}, nil
		}
	}
	res, err := h.be.Do(ctx, &engine.Command{Op: engine.OpGetReservation, ID: id})
	if err != nil {
		return counterAnswer{}, err
	}
	if res.Code != engine.OK || res.Reservation == nil {
		if sc.ID == 0 {
			return refused("bad_code"), nil // the book's order is gone: the code names nothing now
		}
		return refused(codeName(res.Code)), nil
	}
	ri := res.Reservation
	zone := h.zoneOf(ri.Store)
	switch ri.State {
	case engine.StateConfirmed:
	case engine.StatePickedUp, engine.StateReturned:
		if ri.Store == store && ri.PickupCode == sc.Code {
			ans := refused("collected")
			ans.Order, ans.Zone = h.view(ri), zone
			return ans, nil
		}
		return refused("wrong_state"), nil
	case engine.StateExpired, engine.StateNoShow:
		return refused("expired"), nil
	default:
		return refused("wrong_state"), nil
	}
	switch {
	case ri.Store != store:
		return refused("wrong_store"), nil
	case ri.Locked:
		return refused("locked"), nil
	case ri.Window != 0 && h.now().UnixNano() < ri.Window:
		ans := refused("too_early")
		from := time.Unix(0, ri.Window).UTC()
		ans.From, ans.Zone = &from, zone
		return ans, nil
	case ri.PickupCode != sc.Code:
		// A wrong code counts against the order, as it would at the
		// handover: the engine's pickup with it refuses and counts.
		pr, err := h.be.Do(ctx, &engine.Command{Op: engine.OpPickup, ID: id, Store: []byte(store), PickupCode: sc.Code})
		if err != nil {
			return counterAnswer{}, err
		}
		return refused(codeName(pr.Code)), nil
	}
	return counterAnswer{Outcome: outcomeReady, Order: h.view(ri), Zone: zone}, nil
}

// pickup hands the order over: the engine's pickup, by the order the check
// showed when the book knows the code.
func (h *Handler) pickup(w http.ResponseWriter, r *http.Request, a *Access) {
	req, sc, ok := h.readScan(w, r, a)
	if !ok {
		return
	}
	cmd := engine.Command{Op: engine.OpPickup, ID: sc.ID, Store: []byte(req.Store), PickupCode: sc.Code, Key: []byte(req.Key)}
	if cmd.ID == 0 {
		cmd.ID, _ = h.book.Lookup(req.Store, sc.Code)
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	res, err := h.be.Do(ctx, &cmd)
	if err != nil {
		h.unavailable(w, "counter pickup", err)
		return
	}
	if res.Code != engine.OK {
		ans := refused(codeName(res.Code))
		if res.Code == engine.CodeTooEarly && res.Window != 0 {
			from := time.Unix(0, res.Window).UTC()
			ans.From = &from
		}
		h.log.Info("counter pickup refused", "store", req.Store, "reason", ans.Reason, "caller", a.Role)
		writeJSON(w, http.StatusOK, ans)
		return
	}
	h.log.Info("counter pickup", "store", req.Store, "reservation", res.ID, "units", res.Qty, "caller", a.Role)
	ans := counterAnswer{Outcome: outcomePickedUp, Zone: h.zoneOf(req.Store)}
	// The handover is done; the order's details are for the clerk's screen.
	if got, err := h.be.Do(ctx, &engine.Command{Op: engine.OpGetReservation, ID: res.ID}); err == nil && got.Reservation != nil {
		ans.Order = h.view(got.Reservation)
	} else {
		ans.Order = &orderView{ID: strconv.FormatUint(res.ID, 10), Qty: res.Qty, Store: req.Store}
	}
	writeJSON(w, http.StatusOK, ans)
}

// holdsEveryShard reports whether this node replicates every shard, so
// that its book can have seen every order (a node of a cluster may hold a
// subset of the shards).
func (h *Handler) holdsEveryShard() bool {
	for _, sh := range h.shards {
		if !sh.IsMember() {
			return false
		}
	}
	return true
}

func refused(reason string) counterAnswer {
	return counterAnswer{Outcome: outcomeRefused, Reason: reason}
}

// codeName names a refusal for the page. A pickup refused for a reason the
// counter has no words for is wrong_state (it may not be handed over).
func codeName(c engine.Code) string {
	switch c {
	case engine.CodeWrongStore, engine.CodeLocked, engine.CodeExpired, engine.CodeBadCode, engine.CodeTooEarly,
		engine.CodeNotFound, engine.CodeRateLimited, engine.CodeWrongState:
		return c.String()
	case engine.CodeBusy, engine.CodeUnavailable, engine.CodeTimeout, engine.CodeNotLeader:
		return "unavailable"
	}
	return "wrong_state"
}

// view renders an order for the clerk.
func (h *Handler) view(ri *engine.ReservationInfo) *orderView {
	v := &orderView{ID: strconv.FormatUint(ri.ID, 10), SKU: ri.SKU, Qty: ri.Qty, Customer: MaskCustomer(ri.Customer),
		Store: ri.Store}
	if ri.Window != 0 {
		start := time.Unix(0, ri.Window).UTC()
		v.WindowStart = &start
		if st, ok := h.book.Store(ri.Store, 0, 0); ok {
			for _, w := range st.Windows {
				if w.Start == ri.Window && w.End != 0 {
					end := time.Unix(0, w.End).UTC()
					v.WindowEnd = &end
				}
			}
		}
	}
	switch ri.State {
	case engine.StateConfirmed:
		if ri.ExpiresAt != 0 {
			d := time.Unix(0, ri.ExpiresAt).UTC()
			v.Deadline = &d
		}
	case engine.StatePickedUp, engine.StateReturned:
		at := time.Unix(0, ri.UpdatedAt).UTC()
		v.CollectedAt = &at
	}
	return v
}

// zoneOf returns a store's time zone as the book last read it ("" = UTC).
func (h *Handler) zoneOf(store string) string {
	st, _ := h.book.Store(store, 0, 0)
	return st.Zone
}

// todayAnswer is a store's day at the counter.
type todayAnswer struct {
	Store   string       `json:"store"`
	Zone    string       `json:"zone"`
	Date    string       `json:"date"` // today in the store's zone, YYYY-MM-DD
	Now     time.Time    `json:"now"`
	Windows []dayWindow  `json:"windows"`
	Total   WindowCounts `json:"total"`
	Overdue int64        `json:"overdue"` // orders still due in windows that have ended
}

// dayWindow is one of today's windows (Start nil: orders without a window).
type dayWindow struct {
	Start    *time.Time `json:"start,omitempty"`
	End      *time.Time `json:"end,omitempty"`
	Capacity int64      `json:"capacity"`
	Used     int64      `json:"used"`
	WindowCounts
	Overdue int64 `json:"overdue"` // Due, once the window has ended
}

// today answers a store's windows of today (in its zone) with what is due,
// collected and overdue in each.
func (h *Handler) today(w http.ResponseWriter, r *http.Request, a *Access) {
	store := r.URL.Query().Get("store")
	if !validStore(store) {
		writeError(w, http.StatusBadRequest, "bad_request", "name the store: ?store=ID")
		return
	}
	if !a.serves(store) {
		writeError(w, http.StatusForbidden, "unauthorized", "this sign-in is not for store "+store)
		return
	}
	now := h.now()
	zone := h.zoneOf(store)
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	local := now.In(loc)
	dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	dayEnd := dayStart.AddDate(0, 0, 1)
	st, _ := h.book.Store(store, dayStart.UnixNano(), dayEnd.UnixNano())
	ans := todayAnswer{Store: store, Zone: zone, Date: dayStart.Format("2006-01-02"), Now: now.UTC(), Windows: []dayWindow{}}
	for _, win := range st.Windows {
		d := dayWindow{Capacity: win.Capacity, Used: win.Used, WindowCounts: win.WindowCounts}
		if win.Start != 0 {
			s, e := time.Unix(0, win.Start).UTC(), time.Unix(0, win.End).UTC()
			d.Start, d.End = &s, &e
			if win.End <= now.UnixNano() {
				d.Overdue = win.Due
			}
		}
		ans.Total.Due += d.Due
		ans.Total.DueUnits += d.DueUnits
		ans.Total.Collected += d.Collected
		ans.Total.CollectedUnits += d.CollectedUnits
		ans.Total.NoShow += d.NoShow
		ans.Overdue += d.Overdue
		ans.Windows = append(ans.Windows, d)
	}
	writeJSON(w, http.StatusOK, ans)
}
