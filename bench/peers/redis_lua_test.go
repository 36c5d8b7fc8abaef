// Proves the Redis peer's Lua scripts and its state check without a Redis
// server: a fake keyspace runs the scripts in a Lua 5.1 interpreter
// (gopher-lua) with redis.call's GET, SET [EX], INCR, DECR and DEL, on the
// keys and arguments the target builds for each request (evalArgs). Every
// branch answers its code (unknown item, sold out, window full, limit,
// not held) and leaves the keys as it should; the three workloads driven
// one order at a time through the scripts leave a state that passes the
// harness's invariant check once read back (redisSnapshot, state); and a
// planted oversell, lost hold, limit break or counter drift is caught.
package peers

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/invsys/inv/bench"
)

// fakeRedis is a keyspace that runs the peer's scripts as Redis would.
type fakeRedis struct {
	kv  map[string]string
	ttl map[string]int64 // seconds, for keys SET with EX
	L   *lua.LState
	fns map[string]*lua.LFunction // compiled scripts
}

func newFakeRedis() *fakeRedis {
	f := &fakeRedis{kv: map[string]string{}, ttl: map[string]int64{}, L: lua.NewState(), fns: map[string]*lua.LFunction{}}
	r := f.L.NewTable()
	r.RawSetString("call", f.L.NewFunction(f.call))
	f.L.SetGlobal("redis", r)
	return f
}

// call is redis.call for the commands the scripts use.
func (f *fakeRedis) call(L *lua.LState) int {
	cmd, key := strings.ToUpper(L.CheckString(1)), L.CheckString(2)
	switch cmd {
	case "GET":
		if v, ok := f.kv[key]; ok {
			L.Push(lua.LString(v))
		} else {
			L.Push(lua.LFalse) // a nil bulk reply reaches Lua as false
		}
	case "SET":
		f.kv[key] = L.CheckString(3)
		delete(f.ttl, key)
		if L.GetTop() >= 5 && strings.ToUpper(L.CheckString(4)) == "EX" {
			n, err := strconv.ParseInt(L.CheckString(5), 10, 64)
			if err != nil {
				L.RaiseError("bad EX %q", L.CheckString(5))
			}
			f.ttl[key] = n
		}
		L.Push(lua.LString("OK"))
	case "INCR", "DECR":
		n, _ := strconv.ParseInt(f.kv[key], 10, 64)
		if cmd == "INCR" {
			n++
		} else {
			n--
		}
		f.kv[key] = strconv.FormatInt(n, 10)
		L.Push(lua.LNumber(n))
	case "DEL":
		n := 0
		if _, ok := f.kv[key]; ok {
			n = 1
		}
		delete(f.kv, key)
		delete(f.ttl, key)
		L.Push(lua.LNumber(n))
	default:
		L.RaiseError("command %s not faked", cmd)
	}
	return 1
}

// eval runs script with KEYS and ARGV (arguments as Redis gets them: their
// decimal text) and returns its integer reply.
func (f *fakeRedis) eval(t *testing.T, script string, keys []string, args []any) int64 {
	t.Helper()
	L := f.L
	fn := f.fns[script]
	if fn == nil {
		var err error
		if fn, err = L.LoadString(script); err != nil {
			t.Fatalf("script does not compile: %v", err)
		}
		f.fns[script] = fn
	}
	tbl := func(vals []string) *lua.LTable {
		tb := L.NewTable()
		for _, v := range vals {
			tb.Append(lua.LString(v))
		}
		return tb
	}
	argv := make([]string, len(args))
	for i, a := range args {
		argv[i] = fmt.Sprint(a)
	}
	L.SetGlobal("KEYS", tbl(keys))
	L.SetGlobal("ARGV", tbl(argv))
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		t.Fatalf("script: %v", err)
	}
	ret := L.Get(-1)
	L.Pop(1)
	n, ok := ret.(lua.LNumber)
	if !ok {
		t.Fatalf("script returned %v, not a number", ret)
	}
	return int64(n)
}

var scripts = map[string]string{"reserve": luaReserve, "confirm": luaConfirm, "cancel": luaCancel}

// fakeTarget is a RedisTarget whose script hashes name the scripts, for
// evalArgs.
func fakeTarget(cat *bench.Catalog) *RedisTarget {
	return &RedisTarget{cat: cat, sha: [3]string{"reserve", "confirm", "cancel"}}
}

// send runs one request through evalArgs and the scripts.
func (f *fakeRedis) send(t *testing.T, p *RedisTarget, r *bench.Request) (bench.Outcome, error) {
	t.Helper()
	o, err := opOf(r)
	if err != nil {
		t.Fatal(err)
	}
	sha, keys, args := p.evalArgs(&o)
	return codeOutcome(f.eval(t, scripts[sha], keys, args))
}

