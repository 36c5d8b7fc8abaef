package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/invsys/inv/client"
)

// shop serves the storefront's JSON API on one shared client.
type shop struct {
	inv      *client.Client
	log      *slog.Logger
	codes    codeBook
	promoted promotions // holds inv made for the heads of waitlists (screening.go)
	products []product  // what the page offers (page.go)
}

// codeBook keeps the pickup codes this shop was given by confirm. inv
// hands a storefront token a code only in the confirm reply that issued it
// (its reads leave codes out: docs/adr/0056), so a shop that shows the code
// again keeps it, as a real one keeps it with the order in its database.
// This one keeps it in memory, at most codeBookMax of them: an order shown
// after a restart, or after its code was dropped, has no code to show (the
// shopper has it from the confirm page or the notification).
type codeBook struct {
	mu sync.Mutex
	m  map[uint64]uint64
}

const codeBookMax = 100_000

func (b *codeBook) put(id, code uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = make(map[uint64]uint64)
	}
	if len(b.m) >= codeBookMax {
		for k := range b.m { // any one: the map is a cache, not the record
			delete(b.m, k)
			break
		}
	}
	b.m[id] = code
}

func (b *codeBook) get(id uint64) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[id]
}

// withCode fills in a reservation's pickup code from the book when the read
// left it out.
func (b *codeBook) withCode(r *client.Reservation) *client.Reservation {
	if r.PickupCode == 0 {
		r.PickupCode = b.get(r.ID)
	}
	return r
}

// callTimeout bounds each HTTP request's calls to inv: past it the shopper
// gets 503 and may retry with the same Idempotency-Key.
const callTimeout = 5 * time.Second

// maxBodyBytes bounds request bodies: an order or a cart is a few hundred bytes.
const maxBodyBytes = 64 << 10

func newShop(c *client.Client, log *slog.Logger, products ...product) http.Handler {
	s := &shop{inv: c, log: log, products: products}
	mux := http.NewServeMux()
	s.mountPage(mux)
	mux.HandleFunc("GET /stores", s.stores)
	mux.HandleFunc("GET /items/{sku}/{store}", s.item)
	mux.HandleFunc("POST /orders", s.reserve)
	mux.HandleFunc("POST /carts", s.reserveCart)
	mux.HandleFunc("GET /orders/{id}", s.order)
	mux.HandleFunc("POST /orders/{id}/confirm", s.confirm)
	mux.HandleFunc("DELETE /orders/{id}", s.cancel)
	mux.HandleFunc("GET /customers/{customer}/orders", s.orders)
	mux.HandleFunc("POST /coupons", s.takeCoupon)     // coupons.go
	mux.HandleFunc("GET /coupons/{serial}", s.coupon) // coupons.go
	mux.HandleFunc("POST /waitlist", s.joinWaitlist)
	mux.HandleFunc("GET /waitlist/{sku}/{store}/{customer}", s.waitlistPlace)
	s.followPromotions(context.Background()) // until the client closes
	return mux
}

// The JSON shapes. Ids are strings: reservation ids use all 64 bits, more
// than a JavaScript number holds exactly.

type storeJSON struct {
	Store     string `json:"store"`
	Available int64  `json:"available"`
}

type windowJSON struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Available int64     `json:"available"`
}

type itemJSON struct {
	SKU       string       `json:"sku"`
	Store     string       `json:"store"`
	Zone      string       `json:"zone,omitempty"` // the store's time zone: the windows' times are in it
	Available int64        `json:"available"`
	Limit     int64        `json:"limit,omitempty"`
	Windows   []windowJSON `json:"windows,omitempty"`
}

type orderRequest struct {
	SKU         string     `json:"sku"`
	Store       string     `json:"store"`
	Customer    string     `json:"customer"`
	Qty         int64      `json:"qty"`
	Window      *time.Time `json:"window,omitempty"`       // a pickup window's start
	HoldSeconds int64      `json:"hold_seconds,omitempty"` // how long to hold while paying; 0 = the engine's default
	Device      string     `json:"device,omitempty"`       // the browser's device id: inv sees only its hash (screening.go)
}

type cartRequest struct {
	Store    string `json:"store"`
	Customer string `json:"customer"`
	Lines    []struct {
		SKU    string     `json:"sku"`
		Qty    int64      `json:"qty"`
		Window *time.Time `json:"window,omitempty"`
	} `json:"lines"`
}

