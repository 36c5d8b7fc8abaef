package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// Role is what a token lets a connection do, decided once at HELLO.
type Role uint8

const (
	// RoleNone is no role: the zero Grant, which allows nothing.
	RoleNone Role = iota
	// RoleStorefront is the web tier: reserve, confirm, extend, cancel,
	// reschedule, and reads of reservations, items, stores (their pickup
	// windows) and stock by store.
	RoleStorefront
	// RoleStore is a store terminal: pickup and return at its own stores
	// (and reads of its own items and store records), nothing else.
	RoleStore
	// RoleOperator may do everything, including the catalogue, customer
	// rules, unlocks, exports and the change feed.
	RoleOperator
)

var roleNames = [...]string{RoleNone: "none", RoleStorefront: "storefront", RoleStore: "store", RoleOperator: "operator"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("role_%d", r)
}

// ParseRole is the inverse of String (none excluded).
func ParseRole(s string) (Role, bool) {
	for r := RoleStorefront; r <= RoleOperator; r++ {
		if roleNames[r] == s {
			return r, true
		}
	}
	return RoleNone, false
}

// Grant is what one token allows: a role and, for RoleStore, the stores it
// is bound to.
type Grant struct {
	Role   Role
	Stores []string // RoleStore only: the store ids whose pickups and returns it may do
	// Name is who the token stands for ("name=alice" on its line): the
	// actor recorded with every stock and settings change it makes
	// (docs/adr/0100). A token without one is named by its hash's first
	// digits (actorOf).
	Name string
}

// tokenNamePrefix starts the optional last field of a token line.
const tokenNamePrefix = "name="

// unnamedActorDigits is how many hex digits of an unnamed token's hash name
// it as an actor: enough to tell a handful of tokens apart, too few to
// stand in for the hash.
const unnamedActorDigits = 8

// openActor is the actor of changes made on a server without tokens
// (loopback only, every connection an operator).
const openActor = "open"

// actorOf is the actor a connection's changes are recorded under.
func actorOf(g *Grant, tokenHash string) string {
	switch {
	case g.Name != "":
		return g.Name
	case len(tokenHash) >= unnamedActorDigits:
		return "token:" + tokenHash[:unnamedActorDigits]
	}
	return openActor
}

// operatorGrant is the grant of every connection when no token is
// configured (a loopback-only server: see CheckExposure).
var operatorGrant = &Grant{Role: RoleOperator}

// HashToken is how a token is kept at rest: SHA-256, lower-case hex (the
// same as `printf %s TOKEN | sha256sum`). Tokens are long random strings, so
// a fast unsalted hash is enough: there is nothing to guess a dictionary of.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Tokens is the set of accepted token hashes and their grants. It is
// replaced whole (Set) on rotation, read lock-free at every HELLO.
type Tokens struct {
	m atomic.Pointer[map[string]*Grant] // hash → grant
}

// NewTokens returns a token set holding byHash (hash → grant).
func NewTokens(byHash map[string]Grant) *Tokens {
	t := &Tokens{}
	t.Set(byHash)
	return t
}

// Set replaces every token at once: connections that said HELLO with a token
// no longer present are cut by the server (Server.SetTokens).
func (t *Tokens) Set(byHash map[string]Grant) {
	m := make(map[string]*Grant, len(byHash))
	for h, g := range byHash {
		g.Stores = slices.Clone(g.Stores)
		m[strings.ToLower(h)] = &g
	}
	t.m.Store(&m)
}

// Len is the number of tokens (0: the server runs open, loopback only).
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	if m := t.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// lookup returns the grant of a presented token and its hash, or nil.
func (t *Tokens) lookup(token string) (*Grant, string) {
	h := HashToken(token)
	if m := t.m.Load(); m != nil {
		return (*m)[h], h
	}
	return nil, h
}

// ParseTokenLine parses one token of the config file:
//
//	ROLE SHA256HEX [STORE,STORE...] [name=NAME]
//
// The stores are required for the store role and refused for the others.
// NAME (an id: at most MaxIDBytes, no spaces) is the actor recorded with
// the token's stock and settings changes.
func ParseTokenLine(s string) (hash string, g Grant, err error) {
	f := strings.Fields(s)
	if n := len(f); n > 2 && strings.HasPrefix(f[n-1], tokenNamePrefix) {
		g.Name = strings.TrimPrefix(f[n-1], tokenNamePrefix)
		if g.Name == "" || len(g.Name) > protocol.MaxIDBytes {
			return "", g, fmt.Errorf("token name %q: want 1 to %d bytes", g.Name, protocol.MaxIDBytes)
		}
		f = f[:n-1]
	}
	if len(f) < 2 || len(f) > 3 {
		return "", g, errors.New("want ROLE SHA256HEX [STORE,...] [name=NAME]")
	}
	role, ok := ParseRole(f[0])
	if !ok {
		return "", g, fmt.Errorf("unknown role %q (storefront, store, operator)", f[0])
	}
	hash = strings.ToLower(f[1])
	if b, herr := hex.DecodeString(hash); herr != nil || len(b) != sha256.Size {
		return "", g, errors.New("the token must be given as its SHA-256 in hex (64 digits): printf %s TOKEN | sha256sum")
	}
	g.Role = role
	switch {
	case role == RoleStore && len(f) != 3:
		return "", g, errors.New("a store token names its stores: store HASH S1,S2")
	case role != RoleStore && len(f) == 3:
		return "", g, fmt.Errorf("only store tokens are bound to stores, not %s", role)
	case len(f) == 3:
		for _, st := range strings.Split(f[2], ",") {
			if st == "" || len(st) > protocol.MaxIDBytes {
				return "", g, fmt.Errorf("bad store id %q", st)
			}
			g.Stores = append(g.Stores, st)
		}
	}
	return hash, g, nil
}

