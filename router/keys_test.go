// What this file proves: the router registers a key homed on another
// shard at its home before the request runs there (one register_key,
// carrying engine.Fingerprint and the request's shard), and never for a
// key homed on the request's own shard; a home's refusal is the request's
// answer and the request does not run; in a BATCH a refused line fails its
// whole chain. How: synchronous routers over fake shards wrapping real
// engines (newSyncRouter); the stories across shards with crashes are in
// testdata/keys.txt. keyOn is also what the other tests use to pick keys
// the client library would make (homed on their request's shard).
package router

import (
	"fmt"
	"slices"
	"testing"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// keyOn returns base, or base with a number, homed on shard of shards.
func keyOn(shard, shards int, base string) []byte {
	for i := 0; ; i++ {
		k := []byte(fmt.Sprintf("%s%d", base, i))
		if i == 0 {
			k = []byte(base)
		}
		if protocol.ShardOfKey(k, shards) == shard {
			return k
		}
	}
}

// registered returns the register_key commands shard was given, alone
// or in groups.
func registered(s *syncShard) []engine.Command {
	var out []engine.Command
	for _, c := range s.singles {
		if c.Op == engine.OpRegisterKey {
			out = append(out, c)
		}
	}
	for _, g := range s.groups {
		for _, c := range g {
			if c.Op == engine.OpRegisterKey {
				out = append(out, c)
			}
		}
	}
	return out
}

func TestKeyRegisteredAtItsHome(t *testing.T) {
	r, shards := newSyncRouter(t, 3)
	item := protocol.ShardOfStore([]byte("S1"), 3)
	for _, sh := range shards {
		sh.eng.Apply(sh.now, []engine.Command{{Op: engine.OpPutItem, SKU: []byte("A"), Store: []byte("S1"), Stock: 10}})
	}
	home := (item + 1) % 3
	key := keyOn(home, 3, "order")
	reserve := func(qty int64) (engine.Result, error) {
		var res engine.Result
		var err error
		cmd := engine.Command{Op: engine.OpReserve, SKU: []byte("A"), Store: []byte("S1"), Customer: []byte("c"), Qty: qty, Key: key}
		r.Serve(&cmd, false, func(rr engine.Result, e error) { res, err = rr, e })
		return res, err
	}
	first, err := reserve(1)
	if err != nil || first.Code != engine.OK {
		t.Fatalf("first reserve: %+v %v", first, err)
	}
	regs := registered(shards[home])
	want := engine.Fingerprint(&engine.Command{Op: engine.OpReserve, SKU: []byte("A"), Store: []byte("S1"), Customer: []byte("c"), Qty: 1, Key: key})
	if len(regs) != 1 || regs[0].ID != want || int(regs[0].ItemShard) != item || string(regs[0].Key) != string(key) {
		t.Fatalf("registrations at the home: %+v", regs)
	}
	if again, _ := reserve(1); again.ID != first.ID {
		t.Errorf("retry: %+v, want the first answer %d", again, first.ID)
	}
	if other, err := reserve(2); err != nil || other.Code != engine.CodeKeyConflict {
		t.Errorf("other contents: %+v %v", other, err)
	}
	if got := shards[item].eng.Read(&engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S1")}); got.Item.Held != 1 {
		t.Errorf("held %d, want 1", got.Item.Held)
	}
	if r.Stats().KeyRegistrations != 3 {
		t.Errorf("KeyRegistrations %d, want 3", r.Stats().KeyRegistrations)
	}
	own := keyOn(item, 3, "order")
	cmd := engine.Command{Op: engine.OpReserve, SKU: []byte("A"), Store: []byte("S1"), Customer: []byte("c"), Qty: 1, Key: own}
	r.Serve(&cmd, false, func(engine.Result, error) {})
	for sh := range shards {
		if n := len(registered(shards[sh])); sh != home && n != 0 || sh == home && n != 3 {
			t.Errorf("shard %d: %d registrations", sh, n)
		}
	}
}

// TestBatchKeyConflictFailsItsChain: a cart line whose key is another
// request's fails its chain (link_failed for the others); the lines
// outside the chain run.
func TestBatchKeyConflictFailsItsChain(t *testing.T) {
	r, shards := newSyncRouter(t, 3)
	item := protocol.ShardOfStore([]byte("S1"), 3)
	for _, sh := range shards {
		sh.eng.Apply(sh.now, []engine.Command{{Op: engine.OpPutItem, SKU: []byte("A"), Store: []byte("S1"), Stock: 10}})
	}
	key := keyOn((item+1)%3, 3, "order")
	res := func(qty int64, k []byte, linked bool) engine.Command {
		return engine.Command{Op: engine.OpReserve, SKU: []byte("A"), Store: []byte("S1"), Customer: []byte("c"), Qty: qty, Key: k, Linked: linked}
	}
	var rs []engine.Result
	var errs []error
	r.ServeBatch([]engine.Command{res(1, key, false), res(2, nil, true), res(3, key, false), res(4, nil, false)}, false,
		func(r []engine.Result, e []error) { rs, errs = slices.Clone(r), slices.Clone(e) })
	var got []string
	for i := range rs {
		got = append(got, fmt.Sprintf("%v/%v", rs[i].Code, errs[i]))
	}
	if fmt.Sprint(got) != "[ok/<nil> link_failed/<nil> key_conflict/<nil> ok/<nil>]" {
		t.Fatalf("results %v", got)
	}
	if it := shards[item].eng.Read(&engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S1")}); it.Item.Held != 5 {
		t.Errorf("held %d, want 5", it.Item.Held)
	}
}

// TestBatchRegistersMoreKeysThanAGroup: a BATCH with more keys homed on
// another shard than one group takes (GroupMaxCommands) registers them in
// several groups, none over the limit, and every entry is served.
func TestBatchRegistersMoreKeysThanAGroup(t *testing.T) {
	const groupMax, n = 4, 11
	r, shards := newSyncRouterWith(t, 2, Config{GroupMaxCommands: groupMax})
	item := protocol.ShardOfStore([]byte("S1"), 2)
	home := 1 - item
	shards[item].eng.Apply(shards[item].now, []engine.Command{{Op: engine.OpPutItem, SKU: []byte("A"), Store: []byte("S1"), Stock: 100}})
	cmds := make([]engine.Command, n)
	for i := range cmds {
		cmds[i] = engine.Command{Op: engine.OpReserve, SKU: []byte("A"), Store: []byte("S1"),
			Customer: []byte(fmt.Sprint("c", i)), Qty: 1, Key: keyOn(home, 2, fmt.Sprint("k", i, "-"))}
	}
	var rs []engine.Result
	var errs []error
	r.ServeBatch(cmds, false, func(r []engine.Result, e []error) { rs, errs = slices.Clone(r), slices.Clone(e) })
	if len(rs) != n {
		t.Fatalf("%d results for %d entries", len(rs), n)
	}
	for i := range rs {
		if errs[i] != nil || rs[i].Code != engine.OK {
			t.Errorf("entry %d: %+v %v", i, rs[i], errs[i])
		}
	}
	if got := len(registered(shards[home])); got != n {
		t.Errorf("%d keys registered at the home, want %d", got, n)
	}
	for _, g := range shards[home].groups {
		if len(g) > groupMax {
			t.Errorf("a group of %d registrations, over %d", len(g), groupMax)
		}
	}
}