type orderJSON struct {
	ID             string     `json:"id"`
	SKU            string     `json:"sku,omitempty"`
	Store          string     `json:"store,omitempty"`
	Customer       string     `json:"customer,omitempty"`
	Qty            int64      `json:"qty"`
	State          string     `json:"state"`
	Window         *time.Time `json:"window,omitempty"`
	HeldUntil      *time.Time `json:"held_until,omitempty"`      // while held: pay before this
	PickupDeadline *time.Time `json:"pickup_deadline,omitempty"` // once confirmed: collect before this
	PickupCode     string     `json:"pickup_code,omitempty"`     // 12 digits, for the counter
	Barcode        string     `json:"barcode,omitempty"`         // the same, scannable
	Marks          string     `json:"marks,omitempty"`           // screening marks, comma separated (docs/adr/0104)
	UnderReview    bool       `json:"under_review,omitempty"`    // held back: confirm answers 409 under_review until staff release it
}

// GET /stores?sku=… : the stores that have the SKU available.
func (s *shop) stores(w http.ResponseWriter, r *http.Request) {
	sku := r.URL.Query().Get("sku")
	if sku == "" {
		writeError(w, http.StatusUnprocessableEntity, "bad_request", "the sku parameter is required")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	list, err := s.inv.StoresWithStock(ctx, sku)
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]storeJSON, len(list))
	for i, st := range list {
		out[i] = storeJSON{Store: st.Store, Available: st.Available}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sku": sku, "stores": out})
}

// GET /items/{sku}/{store} : availability and the pickup windows to choose
// from, in the store's time zone. A window offers what the item's own
// quota, the store's capacity across its SKUs (the store's window of the
// same start) and the stock all leave.
func (s *shop) item(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	it, err := s.inv.GetItem(ctx, r.PathValue("sku"), r.PathValue("store"))
	if err != nil {
		s.fail(w, err)
		return
	}
	st, err := s.inv.GetStore(ctx, it.Store)
	if err != nil && !errors.Is(err, client.ErrNotFound) {
		s.fail(w, err)
		return
	}
	loc := st.Location
	if loc == nil {
		loc = time.UTC
	}
	out := itemJSON{SKU: it.SKU, Store: it.Store, Zone: st.Zone, Available: it.Available, Limit: it.Limit}
	for _, win := range it.Windows {
		if !win.End.After(time.Now()) {
			continue
		}
		left := min(win.Quota-win.Used, it.Available)
		for _, sw := range st.Windows {
			if sw.Start.Equal(win.Start) {
				left = min(left, sw.Capacity-sw.Used)
			}
		}
		out.Windows = append(out.Windows, windowJSON{Start: win.Start.In(loc), End: win.End.In(loc), Available: max(left, 0)})
	}
	writeJSON(w, http.StatusOK, out)
}

