package pages

import (
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/invsys/inv/engine"
)

//go:embed assets
var assets embed.FS

// Limits of the pages' API.
const (
	// maxAPIBodyBytes bounds a request's body: a scan is a store id and a
	// code, well under a kilobyte.
	maxAPIBodyBytes = 4 << 10
	// callTimeout bounds each command an API request runs: past it the
	// page says the system is busy and the clerk scans again.
	callTimeout = 5 * time.Second
	// consoleRows bounds the SKUs and the stores one console answer lists.
	consoleRows = 40
)

// Handler serves the pages and their JSON API on the HTTP port.
type Handler struct {
	be     Backend
	keep   *Keeper
	book   *Book
	shards []Shard
	log    *slog.Logger
	now    func() time.Time
}

// NewHandler returns the pages' handler over the server's backend, the
// keeper of their book, and the node's shards (for their engines' counts).
// Every authorised request of the API counts as a use of the book; one that
// reads it waits a moment for a book just woken to catch up.
func NewHandler(be Backend, keep *Keeper, shards []Shard, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{be: be, keep: keep, book: keep.book, shards: shards, log: log.With("component", "pages"), now: time.Now}
}

// Endpoint is one path of the HTTP port, for the index at /.
type Endpoint struct {
	Path  string
	About string
	Link  bool // a GET a browser can follow (not an API that needs a token)
}

// Endpoints lists what Mount serves.
func Endpoints() []Endpoint {
	return []Endpoint{
		{"/console", "operator console: sell-through, window fill, pickups, refusals, raft, overload (operator token)", true},
		{"/counter", "store counter: check a pickup code and hand the order over (store token)", true},
		{"/api/session", "JSON: the role and stores of the token in the Authorization header", false},
		{"/api/console/overview", "JSON: everything the console shows (operator)", false},
		{"/api/counter/today?store=", "JSON: a store's pickup windows of today with due, collected and overdue orders (store)", false},
		{"/api/counter/check", "JSON POST: what a scanned code names, before the handover (store)", false},
		{"/api/counter/pickup", "JSON POST: hand the order over (store)", false},
	}
}

// Mount registers the pages, their assets and their API on mux.
func (h *Handler) Mount(mux *http.ServeMux) {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	files := http.FileServerFS(sub)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", pageHeaders(files)))
	mux.Handle("GET /console", pageHeaders(servePage(sub, "console.html")))
	mux.Handle("GET /counter", pageHeaders(servePage(sub, "counter.html")))
	mux.HandleFunc("GET /api/session", h.guard(anyRole, h.session))
	mux.HandleFunc("GET /api/console/overview", h.guard(operatorRole, h.overview))
	mux.HandleFunc("GET /api/counter/today", h.guard(counterRole, h.today))
	mux.HandleFunc("POST /api/counter/check", h.guard(counterRole, h.check))
	mux.HandleFunc("POST /api/counter/pickup", h.guard(counterRole, h.pickup))
}

func servePage(files fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, files, name)
	})
}

// pageHeaders keeps the pages to themselves: their own scripts and styles
// only, no framing, no referrer sent on.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// need is the role an API endpoint asks for.
type need uint8

const (
	anyRole      need = iota // any valid token
	operatorRole             // the console
	counterRole              // a store token, or an operator
)

type apiFunc func(w http.ResponseWriter, r *http.Request, a *Access)

// guard checks a request before its handler: the same origin (no other
// site's page may drive the API), a JSON body on POST, a token the server
// knows, on a loopback name when the server runs without tokens (against
// DNS rebinding), and the role the endpoint needs.
func (h *Handler) guard(n need, next apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if !sameOrigin(r) {
			writeError(w, http.StatusForbidden, "cross_origin", "requests from another site's page are refused")
			return
		}
		if r.Method == http.MethodPost {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, "bad_request", "send the body as application/json")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxAPIBodyBytes)
		}
		a, ok := h.be.Access(bearer(r))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="invd"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "a valid token is needed: Authorization: Bearer TOKEN")
			return
		}
		if a.Open && !loopbackName(r.Host) {
			writeError(w, http.StatusForbidden, "unauthorized",
				"this server has no tokens: it answers requests addressed to a loopback name only")
			return
		}
		switch {
		case n == operatorRole && a.Role != RoleOperator:
			writeError(w, http.StatusForbidden, "unauthorized", "the console needs an operator token, not a "+a.Role+" token")
			return
		case n == counterRole && a.Role != RoleOperator && a.Role != RoleStore:
			writeError(w, http.StatusForbidden, "unauthorized", "the counter needs a store token, not a "+a.Role+" token")
			return
		}
		h.keep.Use()
		if n != anyRole {
			h.keep.await(r.Context())
		}
		next(w, r, &a)
	}
}

// bearer returns the token of an Authorization: Bearer header, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// sameOrigin refuses what a browser marks as sent from another site's
// page. A request without those headers (curl, a script) passes: it
// carries its own token, nothing ambient a page could borrow.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// loopbackName reports whether a request's Host names the loopback
// interface (an address or localhost), as a browser sends it when the
// page was opened there.
func loopbackName(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// session answers who the token is: the pages ask it first.
func (h *Handler) session(w http.ResponseWriter, _ *http.Request, a *Access) {
	stores := a.Stores
	if stores == nil {
		stores = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"role": a.Role, "stores": stores, "open": a.Open})
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "malformed JSON: "+err.Error())
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

// unavailable answers a command that got no outcome (busy, no leader,
// timeout): the page asks the clerk to try again.
func (h *Handler) unavailable(w http.ResponseWriter, what string, err error) {
	h.log.Warn("pages: command failed", "what", what, "error", err)
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, "unavailable", "the system did not answer in time; try again")
}

// validStore checks a store id from a request.
func validStore(s string) bool { return s != "" && len(s) <= engine.MaxIDBytes }