// CheckExposure refuses to serve an address beyond loopback without tokens:
// an open server on a reachable address lets anyone reserve and collect.
func CheckExposure(listen string, tokens *Tokens) error {
	if tokens.Len() > 0 || IsLoopback(listen) {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s without tokens: anyone who reaches it could reserve, "+
		"collect and change stock; configure token lines (docs/SECURITY.md) or listen on 127.0.0.1", listen)
}

// IsLoopback reports whether host:port names only the loopback interface.
// An empty host, 0.0.0.0, :: and names other than localhost are not.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// allows reports whether the grant lets a connection send cmd. shardRead
// reads a reservation's record from its shard (for a store's return, whose
// command names only the reservation).
func (g *Grant) allows(cmd *engine.Command, shardRead func(*engine.Command) (engine.Result, bool)) bool {
	switch g.Role {
	case RoleOperator:
		return true
	case RoleStorefront:
		switch cmd.Op {
		case engine.OpReserve, engine.OpConfirm, engine.OpExtend, engine.OpCancel, engine.OpReschedule,
			engine.OpGetItem, engine.OpGetWindow, engine.OpGetReservation, engine.OpListReservations,
			engine.OpStoresWithStock, engine.OpGetStore, engine.OpStoreItems,
			engine.OpJoinWaitlist, engine.OpLeaveWaitlist, engine.OpGetWaitlist, // a sold-out item's line (docs/adr/0105)
			engine.OpTakeCoupon, engine.OpGetCoupon, engine.OpGetCouponIssue: // coupons bought or granted online (docs/adr/0106)
			return true
		}
	case RoleStore:
		switch cmd.Op {
		case engine.OpPickup, engine.OpGetItem, engine.OpGetWindow, engine.OpGetStore, engine.OpStoreItems,
			engine.OpRedeemCoupon: // a coupon redeemed at the counter: in the token's own store's name only
			return g.atStore(string(cmd.Store))
		case engine.OpGetCoupon: // a counter's check of a scanned serial: it names no store, and needs the serial's code
			return true
		case engine.OpReturn, engine.OpReleaseReview:
			// A return, or the release of a hold held back for review
			// (docs/adr/0107): staff at the reservation's store decide it.
			// The command names only the reservation; its store never
			// changes, so the record this node holds answers for it.
			r, ok := shardRead(&engine.Command{Op: engine.OpGetReservation, ID: cmd.ID})
			return ok && r.Code == engine.OK && r.Reservation != nil && g.atStore(r.Reservation.Store)
		}
	}
	return false
}

func (g *Grant) atStore(store string) bool { return slices.Contains(g.Stores, store) }

// seesPickupCodes reports whether replies to the grant carry pickup codes
// beyond the confirm that issues one: the operator's only. Ids are
// sequential, so a role that could read codes could collect every order's
// (docs/adr/0056-pickup-codes-in-replies.md).
func (g *Grant) seesPickupCodes() bool { return g.Role == RoleOperator }

// hidePickupCodes returns r without its pickup codes unless op is the
// confirm that issued the code, or the take_coupon that issued a serial
// (their idempotent replays included). r itself is
// left as it was, since its records may be shared: a copy is made only when
// there is a code to hide.
func hidePickupCodes(op engine.Op, r *engine.Result) *engine.Result {
	if op == engine.OpConfirm || op == engine.OpTakeCoupon { // a take issues its serial's code (docs/adr/0106)
		return r
	}
	has := r.PickupCode != 0 || r.Reservation != nil && r.Reservation.PickupCode != 0
	for i := 0; i < len(r.Reservations) && !has; i++ {
		has = r.Reservations[i].PickupCode != 0
	}
	if !has {
		return r
	}
	out := *r
	out.PickupCode = 0
	if r.Reservation != nil {
		ri := *r.Reservation
		ri.PickupCode = 0
		out.Reservation = &ri
	}
	if len(r.Reservations) > 0 {
		out.Reservations = slices.Clone(r.Reservations)
		for i := range out.Reservations {
			out.Reservations[i].PickupCode = 0
		}
	}
	return &out
}