func request(cat *bench.Catalog, k bench.Kind, order int64, sku, store int32, win int8, holdID uint64) *bench.Request {
	return &bench.Request{Kind: k, Order: order, SKU: cat.SKU(sku), Store: cat.Store(store),
		Customer: []byte(bench.CustomerID(order)), Qty: 1, Window: bench.WindowStart(int(win)), TTL: cat.HoldTTL, HoldID: holdID}
}

func TestRedisScripts(t *testing.T) {
	w, _ := bench.NewWorkload(bench.PickupWindow, 2000) // 100 SKUs x 1 store, stock 100, 8 windows of quota 10
	cat := w.Catalog()
	p, f := fakeTarget(cat), newFakeRedis()
	f.kv[itemKey(3, 0)] = "2"
	send := func(r *bench.Request, want bench.Outcome) {
		t.Helper()
		got, err := f.send(t, p, r)
		if got != want {
			t.Fatalf("%s of order %d: %v (%v), want %v; keys %v", r.Kind, r.Order, got, err, want, f.kv)
		}
	}
	// Unknown item: code 5, an error, nothing written.
	if out, err := f.send(t, p, request(cat, bench.KindReserve, 1, 4, 0, -1, 0)); out != bench.OutcomeError || err != errUnknownItem || len(f.kv) != 1 {
		t.Fatalf("unknown item: %v %v, keys %v", out, err, f.kv)
	}
	// A reserve in window 2 takes a unit, the customer's count, a window unit, and a hold with the TTL.
	send(request(cat, bench.KindReserve, 10, 3, 0, 2, 0), bench.OutcomeOK)
	want := map[string]string{"i:3:0": "1", "c:10:3": "1", "w:3:0:2": "1", "h:11": "H|3|0|10|2"}
	for k, v := range want {
		if f.kv[k] != v {
			t.Errorf("after reserve: %s = %q, want %q", k, f.kv[k], v)
		}
	}
	if f.ttl["h:11"] != 600 {
		t.Errorf("hold TTL %d, want 600", f.ttl["h:11"])
	}
	// The window full: refused before anything is taken.
	f.kv["w:3:0:5"] = "10"
	send(request(cat, bench.KindReserve, 11, 3, 0, 5, 0), bench.OutcomeWindowFull)
	// The customer at the limit (2).
	f.kv["c:12:3"] = "2"
	send(request(cat, bench.KindReserve, 12, 3, 0, 2, 0), bench.OutcomeLimitExceeded)
	if f.kv["i:3:0"] != "1" || f.kv["w:3:0:2"] != "1" {
		t.Fatalf("a refused reserve changed counters: %v", f.kv)
	}
	// The last unit, then sold out.
	send(request(cat, bench.KindReserve, 13, 3, 0, 1, 0), bench.OutcomeOK)
	send(request(cat, bench.KindReserve, 14, 3, 0, 1, 0), bench.OutcomeSoldOut)
	// Confirm: held becomes confirmed without TTL; a second confirm, or one of no hold, is not held.
	send(request(cat, bench.KindConfirm, 10, 3, 0, 2, 11), bench.OutcomeOK)
	if f.kv["h:11"] != "C|3|0|10|2" || f.ttl["h:11"] != 0 {
		t.Errorf("confirmed hold %q, TTL %d", f.kv["h:11"], f.ttl["h:11"])
	}
	send(request(cat, bench.KindConfirm, 10, 3, 0, 2, 11), bench.OutcomeNotFound)
	send(request(cat, bench.KindConfirm, 99, 3, 0, 2, 100), bench.OutcomeNotFound)
	// Cancel: a confirmed hold is not held; a held one gives every unit back.
	send(request(cat, bench.KindCancel, 10, 3, 0, 2, 11), bench.OutcomeNotFound)
	send(request(cat, bench.KindCancel, 13, 3, 0, 1, 14), bench.OutcomeOK)
	if _, ok := f.kv["h:14"]; ok || f.kv["i:3:0"] != "1" || f.kv["c:13:3"] != "0" || f.kv["w:3:0:1"] != "0" {
		t.Errorf("after cancel: %v", f.kv)
	}
	send(request(cat, bench.KindCancel, 13, 3, 0, 1, 14), bench.OutcomeNotFound)
}

