// Hostile connections against a real invd that has tokens, with the state
// compared before and after: every item of the shop is read (LIST_ITEMS,
// operator) before the onslaught and again after it, and must be identical.
// Inputs: random bytes (several seeds and sizes) before and after HELLO;
// huge declared frame lengths; twenty thousand tiny malformed frames in one
// write; a request before HELLO; HELLO with a wrong, a missing and an
// oversized token; well-formed requests whose fields are out of range
// (zero, negative and maximal quantities, negative and enormous hold times,
// ids naming no shard, stock deltas that would overflow); a storefront
// token calling operator ops; a store token collecting and returning at
// another store. Each is refused cleanly (an ERROR, a refusal result, or a
// closed connection); the process stays up and a witness stays served.
package main_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func listItems(t *testing.T, c *wire.Conn) []engine.ItemInfo {
	t.Helper()
	return want(t, c, engine.OK, engine.Command{Op: engine.OpListItems}).Items
}

func TestHostileNothingChanges(t *testing.T) {
	p := startInvd(t, 2, tokenConfig(storefrontToken)+"max_in_flight = 64\nhello_timeout = 300ms\n")
	op := dialToken(t, p, operatorToken)
	web := dialToken(t, p, storefrontToken)
	s2 := dialToken(t, p, storeS2Token)
	for _, st := range []string{"S1", "S2"} {
		want(t, op, engine.OK, putItem("X", st, 100))
	}
	h := want(t, web, engine.OK, reserve("X", "S1", "victim", 2))
	code := want(t, web, engine.OK, onID(engine.OpConfirm, h.ID)).PickupCode
	before := listItems(t, op)
	beforeRes := want(t, op, engine.OK, onID(engine.OpGetReservation, h.ID)).Reservation

	helloTok := func(tok string) []byte {
		return protocol.AppendHello(nil, 1, &protocol.Hello{Version: 1, Client: "hostile", Token: tok})
	}
	send := func(t *testing.T, b []byte) net.Conn {
		nc := rawConn(t, p)
		_, _ = nc.Write(b)
		return nc
	}

	t.Run("random bytes", func(t *testing.T) {
		for seed := range uint64(8) {
			rng := rand.New(rand.NewPCG(seed, 99))
			junk := make([]byte, 1+rng.IntN(64<<10))
			for i := range junk {
				junk[i] = byte(rng.Uint32())
			}
			for _, prefix := range [][]byte{nil, helloTok(storefrontToken)} {
				nc := send(t, append(prefix, junk...))
				if !cutWithin(nc, 5*time.Second) {
					t.Fatalf("seed %d: connection sending garbage left open", seed)
				}
			}
		}
	})

	t.Run("huge declared lengths", func(t *testing.T) {
		for _, n := range []int{protocol.DefaultMaxFrameBytes + 1, 1 << 30, math.MaxUint32 - protocol.HeaderSize} {
			hdr := protocol.AppendFrameHeader(helloTok(storefrontToken), protocol.DomainOp(engine.OpReserve), 0, 9, n)
			nc := send(t, hdr)
			if got := readUntilError(t, protocol.NewReader(nc, 0), 9); got != engine.CodeTooLarge {
				t.Fatalf("declared %d bytes: %s, want too_large", n, got)
			}
		}
	})

	t.Run("many tiny frames", func(t *testing.T) {
		frames := helloTok(storefrontToken)
		for i := range 20_000 {
			frames = protocol.AppendFrame(frames, protocol.DomainOp(engine.OpReserve), 0, uint32(i+2), []byte{1})
		}
		frames = protocol.AppendPing(frames, 1_000_000, 5, false)
		nc := send(t, frames)
		_ = nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		r := protocol.NewReader(nc, 0)
		errs := 0
		for {
			f, err := r.Next()
			if err != nil {
				t.Fatalf("after %d errors: %v", errs, err)
			}
			if f.Op == protocol.OpPing {
				break
			}
			if f.Op == protocol.OpError {
				errs++
			}
		}
		if errs != 20_000 {
			t.Fatalf("%d ERROR replies to 20,000 malformed frames", errs)
		}
	})

	t.Run("hello with bad tokens and requests before hello", func(t *testing.T) {
		cmd := reserve("X", "S1", "early", 1)
		for name, b := range map[string][]byte{
			"wrong token":     helloTok("guess"),
			"missing token":   helloTok(""),
			"oversized token": oversizedTokenHello(),
			"before hello":    protocol.AppendRequest(nil, 9, &cmd),
		} {
			nc := send(t, append(b, protocol.AppendRequest(nil, 9, &cmd)...))
			if !cutWithin(nc, 5*time.Second) {
				t.Fatalf("%s: connection left open", name)
			}
		}
	})

	t.Run("out-of-range fields", func(t *testing.T) {
		sku, st := []byte("X"), []byte("S1")
		for _, cmd := range []engine.Command{
			reserve("X", "S1", "o1", 0),
			reserve("X", "S1", "o1", -1),
			reserve("X", "S1", "o1", math.MaxInt64),
			{Op: engine.OpReserve, SKU: sku, Store: st, Customer: []byte("o1"), Qty: 1, TTL: -1},
			{Op: engine.OpReserve, SKU: sku, Store: st, Customer: []byte("o1"), Qty: 1, TTL: math.MaxInt64},
			{Op: engine.OpReserve, SKU: sku, Store: st, Customer: []byte("o1"), Qty: 1, Window: -1},
			{Op: engine.OpReserve, SKU: nil, Store: st, Customer: []byte("o1"), Qty: 1},
			{Op: engine.OpConfirm, ID: 0},
			{Op: engine.OpConfirm, ID: h.ID, Qty: -3},
			{Op: engine.OpCancel, ID: engine.MakeID(0xFFFF, 1)},
			{Op: engine.OpExtend, ID: h.ID, TTL: math.MaxInt64},
			{Op: engine.OpPickup, ID: h.ID, Store: st, PickupCode: math.MaxUint64},
			{Op: engine.OpRestock, SKU: sku, Store: st, Qty: math.MaxInt64},
			{Op: engine.OpRestock, SKU: sku, Store: st, Qty: -5},
			{Op: engine.OpAdjustStock, SKU: sku, Store: st, Qty: math.MinInt64},
			{Op: engine.OpAdjustStock, SKU: sku, Store: st, Qty: -1000},
			{Op: engine.OpPutWindow, SKU: sku, Store: st, Window: 10, WindowEnd: 5, Quota: -1},
			{Op: engine.OpSetLimit, SKU: sku, Limit: -1},
		} {
			frame := protocol.AppendRequest(nil, op.NextID(), &cmd)
			if err := op.Send(frame); err != nil {
				t.Fatal(err)
			}
			f, err := op.Next()
			if err != nil {
				t.Fatalf("%s: %v", cmd.Op, err)
			}
			if f.Op == protocol.OpError {
				continue
			}
			var r engine.Result
			if err := protocol.DecodeResult(f.Payload, &r); err != nil || r.Code == engine.OK {
				t.Fatalf("%s qty=%d ttl=%d id=%d accepted: %v %+v", cmd.Op, cmd.Qty, cmd.TTL, cmd.ID, err, r)
			}
		}
	})

	t.Run("wrong roles", func(t *testing.T) {
		ret := onID(engine.OpReturn, h.ID)
		for _, c := range []struct {
			conn *wire.Conn
			cmd  engine.Command
		}{
			{web, putItem("X", "S1", 1)},
			{web, engine.Command{Op: engine.OpAdjustStock, SKU: []byte("X"), Store: []byte("S1"), Qty: 50}},
			{web, engine.Command{Op: engine.OpSetLimit, SKU: []byte("X"), Limit: 1}},
			{web, engine.Command{Op: engine.OpPutStore, Store: []byte("S1"), Zone: []byte("UTC")}},
			{web, engine.Command{Op: engine.OpBlock, Customer: []byte("victim")}},
			{web, engine.Command{Op: engine.OpPickup, ID: h.ID, Store: []byte("S1"), PickupCode: code}},
			{web, onID(engine.OpUnlock, h.ID)},
			{s2, engine.Command{Op: engine.OpPickup, ID: h.ID, Store: []byte("S1"), PickupCode: code}},
			{s2, engine.Command{Op: engine.OpPickup, Store: []byte("S1"), PickupCode: code}},
			{s2, ret},
			{s2, onID(engine.OpCancel, h.ID)},
		} {
			wantRefused(t, c.conn, engine.CodeUnauthorized, c.cmd)
		}
	})

	if !p.Alive() {
		t.Fatal("invd died")
	}
	if after := listItems(t, op); !reflect.DeepEqual(before, after) {
		t.Fatalf("hostile input changed the items:\nbefore %+v\nafter  %+v", before, after)
	}
	if after := want(t, op, engine.OK, onID(engine.OpGetReservation, h.ID)).Reservation; !reflect.DeepEqual(beforeRes, after) {
		t.Fatalf("hostile input changed the reservation:\nbefore %+v\nafter  %+v", beforeRes, after)
	}
}

// oversizedTokenHello encodes by hand (version u16, max_frame u32, accept
// u8, token str16, client str8) a HELLO whose token is over
// protocol.MaxTokenBytes, which AppendHello refuses to build.
func oversizedTokenHello() []byte {
	tok := strings.Repeat("t", protocol.MaxTokenBytes+1)
	var p []byte
	p = binary.LittleEndian.AppendUint16(p, 1)
	p = binary.LittleEndian.AppendUint32(p, 0)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint16(p, uint16(len(tok)))
	p = append(p, tok...)
	p = append(p, 0)
	return protocol.AppendFrame(nil, protocol.OpHello, 0, 1, p)
}