// allowsControl reports whether the grant lets a connection send a control
// op that is not a domain command (SUBSCRIBE: the change feed shows every
// reservation of every store, so the operator's alone; SNAPSHOT: disk work
// on every shard of the node, an operator's action; STATUS: raft indexes,
// whose growth tells a shard's write rate, for operators' tools only).
func (g *Grant) allowsControl(op protocol.Op) bool {
	switch op {
	case protocol.OpPing, protocol.OpTopology:
		return g.Role != RoleNone
	case protocol.OpSubscribe, protocol.OpSnapshot, protocol.OpStatus:
		return g.Role == RoleOperator
	}
	return g.Role == RoleOperator
}

// readReservation reads a reservation from the state this node holds, for
// a permission check (any goroutine).
func (s *Server) readReservation(cmd *engine.Command) (engine.Result, bool) {
	kind, sh := protocol.RouteOf(cmd, len(s.shards))
	if kind != protocol.RouteShard || s.shards[sh] == nil {
		return engine.Result{}, false
	}
	return s.shards[sh].Read(cmd), true
}

// authorize checks a domain request against the connection's grant and
// answers it unauthorized if refused (event loop). The connection stays.
func (s *Server) authorize(c *conn, reqID uint32, cmd *engine.Command) bool {
	if (cmd.Op.Internal() || cmd.NodeOnly()) && !c.node {
		// Claims, resolves, outbox messages and their fields pass between
		// nodes only (SHARD_CALL, or a BATCH of a node's group: an outbox
		// delivery, a sweep's reads; docs/adr/0070): no client sends them,
		// whatever its role.
		c.sendError(reqID, engine.CodeUnauthorized, "claims are the nodes' own: "+cmd.Op.String()+" with a claim is not a client request")
		return false
	}
	if len(cmd.Actor) > 0 && !c.node {
		// A forwarded change keeps the actor its first node stamped; a
		// client's actor is its token's, never one it claims.
		c.sendError(reqID, engine.CodeUnauthorized, "the actor of a change is its token's name: a client may not send one")
		return false
	}
	if c.grant.allows(cmd, s.readReservation) {
		if len(cmd.Actor) == 0 && stampsActor(cmd.Op) {
			cmd.Actor = c.actor
		}
		return true
	}
	c.sendError(reqID, engine.CodeUnauthorized, "the "+c.grant.Role.String()+" role may not "+cmd.Op.String()+storeNote(c.grant, cmd))
	return false
}

// stampsActor reports whether op's changes record who made them.
func stampsActor(op engine.Op) bool {
	switch op {
	case engine.OpPutItem, engine.OpUpdateItem, engine.OpPutItems, engine.OpRestock, engine.OpAdjustStock:
		return true
	}
	return false
}

func storeNote(g *Grant, cmd *engine.Command) string {
	if g.Role == RoleStore && len(cmd.Store) > 0 {
		return " at store " + string(cmd.Store)
	}
	return ""
}

// isNodeToken reports whether a HELLO's token is the cluster token, which
// the nodes of a cluster present to each other: its connection may send
// the nodes' own ops. A cluster without tokens (open) has no cluster token:
// there every operator connection is taken for a node's, as every one may
// send SHARD_CALL.
func (s *Server) isNodeToken(g *Grant, tokenHash string) bool {
	if g.Role != RoleOperator || !s.clustered() {
		return false
	}
	if s.cfg.ClusterToken == "" {
		return s.tokens.Len() == 0
	}
	return tokenHash == s.clusterTokenHash
}

// grantFor decides a HELLO's token: the open grant when the server has no
// tokens, else the token's grant, or nil (refused).
func (s *Server) grantFor(token string) (*Grant, string) {
	t := s.tokens
	if t.Len() == 0 {
		return operatorGrant, ""
	}
	return t.lookup(token)
}

// SetTokens rotates the tokens without a restart: new HELLOs see the new
// set at once, and connections whose token was removed are cut (they
// reconnect with a current token). It refuses a set that would leave a
// non-loopback listener open.
func (s *Server) SetTokens(byHash map[string]Grant) error {
	next := NewTokens(byHash)
	if err := CheckExposure(s.cfg.Listen, next); err != nil {
		return err
	}
	if s.pagesOn.Load() {
		if err := CheckPagesExposure(s.cfg.HTTP, next, s.cfg.HTTPTLSConfig != nil); err != nil {
			return err
		}
	}
	s.tokens.Set(byHash)
	// A HELLO decided under the old set a moment ago may store its hash
	// after this sweep and keep a removed token until it reconnects; a
	// second SIGHUP cuts it.
	kept := *next.m.Load()
	var cut int
	s.mu.Lock()
	for c := range s.conns {
		if h := c.tokenHash.Load(); h != nil && kept[*h] == nil {
			_ = c.gc.Close()
			cut++
		}
	}
	s.mu.Unlock()
	s.log.Info("tokens rotated", "tokens", next.Len(), "connections_cut", cut)
	return nil
}
