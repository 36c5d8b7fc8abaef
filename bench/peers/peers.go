// Package peers runs the reference workloads of WORKLOAD.md against the
// systems a user would otherwise pick, as bench.Targets, so that
// invbench (--target) measures inv and its peers with one driver, one
// invariant check and one report:
//
//	redis-always    Redis 7 with Lua, appendonly yes, appendfsync always (redis.go)
//	redis-everysec  the same, appendfsync everysec: NOT durable, for reference
//	etcd            etcd 3.4, one node, optimistic compare-and-swap (etcd.go)
//	postgres        PostgreSQL 15, fsync and synchronous_commit on, PL/pgSQL (pg.go)
//
// The per-request logic is the peers load generator's, unchanged: the same
// keys, Lua scripts, CAS loop, PL/pgSQL functions, durability checks and
// state dumps, with the numbers of the workload (SKU s, store t, customer
// = order number c, hold id = c + 1, window index w) read back from the
// ids the driver sends (ids.go). bench/peers.sh starts each server the way
// the peers module's run.sh did (docs/BENCHMARKS.md).
//
// What differs is the driver, which is the harness's for every target: C
// connections with P requests in flight each, every slot sending its
// order's reserve and then its confirm or cancel. For Redis, the requests
// that the P slots of one connection have queued go out as one pipeline
// while none is in flight on that connection (the peers sent P reserves
// as one pipeline, then the batch's follow-ups as a second); etcd gets P
// concurrent calls on each of C clients and PostgreSQL C x P calls on a
// pool of C connections, as before.
//
// Every target empties its server in Load (FLUSHALL, a delete of every
// key, DROP TABLE), so New refuses any address that is not loopback.
package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/invsys/inv/bench"
)

// Peer target names, as given to invbench --target.
const (
	RedisAlways   = "redis-always"
	RedisEverysec = "redis-everysec"
	Etcd          = "etcd"
	Postgres      = "postgres"
)

// Names lists the peer targets.
var Names = []string{RedisAlways, RedisEverysec, Etcd, Postgres}

// DefaultAddr returns the address the peers' servers listen on (what
// bench/peers.sh starts them on), "" for an unknown name.
func DefaultAddr(name string) string {
	switch name {
	case RedisAlways, RedisEverysec:
		return "127.0.0.1:6390"
	case Etcd:
		return "127.0.0.1:23790"
	case Postgres:
		return "127.0.0.1:54329"
	}
	return ""
}

// Target is one peer as the harness drives it. Close releases its
// connections (Run closes those it got from Connect itself).
type Target interface {
	bench.Target
	Close() error
}

// New connects to the peer name at addr, a loopback address, for a run
// of conns connections.
func New(ctx context.Context, name, addr string, conns int) (Target, error) {
	if err := loopback(addr); err != nil {
		return nil, err
	}
	if conns < 1 {
		return nil, errors.New("peers: conns must be at least 1")
	}
	switch name {
	case RedisAlways, RedisEverysec:
		return NewRedis(addr, strings.TrimPrefix(name, "redis-"), conns), nil
	case Etcd:
		return NewEtcd(addr)
	case Postgres:
		return NewPG(ctx, addr, conns)
	}
	return nil, fmt.Errorf("unknown peer %q (%s)", name, strings.Join(Names, ", "))
}

func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: only loopback addresses are allowed (the peers empty their server before a run)", addr)
	}
	return nil
}

// op is one request in the peers' numbers.
type op struct {
	kind       bench.Kind
	id, cust   int64 // hold id (order number + 1) and customer (order number)
	sku, store int32
	win        int8 // pickup window index, -1 for none
}

// opOf reads a request's numbers back from its ids: SKU "sku-000123" is
// 123, store "st-0042" is 42, the customer is the order number, the window
// is its index from its start. The hold id is the order number plus one
// for a reserve, the reserve's for a confirm or cancel.
func opOf(r *bench.Request) (op, error) {
	sku, err1 := idNumber(r.SKU)
	store, err2 := idNumber(r.Store)
	win, err3 := windowIndex(r.Window)
	if err := errors.Join(err1, err2, err3); err != nil {
		return op{}, err
	}
	o := op{kind: r.Kind, id: r.Order + 1, cust: r.Order, sku: int32(sku), store: int32(store), win: win}
	if r.Kind != bench.KindReserve {
		o.id = int64(r.HoldID)
	}
	return o, nil
}

// idNumber returns the number after the last '-' of an id of ids.go.
func idNumber(b []byte) (int64, error) {
	i := strings.LastIndexByte(string(b), '-')
	n, err := strconv.ParseInt(string(b[i+1:]), 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("id %q is not one of the workload's", b)
	}
	return n, nil
}

// windowIndex returns the index of the window starting at start (Unix ns),
// -1 for 0 (none).
func windowIndex(start int64) (int8, error) {
	if start == 0 {
		return -1, nil
	}
	d := start - bench.WindowStart(0)
	w := d / int64(bench.WindowLength)
	if d < 0 || d%int64(bench.WindowLength) != 0 || w > 127 {
		return 0, fmt.Errorf("window start %d is not one of the workload's", start)
	}
	return int8(w), nil
}