// POST /orders : hold units while the shopper pays. Idempotency-Key makes
// a repeated POST (a double click, a retry after a timeout) return the
// same order instead of a second one.
func (s *shop) reserve(w http.ResponseWriter, r *http.Request) {
	var req orderRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.HoldSeconds < 0 {
		writeError(w, http.StatusUnprocessableEntity, "bad_request", "hold_seconds must not be negative")
		return
	}
	rr := client.ReserveRequest{SKU: req.SKU, Store: req.Store, Customer: req.Customer, Qty: req.Qty,
		TTL: time.Duration(req.HoldSeconds) * time.Second, Key: r.Header.Get("Idempotency-Key")}
	if req.Window != nil {
		rr.Window = *req.Window
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	res, marks, err := s.inv.ReserveMarked(ctx, client.MarkedReserveRequest{ReserveRequest: rr,
		Prints: client.Prints{Device: devicePrint(req.Device)}})
	if err != nil {
		s.fail(w, err)
		return
	}
	o := orderOf(res)
	o.SKU, o.Store, o.Customer, o.Marks = req.SKU, req.Store, req.Customer, marks.String()
	w.Header().Set("Location", "/orders/"+o.ID)
	writeJSON(w, http.StatusCreated, o)
}

// POST /carts : several SKUs at one store, all held or none.
func (s *shop) reserveCart(w http.ResponseWriter, r *http.Request) {
	var req cartRequest
	if !readJSON(w, r, &req) {
		return
	}
	cr := client.CartRequest{Store: req.Store, Customer: req.Customer, Key: r.Header.Get("Idempotency-Key")}
	for _, l := range req.Lines {
		line := client.CartLine{SKU: l.SKU, Qty: l.Qty}
		if l.Window != nil {
			line.Window = *l.Window
		}
		cr.Lines = append(cr.Lines, line)
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	res, err := s.inv.ReserveMany(ctx, cr)
	if err != nil {
		var ce *client.CartError
		if errors.As(err, &ce) {
			status, code := statusOf(ce.Err)
			writeJSON(w, status, map[string]any{"error": code, "line": ce.Line, "message": "line " +
				strconv.Itoa(ce.Line) + " (" + req.Lines[ce.Line].SKU + "): " + code + "; nothing was reserved"})
			return
		}
		s.fail(w, err)
		return
	}
	out := make([]orderJSON, len(res))
	for i, h := range res {
		out[i] = orderOf(h)
		out[i].SKU, out[i].Store, out[i].Customer = req.Lines[i].SKU, req.Store, req.Customer
	}
	writeJSON(w, http.StatusCreated, map[string]any{"orders": out})
}

// GET /orders/{id}
func (s *shop) order(w http.ResponseWriter, r *http.Request) {
	id, ok := orderID(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	res, err := s.inv.GetReservationMarked(ctx, id)
	if err != nil {
		s.fail(w, err)
		return
	}
	o := orderOfReservation(s.codes.withCode(&res.Reservation))
	o.Marks, o.UnderReview = res.Marks.String(), res.UnderReview
	writeJSON(w, http.StatusOK, o)
}

// POST /orders/{id}/confirm : payment went through; the answer carries
// the pickup code and deadline.
func (s *shop) confirm(w http.ResponseWriter, r *http.Request) {
	id, ok := orderID(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	conf, err := s.inv.Confirm(ctx, client.ConfirmRequest{ID: id, Key: r.Header.Get("Idempotency-Key")})
	if err != nil {
		s.fail(w, err)
		return
	}
	// The confirm's reply is the one place inv gives the code to a
	// storefront: keep it for the order's later pages.
	s.codes.put(id, conf.PickupCode)
	res, err := s.inv.GetReservation(ctx, id)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, orderOfReservation(s.codes.withCode(&res)))
}

// DELETE /orders/{id} : the shopper changed their mind (or payment failed).
func (s *shop) cancel(w http.ResponseWriter, r *http.Request) {
	id, ok := orderID(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	res, err := s.inv.Cancel(ctx, client.CancelRequest{ID: id, Key: r.Header.Get("Idempotency-Key")})
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, orderOf(res))
}

// GET /customers/{customer}/orders
func (s *shop) orders(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), callTimeout)
	defer cancel()
	list, err := s.inv.ListReservations(ctx, r.PathValue("customer"))
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]orderJSON, len(list))
	for i := range list {
		out[i] = orderOfReservation(s.codes.withCode(&list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": out})
}

func orderID(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusNotFound, "not_found", "no order "+strconv.Quote(r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// orderOf renders what a mutating call returned.
func orderOf(res client.Result) orderJSON {
	o := orderJSON{ID: strconv.FormatUint(res.ID, 10), Qty: res.Qty, State: res.State.String(), UnderReview: res.UnderReview}
	setTimes(&o, res.State, res.Window, res.ExpiresAt)
	if res.PickupCode != 0 && res.State == client.StateConfirmed { // a code is shown only while it can be used
		o.PickupCode = res.PickupCodeString()
		o.Barcode = res.Barcode()
	}
	return o
}

func orderOfReservation(r *client.Reservation) orderJSON {
	o := orderJSON{ID: strconv.FormatUint(r.ID, 10), SKU: r.SKU, Store: r.Store, Customer: r.Customer,
		Qty: r.Qty, State: r.State.String()}
	setTimes(&o, r.State, r.Window, r.ExpiresAt)
	if r.PickupCode != 0 && r.State == client.StateConfirmed {
		o.PickupCode = r.PickupCodeString()
		o.Barcode = r.Barcode()
	}
	return o
}

// setTimes says what the expiry means in the order's state.
func setTimes(o *orderJSON, st client.State, window, expires time.Time) {
	if !window.IsZero() {
		o.Window = &window
	}
	if expires.IsZero() {
		return
	}
	switch st {
	case client.StateHeld:
		o.HeldUntil = &expires
	case client.StateConfirmed:
		o.PickupDeadline = &expires
	}
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_json", err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

// fail answers a call that did not succeed with the status its error maps to.
func (s *shop) fail(w http.ResponseWriter, err error) {
	status, code := statusOf(err)
	if status >= 500 {
		s.log.Warn("inv call failed", "error", err)
	}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeError(w, status, code, err.Error())
}
