// End-to-end tests of placement by store (docs/adr/0071) through a real
// invd of 16 shards: every SKU of a store lands in the store's shard; a
// store's window capacity binds two SKUs together (the second order is
// refused window_full); set_limit reaches the items of a SKU in every
// shard; the fields that moved are refused with a message that says what
// to send instead; an unknown time zone is refused where it enters; and a
// data folder written before placements were recorded (items placed by
// SKU and store) is refused at start with the way over.
package main_test

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
	"github.com/invsys/inv/protocol"
	"github.com/invsys/inv/raftstore"
)

func TestStores(t *testing.T) {
	const shards = 16
	p := startInvd(t, shards, "")
	c := dial(t, p)
	w := time.Now().Add(48 * time.Hour).Truncate(time.Hour).UnixNano()
	end := w + int64(2*time.Hour)
	const store = "TPE0427"

	t.Run("a store's SKUs share its shard and its window's capacity", func(t *testing.T) {
		st := want(t, c, engine.OK, engine.Command{Op: engine.OpPutStore, Store: []byte(store), Zone: []byte("Asia/Taipei")})
		if st.Store == nil || st.Store.Zone != "Asia/Taipei" {
			t.Fatalf("put_store: %+v", st.Store)
		}
		want(t, c, engine.OK, engine.Command{Op: engine.OpPutStoreWindow, Store: []byte(store), Window: w, WindowEnd: end, Quota: 1})
		var ids []uint64
		for _, sku := range []string{"CAKE", "TART"} {
			want(t, c, engine.OK, putItem(sku, store, 10))
			want(t, c, engine.OK, engine.Command{Op: engine.OpPutWindow, SKU: []byte(sku), Store: []byte(store),
				Window: w, WindowEnd: end, Quota: 5})
		}
		cake := reserve("CAKE", store, "amy", 1)
		cake.Window = w
		ids = append(ids, want(t, c, engine.OK, cake).ID)
		tart := reserve("TART", store, "ben", 1)
		tart.Window = w
		want(t, c, engine.CodeWindowFull, tart)
		want(t, c, engine.CodeWindowRequired, reserve("TART", store, "ben", 1))
		if sh := int(engine.ShardOfID(ids[0])); sh != protocol.ShardOfStore([]byte(store), shards) {
			t.Fatalf("the order was held in shard %d, the store's is %d", sh, protocol.ShardOfStore([]byte(store), shards))
		}
		got := want(t, c, engine.OK, engine.Command{Op: engine.OpGetStore, Store: []byte(store)})
		if s := got.Store; s == nil || len(s.Windows) != 1 || s.Windows[0].Used != 1 || s.Windows[0].Quota != 1 {
			t.Fatalf("get_store: %+v", got.Store)
		}
		want(t, c, engine.OK, onID(engine.OpCancel, ids[0]))
		want(t, c, engine.OK, tart)
	})

	t.Run("set_limit reaches every shard", func(t *testing.T) {
		stores := map[int]string{}
		for i := 0; len(stores) < 3; i++ {
			s := storeInShard("FIG", i, shards)
			stores[i] = s
			want(t, c, engine.OK, putItem("FIG", s, 5))
		}
		want(t, c, engine.OK, engine.Command{Op: engine.OpSetLimit, SKU: []byte("FIG"), Limit: 1})
		for _, s := range stores {
			if it := getItem(t, c, "FIG", s); it.Limit != 1 {
				t.Fatalf("FIG at %s: limit %d, want the SKU's 1", s, it.Limit)
			}
		}
		want(t, c, engine.CodeLimitExceeded, reserve("FIG", stores[1], "cat", 2))
	})

	t.Run("moved fields and unknown zones are refused with what to do", func(t *testing.T) {
		// Built by hand: the protocol's encoder leaves out fields an op
		// does not carry, as a client of an earlier version would not.
		str8 := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
		i64 := func(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
		payload := func(mask uint32, fields ...[]byte) []byte {
			b := binary.LittleEndian.AppendUint32(nil, mask)
			for _, f := range fields {
				b = append(b, f...)
			}
			return b
		}
		const bSKU, bStore, bStock, bLimit, bZone = 1 << 0, 1 << 1, 1 << 12, 1 << 13, 1 << 23
		for _, tc := range []struct {
			op      engine.Op
			payload []byte
			say     string
		}{
			{engine.OpPutItem, payload(bSKU|bStore|bStock|bLimit, str8("X"), str8(store), i64(1), i64(2)), "set_limit"},
			{engine.OpSetLimit, payload(bSKU|bStore|bLimit, str8("X"), str8(store), i64(2)), "no store"},
			{engine.OpPutStore, payload(bStore|bZone, str8(store), str8("Asia/Atlantis")), "Asia/Atlantis"},
		} {
			if err := c.Send(protocol.AppendFrame(nil, protocol.DomainOp(tc.op), 0, c.NextID(), tc.payload)); err != nil {
				t.Fatal(err)
			}
			f, err := c.Next()
			if err != nil {
				t.Fatal(err)
			}
			err = wire.ReplyError(f)
			if wire.CodeOf(err) != engine.CodeBadRequest || !strings.Contains(err.Error(), tc.say) {
				t.Errorf("%s: %v, want bad_request saying %q", tc.op, err, tc.say)
			}
		}
		want(t, c, engine.CodeUnknownItem, engine.Command{Op: engine.OpGetItem, SKU: []byte("X"), Store: []byte(store)})
		if st := want(t, c, engine.OK, engine.Command{Op: engine.OpGetStore, Store: []byte(store)}); st.Store.Zone != "Asia/Taipei" {
			t.Fatalf("a refused put_store changed the zone: %+v", st.Store)
		}
	})
}

// TestRefusesLegacyDataFolder: a data folder holding shards from before
// placements were recorded was written with items placed by SKU and store;
// invd refuses to serve it and says how to move the catalog over.
func TestRefusesLegacyDataFolder(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	n, err := raftstore.OpenNode(raftstore.Options{Dir: data, Shards: 2,
		Engine: engine.Config{PickupSecret: []byte("legacy folder secret")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: data, Shards: 2, Config: fastRaft})
	if err == nil {
		p.Kill()
		t.Fatal("invd served a data folder written under the placement by SKU and store")
	}
	for _, s := range []string{raftstore.LegacyPlacement, protocol.HashName, "invctl export", "invctl import"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the refusal does not say %q:\n%v", s, err)
		}
	}
}
