// Who changed stock (docs/adr/0100), on the wire of a real invd: a client
// frame that names its own actor is refused unauthorized and changes
// nothing, whatever its role; the same change without one is applied and
// recorded under the token's name, which the change feed then carries.
package main_test

import (
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/server"
)

func TestActorIsTheTokens(t *testing.T) {
	const token = "actor-test-token-0123456789abcdef"
	p := startInvd(t, 1, "token = operator "+server.HashToken(token)+" name=night-shift\n")
	c, err := wire.DialToken(p.Addr(), token, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sku, store := []byte("4710088412345"), []byte("TPE0427")
	put := engine.Command{Op: engine.OpUpdateItem, SKU: sku, Store: store, Set: engine.SetStock, Stock: 5, Reason: []byte("count")}
	forged := put
	forged.Actor = []byte("someone-else")
	if _, err := c.Do(&forged); wire.CodeOf(err) != engine.CodeUnauthorized {
		t.Fatalf("an update naming its actor: %v, want unauthorized", err)
	}
	if r, err := c.Do(&engine.Command{Op: engine.OpGetItem, SKU: sku, Store: store}); err != nil || r.Code != engine.CodeUnknownItem {
		t.Fatalf("after the refused update: %+v %v, want no item", r, err)
	}
	if _, err := c.Do(&put); err != nil {
		t.Fatal(err)
	}
	ev := firstFeedEvent(t, p.Addr(), token)
	if ev.Kind != engine.EvItemPut || ev.Actor != "night-shift" || ev.Reason != "count" || ev.Stock != 5 {
		t.Fatalf("the update's event: %+v", ev)
	}
}

// firstFeedEvent reads the first event of shard 0's change feed.
func firstFeedEvent(t *testing.T, addr, token string) engine.Event {
	t.Helper()
	sc, err := wire.DialToken(addr, token, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	_, id, err := sc.Subscribe(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := sc.Next()
	if err != nil || f.Op != protocol.OpEvent || f.ReqID != id {
		t.Fatalf("first frame of the feed: %v %v", f.Op, err)
	}
	var ev protocol.Event
	if err := protocol.DecodeEvent(f.Payload, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Event
}