// holdVal is a held hold's value: "H|sku|store|cust|win" ("C|…" once
// confirmed).
func holdVal(o *op) string {
	return fmt.Sprintf("H|%d|%d|%d|%d", o.sku, o.store, o.cust, o.win)
}

// errUnknownItem is the scripts' and functions' code 5.
var errUnknownItem = errors.New("unknown item")

// codeOutcome maps the Redis scripts' (and PostgreSQL functions') codes.
func codeOutcome(v int64) (bench.Outcome, error) {
	switch v {
	case 0:
		return bench.OutcomeOK, nil
	case 1:
		return bench.OutcomeSoldOut, nil
	case 2:
		return bench.OutcomeWindowFull, nil
	case 3:
		return bench.OutcomeLimitExceeded, nil
	case 4:
		return bench.OutcomeNotFound, nil
	case 5:
		return bench.OutcomeError, errUnknownItem
	}
	return bench.OutcomeError, fmt.Errorf("unexpected code %d", v)
}

// Keys of the peers' state, in numbers.
type (
	itemNum struct{ sku, store int32 }
	winNum  struct {
		sku, store int32
		win        int8
	}
	custNum struct {
		cust int64
		sku  int32
	}
)

// hold is a live reservation (held or confirmed) as a peer stores it.
type hold struct {
	id         int64
	cust       int64
	sku, store int32
	win        int8
	confirmed  bool
}

// parseHold reads a hold's value "H|sku|store|cust|win" or "C|…".
func parseHold(id int64, v string) (hold, error) {
	f := strings.Split(v, "|")
	if len(f) != 5 || (f[0] != "H" && f[0] != "C") {
		return hold{}, fmt.Errorf("hold %d: bad value %q", id, v)
	}
	h := hold{id: id, confirmed: f[0] == "C"}
	sku, err1 := strconv.ParseInt(f[1], 10, 32)
	st, err2 := strconv.ParseInt(f[2], 10, 32)
	cust, err3 := strconv.ParseInt(f[3], 10, 64)
	win, err4 := strconv.ParseInt(f[4], 10, 8)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return hold{}, fmt.Errorf("hold %d: bad value %q", id, v)
	}
	h.sku, h.store, h.cust, h.win = int32(sku), int32(st), cust, int8(win)
	return h, nil
}

// snapshot is a peer's whole state after a run, in its own terms: units
// available per item, units used per window, each customer's counter per
// SKU, and every live hold. stock and quota are the peer's own where it
// keeps them (PostgreSQL); nil means the catalog's.
type snapshot struct {
	avail   map[itemNum]int64
	stock   map[itemNum]int64
	winUsed map[winNum]int64
	quota   map[winNum]int64
	cust    map[custNum]int64
	holds   []hold
}

func newSnapshot() *snapshot {
	return &snapshot{avail: map[itemNum]int64{}, winUsed: map[winNum]int64{}, cust: map[custNum]int64{}}
}

// state turns the snapshot into the harness's State, every hold listed
// (AllHolds) and the customers' counters as Owned. An item's units taken
// are its counter's (stock - avail); of those, the confirmed ones are its
// confirmed holds and the rest count as held. The check then holds them
// to the holds listed: the peers' "stock - avail = live holds".
func (s *snapshot) state(cat *bench.Catalog) *bench.State {
	st := &bench.State{Owned: map[bench.CustomerSKU]int64{}, AllHolds: true}
	confirmed := map[itemNum]int64{}
	for _, h := range s.holds {
		state := bench.HoldHeld
		if h.confirmed {
			state = bench.HoldConfirmed
			confirmed[itemNum{h.sku, h.store}]++
		}
		st.Holds = append(st.Holds, bench.HoldInfo{ID: uint64(h.id), SKU: bench.SKUID(int(h.sku)),
			Store: bench.StoreID(int(h.store)), Customer: bench.CustomerID(h.cust),
			Window: bench.WindowStart(int(h.win)), Qty: 1, State: state})
	}
	for k, n := range s.cust {
		st.Owned[bench.CustomerSKU{Customer: bench.CustomerID(k.cust), SKU: bench.SKUID(int(k.sku))}] = n
	}
	for sku := range int32(cat.SKUs) {
		for store := range int32(cat.Stores) {
			k := itemNum{sku, store}
			avail, ok := s.avail[k]
			if !ok {
				continue // the check reports it missing
			}
			stock := cat.StockUnits
			if s.stock != nil {
				stock = s.stock[k]
			}
			it := bench.ItemState{SKU: bench.SKUID(int(sku)), Store: bench.StoreID(int(store)), Stock: stock,
				Confirmed: confirmed[k]}
			it.Held = stock - avail - it.Confirmed
			for w := range int8(cat.Windows) {
				wk := winNum{sku, store, w}
				quota := cat.QuotaUnits
				if s.quota != nil {
					quota = s.quota[wk]
				}
				it.Windows = append(it.Windows, bench.WindowState{Start: bench.WindowStart(int(w)), Quota: quota, Used: s.winUsed[wk]})
			}
			st.Items = append(st.Items, it)
		}
	}
	return st
}
