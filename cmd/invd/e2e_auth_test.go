// Access control end to end against a real invd: tokens from the config
// file (kept as SHA-256), one per role. Each role's allowed ops are served
// and its others refused unauthorized with the connection kept; a store
// terminal collects and takes returns at its own store only; unknown and
// missing tokens are refused at HELLO and the connection closed; a SIGHUP
// after the file changed rotates the tokens without a restart and cuts the
// connections of removed tokens; and invd refuses to start on 0.0.0.0
// without tokens. State is compared before and after every refusal.
package main_test

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/server"
)

const (
	operatorToken   = "op-8c1f0e3b7a6d4e21"
	storefrontToken = "web-2b7d9a0c4f1e8d33"
	storeS1Token    = "kiosk-s1-5e0a7c2d9b14"
	storeS2Token    = "kiosk-s2-91d3b6f0a7c2"
)

func tokenConfig(storefront string) string {
	return fmt.Sprintf(`
token = operator %s
token = storefront %s
token = store %s S1
token = store %s S2,S3
`, server.HashToken(operatorToken), server.HashToken(storefront),
		server.HashToken(storeS1Token), server.HashToken(storeS2Token))
}

func dialToken(t *testing.T, p *invdtest.Proc, token string) *wire.Conn {
	t.Helper()
	c, err := wire.DialToken(p.Addr(), token, 10*time.Second)
	if err != nil {
		t.Fatalf("dial with token %q: %v", token, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wantRefused sends cmd and checks the ERROR code, then that the
// connection still serves.
func wantRefused(t *testing.T, c *wire.Conn, code engine.Code, cmd engine.Command) {
	t.Helper()
	_, err := c.Do(&cmd)
	if got := wire.CodeOf(err); got != code {
		t.Fatalf("%s: got %v (%s), want %s", cmd.Op, err, got, code)
	}
	if err := c.Ping(7); err != nil {
		t.Fatalf("%s: connection not kept after the refusal: %v", cmd.Op, err)
	}
}

func TestAuthRoles(t *testing.T) {
	p := startInvd(t, 2, tokenConfig(storefrontToken))
	op := dialToken(t, p, operatorToken)
	web := dialToken(t, p, storefrontToken)
	s1 := dialToken(t, p, storeS1Token)
	s2 := dialToken(t, p, storeS2Token)

	want(t, op, engine.OK, putItem("A", "S1", 10))
	want(t, op, engine.OK, putItem("A", "S2", 10))

	t.Run("storefront", func(t *testing.T) {
		h := want(t, web, engine.OK, reserve("A", "S1", "c1", 1))
		want(t, web, engine.OK, engine.Command{Op: engine.OpExtend, ID: h.ID, TTL: time.Minute})
		want(t, web, engine.OK, onID(engine.OpGetReservation, h.ID))
		want(t, web, engine.OK, engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S1")})
		want(t, web, engine.OK, engine.Command{Op: engine.OpStoresWithStock, SKU: []byte("A")})
		want(t, web, engine.OK, onID(engine.OpCancel, h.ID))
		before := getItem(t, op, "A", "S1")
		for _, cmd := range []engine.Command{
			putItem("A", "S1", 1_000),
			{Op: engine.OpRestock, SKU: []byte("A"), Store: []byte("S1"), Qty: 100},
			{Op: engine.OpBlock, Customer: []byte("c2")},
			{Op: engine.OpPickup, ID: h.ID, Store: []byte("S1"), PickupCode: 1},
			onID(engine.OpUnlock, h.ID),
			onID(engine.OpReturn, h.ID),
			{Op: engine.OpListItems},
		} {
			wantRefused(t, web, engine.CodeUnauthorized, cmd)
		}
		if after := getItem(t, op, "A", "S1"); !reflect.DeepEqual(before, after) {
			t.Fatalf("refused ops changed the item: %+v → %+v", before, after)
		}
	})

	t.Run("store at its own store only", func(t *testing.T) {
		h := want(t, web, engine.OK, reserve("A", "S1", "c3", 1))
		code := want(t, web, engine.OK, onID(engine.OpConfirm, h.ID)).PickupCode
		pick := engine.Command{Op: engine.OpPickup, ID: h.ID, Store: []byte("S1"), PickupCode: code}
		// S2's terminal names S1 (its own store would be wrong_store):
		// refused before the engine sees it.
		wantRefused(t, s2, engine.CodeUnauthorized, pick)
		byCode := engine.Command{Op: engine.OpPickup, Store: []byte("S1"), PickupCode: code}
		wantRefused(t, s2, engine.CodeUnauthorized, byCode)
		if r := want(t, op, engine.OK, onID(engine.OpGetReservation, h.ID)); r.Reservation.State != engine.StateConfirmed {
			t.Fatalf("after refused pickups: %+v", r.Reservation)
		}
		if r := want(t, s1, engine.OK, pick); r.State != engine.StatePickedUp {
			t.Fatalf("pickup: %+v", r)
		}
		ret := onID(engine.OpReturn, h.ID)
		ret.Restock = true
		wantRefused(t, s2, engine.CodeUnauthorized, ret)
		if r := want(t, s1, engine.OK, ret); r.State != engine.StateReturned {
			t.Fatalf("return: %+v", r)
		}
		want(t, s2, engine.OK, engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S2")})
		for _, cmd := range []engine.Command{
			reserve("A", "S1", "c4", 1),
			reserve("A", "S2", "c4", 1),
			onID(engine.OpConfirm, h.ID),
			onID(engine.OpGetReservation, h.ID),
			engine.Command{Op: engine.OpGetItem, SKU: []byte("A"), Store: []byte("S1")},
			putItem("A", "S2", 99),
		} {
			wantRefused(t, s2, engine.CodeUnauthorized, cmd)
		}
	})

	t.Run("batch with one forbidden command is refused whole", func(t *testing.T) {
		before := getItem(t, op, "A", "S2")
		var w protocol.BatchWriter
		id := web.NextID()
		w.Begin(nil, id, false)
		r1 := reserve("A", "S2", "c5", 1)
		w.AddRequest(&r1)
		r2 := engine.Command{Op: engine.OpRestock, SKU: []byte("A"), Store: []byte("S2"), Qty: 5}
		w.AddRequest(&r2)
		if err := web.Send(w.Finish()); err != nil {
			t.Fatal(err)
		}
		f, err := web.Next()
		if err != nil || f.ReqID != id {
			t.Fatalf("batch reply: %v %v", f.Op, err)
		}
		if code := wire.CodeOf(wire.ReplyError(f)); code != engine.CodeUnauthorized {
			t.Fatalf("batch: %s, want unauthorized", code)
		}
		if after := getItem(t, op, "A", "S2"); !reflect.DeepEqual(before, after) {
			t.Fatalf("refused batch changed the item: %+v → %+v", before, after)
		}
	})

	t.Run("operator does everything", func(t *testing.T) {
		want(t, op, engine.OK, engine.Command{Op: engine.OpRestock, SKU: []byte("A"), Store: []byte("S2"), Qty: 5})
		want(t, op, engine.OK, engine.Command{Op: engine.OpListItems})
		h := want(t, op, engine.OK, reserve("A", "S2", "c6", 1))
		code := want(t, op, engine.OK, onID(engine.OpConfirm, h.ID)).PickupCode
		want(t, op, engine.OK, engine.Command{Op: engine.OpPickup, ID: h.ID, Store: []byte("S2"), PickupCode: code})
	})

	t.Run("STATUS is the operator's", func(t *testing.T) {
		for _, c := range []*wire.Conn{web, s1} {
			if _, err := c.Status(); wire.CodeOf(err) != engine.CodeUnauthorized {
				t.Fatalf("STATUS of a non-operator: %v, want unauthorized", err)
			}
			if err := c.Ping(7); err != nil { // the connection is kept
				t.Fatalf("ping after a refused STATUS: %v", err)
			}
		}
		st, err := op.Status()
		if err != nil || st.NodeID == 0 || len(st.Shards) != 2 {
			t.Fatalf("operator STATUS: %+v %v", st, err)
		}
		for i, sh := range st.Shards {
			if int(sh.Shard) != i || sh.State != protocol.RaftLeader || sh.Leader != st.NodeID || sh.AppliedIndex == 0 {
				t.Fatalf("operator STATUS: shard %d: %+v", i, sh)
			}
		}
		// A payload where none belongs is malformed; the connection stays.
		id := op.NextID()
		if err := op.Send(protocol.AppendFrame(nil, protocol.OpStatus, 0, id, []byte{1})); err != nil {
			t.Fatal(err)
		}
		if f, err := op.Next(); err != nil || f.ReqID != id || wire.CodeOf(wire.ReplyError(f)) != engine.CodeProtocol {
			t.Fatalf("STATUS with a payload: %v %v, want protocol_error", f.Op, err)
		}
		if err := op.Ping(8); err != nil {
			t.Fatalf("ping after a malformed STATUS: %v", err)
		}
	})

	t.Run("unknown and missing tokens are refused at HELLO", func(t *testing.T) {
		for _, tok := range []string{"", "guess", storefrontToken + "x", server.HashToken(operatorToken)} {
			_, err := wire.DialToken(p.Addr(), tok, 5*time.Second)
			if code := wire.CodeOf(err); code != engine.CodeUnauthorized {
				t.Fatalf("token %q: %v, want unauthorized", tok, err)
			}
		}
	})
}

func TestAuthRotationOnSIGHUP(t *testing.T) {
	p := startInvd(t, 1, tokenConfig(storefrontToken))
	op := dialToken(t, p, operatorToken)
	want(t, op, engine.OK, putItem("R", "S1", 10))
	old := dialToken(t, p, storefrontToken)
	want(t, old, engine.OK, reserve("R", "S1", "r1", 1))

	const newToken = "web-rotated-77f2c1d0a9"
	conf := fastRaft + tokenConfig(newToken)
	if err := os.WriteFile(p.ConfigPath(), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := wire.DialToken(p.Addr(), storefrontToken, 5*time.Second)
		if wire.CodeOf(err) == engine.CodeUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old token still accepted 10 s after SIGHUP: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The cut is asynchronous (each event loop closes its own connections).
	if !cutWithin(old.Raw(), 5*time.Second) {
		t.Fatal("a connection of the removed token still open 5 s after rotation")
	}
	web := dialToken(t, p, newToken)
	want(t, web, engine.OK, reserve("R", "S1", "r2", 1))
	if err := op.Ping(2); err != nil {
		t.Fatalf("the operator's connection (token kept) was cut: %v", err)
	}

	// A broken file changes nothing.
	if err := os.WriteFile(p.ConfigPath(), []byte(conf+"token = admin nothex\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = p.Signal(syscall.SIGHUP)
	time.Sleep(200 * time.Millisecond)
	want(t, dialToken(t, p, newToken), engine.OK, reserve("R", "S1", "r3", 1))
	if !p.Alive() {
		t.Fatal("invd died on SIGHUP")
	}
}

func TestRefuseExposedWithoutTokens(t *testing.T) {
	port := invdtest.FreeAddr()[strings.LastIndexByte(invdtest.FreeAddr(), ':'):]
	_, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data", Shards: 1,
		Addr: "0.0.0.0" + port, Config: fastRaft})
	if err == nil || !strings.Contains(err.Error(), "refusing to listen on 0.0.0.0") {
		t.Fatalf("invd on 0.0.0.0 without tokens: %v, want a refusal to start", err)
	}
	// With tokens it serves there.
	p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data", Shards: 1,
		Addr: "0.0.0.0" + port, Config: fastRaft + tokenConfig(storefrontToken)})
	if err != nil {
		t.Fatal(err)
	}
	cleanupProc(t, &p)
	c, err := wire.DialToken("127.0.0.1"+port, operatorToken, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
