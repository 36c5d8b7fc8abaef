package clustertest

import (
	"context"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

// TestReadModes checks the read path of docs/adr/0033 on three nodes:
// linearizable reads see the write just acknowledged; stale reads are
// answered by any replica, a follower cut off from the others included,
// from its possibly old state and never with not_leader; and a leader cut
// off from the others does not answer a linearizable read.
func TestReadModes(t *testing.T) {
	const shards = 2
	c := startCluster(t, 3, shards)
	cl := dial(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sku, store := itemInShard(0, shards)
	if err := cl.PutItem(ctx, client.ItemSpec{SKU: sku, Store: store, Stock: 10}); err != nil {
		t.Fatal(err)
	}
	stock := int64(10)

	// Linearizable reads right after each write see it.
	for range 20 {
		if err := cl.Restock(ctx, client.StockChange{SKU: sku, Store: store, Qty: 1}); err != nil {
			t.Fatal(err)
		}
		stock++
		it, err := cl.GetItem(ctx, sku, store)
		if err != nil || it.Stock != stock {
			t.Fatalf("read after write: stock %d, %v; want %d", it.Stock, err, stock)
		}
	}

	var leader int
	waitFor(t, "a leader of shard 0", 20*time.Second, func() bool { leader = c.Leader(0); return leader >= 0 })
	follower := (leader + 1) % 3

	// Linearizable reads add nothing to the log (read index, the default).
	applied := func() uint64 {
		hs, err := c.ShardHashes(leader)
		if err != nil {
			t.Fatal(err)
		}
		return hs[0].Applied
	}
	before := applied()
	for range 30 {
		if it, err := cl.GetItem(ctx, sku, store); err != nil || it.Stock != stock {
			t.Fatalf("read: stock %d, %v; want %d", it.Stock, err, stock)
		}
	}
	if after := applied(); after > before+1 { // +1: a barrier if a new term began
		t.Errorf("30 reads moved shard 0's applied index from %d to %d", before, after)
	}
	linearAt := func(node int) (engine.Result, error) {
		wc, err := wire.Dial(c.Clients[node], 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer wc.Close()
		return wc.Do(&engine.Command{Op: engine.OpGetItem, SKU: []byte(sku), Store: []byte(store)})
	}

	// A follower refuses a linearizable read, and answers a stale one.
	if _, err := linearAt(follower); wire.CodeOf(err) != engine.CodeNotLeader {
		t.Errorf("linearizable read at a follower: %v, want not_leader", err)
	}
	waitFor(t, "the follower to apply the writes", 20*time.Second, func() bool {
		it, err := cl.GetItem(ctx, sku, store, client.StaleAt(c.Clients[follower]))
		if err != nil {
			t.Fatalf("stale read at a follower: %v", err)
		}
		return it.Stock == stock
	})

	// Cut the follower off: the others take writes it does not see; its
	// stale reads still answer, with the old stock.
	if err := c.Partition(follower); err != nil {
		t.Fatal(err)
	}
	if err := cl.Restock(ctx, client.StockChange{SKU: sku, Store: store, Qty: 5}); err != nil {
		t.Fatal(err)
	}
	old := stock
	stock += 5
	for range 5 {
		it, err := cl.GetItem(ctx, sku, store, client.StaleAt(c.Clients[follower]))
		if err != nil {
			t.Fatalf("stale read at a cut-off follower: %v", err)
		}
		if it.Stock != old {
			t.Fatalf("stale read at a cut-off follower: stock %d, want the old %d", it.Stock, old)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if it, err := cl.GetItem(ctx, sku, store); err != nil || it.Stock != stock {
		t.Fatalf("linearizable read with a follower cut off: stock %d, %v; want %d", it.Stock, err, stock)
	}
	// A BATCH of reads with the stale flag: the cut-off follower answers
	// every entry from its state; without the flag it refuses them.
	for _, stale := range []bool{true, false} {
		results := rawBatch(t, c.Clients[follower], stale, []engine.Command{
			{Op: engine.OpGetItem, SKU: []byte(sku), Store: []byte(store)},
			{Op: engine.OpGetItem, SKU: []byte(sku), Store: []byte(store)},
		})
		for i, r := range results {
			switch {
			case stale && (r.Op != protocol.DomainOp(engine.OpGetItem) || r.Result.Item == nil || r.Result.Item.Stock != old):
				t.Errorf("stale BATCH entry %d at the cut-off follower: %+v", i, r)
			case !stale && r.Op != protocol.OpNotLeader:
				t.Errorf("BATCH entry %d at the cut-off follower without the flag: %+v, want not_leader", i, r)
			}
		}
	}
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}

	// The stale flag is for reads only.
	wc, err := wire.Dial(c.Clients[leader], 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	frame := protocol.AppendRequest(nil, wc.NextID(), &engine.Command{Op: engine.OpRestock, SKU: []byte(sku), Store: []byte(store), Qty: 1})
	frame[5] |= byte(protocol.FlagStale)
	if err := wc.Send(frame); err != nil {
		t.Fatal(err)
	}
	if f, err := wc.Next(); err != nil {
		t.Fatal(err)
	} else if code := wire.CodeOf(wire.ReplyError(f)); code != engine.CodeProtocol {
		t.Errorf("restock with the stale flag: %v, want protocol", code)
	}
	wc.Close()

	// A leader cut off from the others: a linearizable read sent to it at
	// once must not be answered from its state, which the majority moves on
	// from; a stale read still is.
	waitFor(t, "a leader of shard 0 after healing", 20*time.Second, func() bool { leader = c.Leader(0); return leader >= 0 })
	if err := c.Partition(leader); err != nil {
		t.Fatal(err)
	}
	if r, err := linearAt(leader); err == nil {
		t.Errorf("linearizable read at a cut-off leader answered: %+v", r.Item)
	} else {
		t.Logf("linearizable read at a cut-off leader: %v", err)
	}
	if err := cl.Restock(ctx, client.StockChange{SKU: sku, Store: store, Qty: 7}); err != nil {
		t.Fatal(err)
	}
	stock += 7
	if r, err := linearAt(leader); err == nil {
		t.Errorf("linearizable read at a deposed leader answered: %+v", r.Item)
	}
	if it, err := cl.GetItem(ctx, sku, store, client.StaleAt(c.Clients[leader])); err != nil || it.Stock == stock {
		t.Errorf("stale read at the deposed leader: stock %d, %v; want the old state", it.Stock, err)
	}
	if it, err := cl.GetItem(ctx, sku, store); err != nil || it.Stock != stock {
		t.Fatalf("linearizable read on the majority: stock %d, %v; want %d", it.Stock, err, stock)
	}
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.WaitConverged(60 * time.Second); err != nil || n != shards {
		t.Fatalf("after healing: %d shards, %v", n, err)
	}
}

// rawBatch sends a BATCH of cmds to addr, with or without the stale flag,
// and returns its entries' results.
func rawBatch(t *testing.T, addr string, stale bool, cmds []engine.Command) []protocol.BatchResult {
	t.Helper()
	wc, err := wire.Dial(addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	frame := protocol.AppendBatchRequest(nil, wc.NextID(), cmds)
	if stale {
		frame[5] |= byte(protocol.FlagStale)
	}
	if err := wc.Send(frame); err != nil {
		t.Fatal(err)
	}
	f, err := wc.Next()
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.ReplyError(f); err != nil {
		t.Fatal(err)
	}
	rs, err := protocol.DecodeBatchResult(f.Payload, nil)
	if err != nil || len(rs) != len(cmds) {
		t.Fatalf("BATCH reply: %d entries, %v", len(rs), err)
	}
	return rs
}