// driveFake runs every order of a workload through the scripts, one at a
// time, as the driver would, and returns the keyspace and what the driver
// would have been told.
func driveFake(t *testing.T, name string, scale int) (*bench.Workload, *fakeRedis, *bench.Result) {
	t.Helper()
	w, err := bench.NewWorkload(name, scale)
	if err != nil {
		t.Fatal(err)
	}
	cat := w.Catalog()
	p, f := fakeTarget(cat), newFakeRedis()
	for sku := range int32(cat.SKUs) {
		for st := range int32(cat.Stores) {
			f.kv[itemKey(sku, st)] = strconv.FormatInt(cat.StockUnits, 10)
		}
	}
	r := &bench.Result{Acks: make([]bench.Ack, len(w.Orders)), Complete: true}
	for i, o := range w.Orders {
		out, err := f.send(t, p, request(cat, bench.KindReserve, int64(i), o.SKU, o.Store, o.Win, 0))
		if err != nil {
			t.Fatal(err)
		}
		r.Counts[bench.KindReserve][out]++
		if out != bench.OutcomeOK {
			continue
		}
		id := uint64(i + 1)
		r.Acks[i] = bench.Ack{ID: id, State: bench.HoldHeld}
		if o.Then == bench.KindReserve {
			continue
		}
		out, _ = f.send(t, p, request(cat, o.Then, int64(i), o.SKU, o.Store, o.Win, id))
		r.Counts[o.Then][out]++
		if out == bench.OutcomeOK && o.Then == bench.KindConfirm {
			r.Acks[i].State = bench.HoldConfirmed
		} else if out == bench.OutcomeOK {
			r.Acks[i].State = bench.HoldCancelled
		}
	}
	return w, f, r
}

func checkKeys(t *testing.T, w *bench.Workload, kv map[string]string, r *bench.Result) []string {
	t.Helper()
	s, err := redisSnapshot(kv)
	if err != nil {
		t.Fatal(err)
	}
	return bench.Check(w, s.state(w.Catalog()), r)
}

func expect(t *testing.T, problems []string, want string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("no problem mentions %q; got %q", want, problems)
}

func TestRedisStatePassesTheCheck(t *testing.T) {
	for _, c := range []struct {
		name  string
		scale int
	}{{bench.FlashHot, 10_000}, {bench.FlashSpread, 1000}, {bench.PickupWindow, 2000}} {
		w, f, r := driveFake(t, c.name, c.scale)
		if p := checkKeys(t, w, f.kv, r); len(p) != 0 {
			t.Errorf("%s: %q", c.name, p)
		}
		if r.Counts[bench.KindReserve][bench.OutcomeOK] == 0 || w.SellOut && r.Counts[bench.KindReserve][bench.OutcomeSoldOut] == 0 {
			t.Errorf("%s: %v: want successes (and for flash-hot refusals)", c.name, r.Counts)
		}
	}
}

func TestRedisStateChecked(t *testing.T) {
	// flash-hot at scale 10,000: stock 10, 100 customers.
	w, f, r := driveFake(t, bench.FlashHot, 10_000)
	// An oversell: one more unit gone, with a hold for it.
	f.kv["i:0:0"] = "-1"
	f.kv["h:51"], f.kv["c:50:0"] = "H|0|0|50|-1", "1"
	r.Acks[50] = bench.Ack{ID: 51, State: bench.HoldHeld}
	r.Counts[bench.KindReserve][bench.OutcomeOK]++
	r.Counts[bench.KindReserve][bench.OutcomeSoldOut]--
	expect(t, checkKeys(t, w, f.kv, r), "OVERSELL")

	// A lost hold: its unit and count given back, the driver told it was held.
	w, f, r = driveFake(t, bench.FlashHot, 10_000)
	delete(f.kv, "h:1")
	f.kv["i:0:0"], f.kv["c:0:0"] = "1", "0"
	expect(t, checkKeys(t, w, f.kv, r), "LOST hold 1")

	// A customer over the limit.
	w, f, r = driveFake(t, bench.FlashHot, 10_000)
	f.kv["c:0:0"] = "3"
	expect(t, checkKeys(t, w, f.kv, r), "LIMIT customer c-000000000")

	// Counters that drifted from the holds, within what lost replies could explain.
	w, f, r = driveFake(t, bench.PickupWindow, 2000)
	r.Counts[bench.KindReserve][bench.OutcomeError] = 5
	for k, v := range f.kv {
		if strings.HasPrefix(k, "w:") {
			n, _ := strconv.Atoi(v)
			f.kv[k] = strconv.Itoa(n - 1)
			break
		}
	}
	expect(t, checkKeys(t, w, f.kv, r), "its holds")

	// A key the peer never writes.
	if _, err := redisSnapshot(map[string]string{"x:1": "1"}); err == nil {
		t.Error("an unknown key read without error")
	}
}
