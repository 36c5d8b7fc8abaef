// Ids above 2^53 survive invctl's JSON: with 64 shards a reservation id
// carries its shard in the top bits, so the id of an item in shard 32 or
// above does not fit a double. Every id invctl prints as JSON (reserve,
// reservation get and list, tail) is a string; reading it back as jq does
// (numbers as doubles) keeps every digit, and the id found that way, or
// pasted with its JSON quotes, reaches the same reservation.
package main_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
)

func TestIDsAbove2to53(t *testing.T) {
	t.Parallel() // its own server: nothing shared with the other tests
	const shards = 64
	p, err := invdtest.Start(invdtest.Options{Bin: bins["invd"], Data: t.TempDir() + "/data", Shards: shards,
		Config: "heartbeat_timeout = 100ms\nelection_timeout = 100ms\nleader_lease_timeout = 50ms\n"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("invd log:\n%s", p.Logs())
		}
	})
	a := p.Addr()
	store := ""
	for i := 0; store == ""; i++ {
		if s := fmt.Sprint("S", i); protocol.ShardOfStore([]byte(s), shards) >= 48 {
			store = s
		}
	}
	ok(t, a, "item", "put", "--sku", "sku1", "--store", store, "--stock", "5")

	// As jq reads it: every number a double. The id must be a string.
	var loose map[string]any
	if err := json.Unmarshal([]byte(ok(t, a, "--json", "reserve", "--sku", "sku1", "--store", store, "--customer", "c1")), &loose); err != nil {
		t.Fatal(err)
	}
	idText, isString := loose["id"].(string)
	if !isString {
		t.Fatalf("reserve --json: id %v (%T), want a string", loose["id"], loose["id"])
	}
	id, err := strconv.ParseUint(idText, 10, 64)
	if err != nil || id <= 1<<53 || uint64(float64(id)) == id {
		t.Fatalf("id %q: want one above 2^53 that a double cannot hold (%v)", idText, err)
	}

	// The string reaches the reservation; so does its JSON form, quotes and all.
	var r struct {
		ID    strID
		State string
	}
	okJSON(t, a, &r, "reservation", "get", idText)
	if uint64(r.ID) != id || r.State != "held" {
		t.Fatalf("reservation get %s: %+v", idText, r)
	}
	code := ok(t, a, "confirm", strconv.Quote(idText))
	okJSON(t, a, &r, "reservation", "get", strconv.Quote(idText))
	if r.State != "confirmed" {
		t.Fatalf("after confirm %q: %+v", idText, r)
	}
	if out := ok(t, a, "pickup", "--store", store, "--code", code, "--id", strconv.Quote(idText)); out != idText+" picked_up" {
		t.Fatalf("pickup --id %s: %q", idText, out)
	}
	var list []map[string]any
	okJSON(t, a, &list, "reservation", "list", "--customer", "c1")
	if len(list) != 1 || list[0]["id"] != idText {
		t.Fatalf("reservation list: %v", list)
	}
	evs := tailLines(t, ok(t, a, "tail", "--json", "--shard", fmt.Sprint(protocol.ShardOfStore([]byte(store), shards)), "--count", "4"))
	seen := 0
	for _, ev := range evs {
		if uint64(ev.ID) == id {
			seen++
		}
	}
	if seen != 3 { // held, confirmed, picked up
		t.Errorf("tail: %d events of reservation %d, want 3: %+v", seen, id, evs)
	}
}
