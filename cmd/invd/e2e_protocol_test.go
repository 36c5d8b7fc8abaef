// The protocol's own machinery against a real invd: BATCH (split by shard,
// answered in order; chains, refusals and fan-outs inside), pipelining (a
// thousand requests in flight on one connection, matched by request id),
// TOPOLOGY, PING, SUBSCRIBE (live events, and a position the feed no longer
// holds), compression negotiated in HELLO, and the HTTP endpoints.
package main_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/bench/wire"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/protocol"
)

func TestProtocol(t *testing.T) {
	const shards = 4
	p := startInvd(t, shards, "feed_max_events = 64\nfeed_prune_interval = 20ms\n")
	c := dial(t, p)
	if c.Hello.NodeID != 1 || c.Hello.Limits.MaxBatchOps != protocol.MaxBatchOps || c.Hello.Limits.MaxInFlight == 0 {
		t.Fatalf("HELLO reply: %+v", c.Hello)
	}

	t.Run("ping", func(t *testing.T) {
		if err := c.Ping(0xC0FFEE); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("topology", func(t *testing.T) {
		top, err := c.Topology()
		if err != nil {
			t.Fatal(err)
		}
		if len(top.Shards) != shards || top.Hash != protocol.HashName || len(top.Nodes) != 1 ||
			top.Nodes[0].Addr != p.Addr() || top.Version == 0 {
			t.Fatalf("topology: %+v", top)
		}
		for i, s := range top.Shards {
			if s.Leader != 1 || len(s.Replicas) != 1 || s.Replicas[0] != 1 {
				t.Fatalf("shard %d placement: %+v", i, s)
			}
		}
	})

	t.Run("batch", func(t *testing.T) {
		// One item per shard, so the batch touches all of them.
		stores := make([]string, shards)
		for sh := range shards {
			stores[sh] = storeInShard("BT", sh, shards)
			want(t, c, engine.OK, putItem("BT", stores[sh], 3))
		}
		s0, s0b := stores[0], storeInShard2("BT", 0, shards, stores[0])
		want(t, c, engine.OK, putItem("BT", s0b, 1))
		cmds := []engine.Command{
			reserve("BT", stores[1], "bt-1", 1),
			reserve("BT", stores[2], "bt-1", 1),
			// A cart in shard 0 whose second line is sold out: all or nothing.
			linked(reserve("BT", s0, "bt-2", 1)),
			reserve("BT", s0b, "bt-2", 5),
			// A cart across shards: held shard by shard (docs/adr/0050).
			linked(reserve("BT", stores[1], "bt-3", 1)),
			reserve("BT", stores[2], "bt-3", 1),
			// Any other chain across shards: refused whole.
			linked(onID(engine.OpCancel, engine.MakeID(1, 999))),
			reserve("BT", stores[2], "bt-5", 1),
			// A fan-out and a read in the same frame.
			{Op: engine.OpGetCustomer, Customer: []byte("bt-1")},
			{Op: engine.OpGetItem, SKU: []byte("BT"), Store: []byte(stores[3])},
			reserve("BT", stores[3], "bt-4", 1),
		}
		rs, err := c.Batch(cmds)
		if err != nil {
			t.Fatal(err)
		}
		wantCodes := []engine.Code{engine.OK, engine.OK, engine.CodeLinkFailed, engine.CodeSoldOut,
			engine.OK, engine.OK, engine.CodeBadRequest, engine.CodeBadRequest, engine.OK, engine.OK, engine.OK}
		if len(rs) != len(cmds) {
			t.Fatalf("%d entries for %d commands", len(rs), len(cmds))
		}
		for i := range rs {
			if err := wire.ReplyErrorOf(&rs[i]); err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			if rs[i].Result.Code != wantCodes[i] {
				t.Fatalf("entry %d (%s): %s, want %s", i, cmds[i].Op, rs[i].Result.Code, wantCodes[i])
			}
		}
		if cu := rs[8].Result.Customer; cu == nil || cu.Open != 2 {
			t.Fatalf("get_customer in a batch: %+v", cu)
		}
		if it := getItem(t, c, "BT", s0); it.Held != 0 {
			t.Fatalf("a refused cart left %d units held", it.Held)
		}

		// A chain longer than the engine's limit, all in one shard.
		long := make([]engine.Command, engine.MaxLinked+1)
		for i := range long {
			long[i] = linked(reserve("BT", stores[3], fmt.Sprintf("long-%d", i), 1))
		}
		long[len(long)-1].Linked = false
		rs, err = c.Batch(long)
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Result.Code != engine.CodeTooMany {
			t.Fatalf("chain of %d: %s, want too_many", len(long), rs[0].Result.Code)
		}
	})

	t.Run("pipelining", func(t *testing.T) {
		const n = 1000
		for sh := range shards {
			want(t, c, engine.OK, putItem("PL", storeInShard("PL", sh, shards), n))
		}
		pc := dial(t, p)
		var frames []byte
		ids := map[uint32]bool{}
		for i := range n {
			cmd := reserve("PL", storeInShard("PL", i%shards, shards), fmt.Sprintf("pl-%d", i), 1)
			id := pc.NextID()
			ids[id] = true
			frames = protocol.AppendRequest(frames, id, &cmd)
		}
		if err := pc.Send(frames); err != nil { // every request in flight at once
			t.Fatal(err)
		}
		outOfOrder, last := 0, uint32(0)
		for len(ids) > 0 {
			f, err := pc.Next()
			if err != nil {
				t.Fatalf("%d replies missing: %v", len(ids), err)
			}
			if !ids[f.ReqID] {
				t.Fatalf("reply to unknown or repeated request %d", f.ReqID)
			}
			delete(ids, f.ReqID)
			if f.ReqID < last {
				outOfOrder++
			}
			last = f.ReqID
			var r engine.Result
			if err := wire.ReplyError(f); err != nil {
				t.Fatalf("request %d: %v", f.ReqID, err)
			}
			if err := protocol.DecodeResult(f.Payload, &r); err != nil || r.Code != engine.OK {
				t.Fatalf("request %d: %v %s", f.ReqID, err, r.Code)
			}
		}
		t.Logf("%d pipelined reserves answered, %d out of request order", n, outOfOrder)
	})

	t.Run("subscribe", func(t *testing.T) {
		store := storeInShard("SB", 2, shards)
		want(t, c, engine.OK, putItem("SB", store, 1000))
		sc := dial(t, p)
		sub, id, err := sc.Subscribe(2, 0)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Shard != 2 || sub.Last == 0 {
			t.Fatalf("subscribed: %+v", sub)
		}
		h := want(t, c, engine.OK, reserve("SB", store, "sb-1", 2))
		deadline := time.Now().Add(10 * time.Second)
		for {
			f, err := sc.Next()
			if err != nil {
				t.Fatal(err)
			}
			if f.Op != protocol.OpEvent || f.ReqID != id {
				t.Fatalf("unexpected frame %s id %d", f.Op, f.ReqID)
			}
			var ev protocol.Event
			if err := protocol.DecodeEvent(f.Payload, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Event.Kind == engine.EvReserved && ev.Event.ID == h.ID {
				if ev.Event.Qty != 2 || ev.Event.Customer != "sb-1" || ev.Position == 0 {
					t.Fatalf("reserved event: %+v", ev)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no reserved event")
			}
		}

		// Overflow the shard's retention (64 events), then ask for
		// position 1 until the pruner (every 20ms) has removed it.
		for i := range 70 {
			want(t, c, engine.OK, reserve("SB", store, fmt.Sprintf("sb-x%d", i), 1))
			want(t, c, engine.OK, onID(engine.OpCancel, do(t, c, reserve("SB", store, fmt.Sprintf("sb-y%d", i), 1)).ID))
		}
		for pruneWait := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			_, _, err = dial(t, p).Subscribe(2, 1)
			if wire.CodeOf(err) == engine.CodeNotFound {
				break
			}
			if time.Now().After(pruneWait) {
				t.Fatalf("subscribe from a pruned position: %v, want not_found", err)
			}
		}
		if _, _, err := dial(t, p).Subscribe(shards, 0); wire.CodeOf(err) != engine.CodeBadRequest {
			t.Fatalf("subscribe to shard %d of %d: %v", shards, shards, err)
		}
	})

	t.Run("compression", func(t *testing.T) {
		// Enough items in one shard that list_items is well over 4 KiB.
		for i := range 60 {
			want(t, c, engine.OK, putItem("ZIP", fmt.Sprintf("store-%03d", i), 10))
		}
		nc, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		var buf []byte
		buf = protocol.AppendHello(buf, 1, &protocol.Hello{Version: 1, Accept: protocol.CompressionSet(0).With(protocol.CompressionS2)})
		cmd := engine.Command{Op: engine.OpListItems, SKU: []byte("ZIP")}
		plain := protocol.AppendRequest(nil, 2, &cmd)
		buf = protocol.CompressFrame(buf, plain, protocol.CompressionS2) // requests may be compressed too
		if _, err := nc.Write(buf); err != nil {
			t.Fatal(err)
		}
		// Both replies are read frame by frame off the socket, without a
		// buffered reader: the HELLO reply and the next may arrive in one
		// read, and the second one's header must be seen as sent.
		_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		readRaw := func() []byte {
			raw := make([]byte, protocol.HeaderSize)
			if _, err := ioReadFull(nc, raw); err != nil {
				t.Fatal(err)
			}
			payload := make([]byte, binary.LittleEndian.Uint32(raw))
			if _, err := ioReadFull(nc, payload); err != nil {
				t.Fatal(err)
			}
			return append(raw, payload...)
		}
		f, _, err := protocol.ReadFrame(readRaw(), protocol.DefaultMaxFrameBytes)
		if err != nil {
			t.Fatal(err)
		}
		var hr protocol.HelloReply
		if err := protocol.DecodeHelloReply(f.Payload, &hr); err != nil || hr.Compression != protocol.CompressionS2 || hr.Limits.CompressMinBytes == 0 {
			t.Fatalf("HELLO reply: %+v %v", hr, err)
		}
		if raw := readRaw(); protocol.Flags(raw[5]).Compression() != protocol.CompressionS2 {
			t.Fatalf("large reply not compressed: flags %#x", raw[5])
		}
	})

	t.Run("http", func(t *testing.T) {
		code, body, err := p.HTTPGet("/healthz")
		if err != nil || code != 200 {
			t.Fatalf("/healthz: %d %q %v", code, body, err)
		}
		code, body, err = p.HTTPGet("/metrics")
		if err != nil || code != 200 {
			t.Fatalf("/metrics: %d %v", code, err)
		}
		for _, m := range []string{`inv_requests_total{op="reserve",result="ok"}`, `inv_requests_total{op="reserve",result="sold_out"}`,
			`inv_request_duration_seconds_bucket{op="reserve"`, "inv_active_holds", "inv_connections_open",
			"inv_raft_commands_per_entry", "inv_raft_commit_duration_seconds", "inv_batch_ops_count", "inv_raft_entries_total"} {
			if !strings.Contains(body, m) {
				t.Errorf("/metrics lacks %s", m)
			}
		}
	})
}

func linked(c engine.Command) engine.Command {
	c.Linked = true
	return c
}

// storeInShard2 returns a second store, other than not, in the same shard.
func storeInShard2(sku string, shard, shards int, not string) string {
	for i := 0; ; i++ {
		store := fmt.Sprintf("X%03d", i)
		if store != not && protocol.ShardOf([]byte(sku), []byte(store), shards) == shard {
			return store
		}
	}
}

func ioReadFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
