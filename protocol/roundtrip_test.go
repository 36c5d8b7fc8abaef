// This file proves decode(encode(v)) == v for random values of every kind
// the protocol carries: commands of every client op with any mix of zero
// and non-zero fields (extremes included), results with and without read
// data, events, batches, topologies. The seed is printed; a failure
// replays with -seed.
package protocol

import (
	"flag"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the random round trips (0: time)")

func newRand(t *testing.T) *rand.Rand {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed))
}

type gen struct{ r *rand.Rand }

// i64 returns zero a third of the time, an extreme sometimes, else anything.
func (g gen) i64() int64 {
	switch g.r.IntN(6) {
	case 0, 1:
		return 0
	case 2:
		return []int64{1, -1, math.MaxInt64, math.MinInt64}[g.r.IntN(4)]
	}
	return g.r.Int64() - g.r.Int64()
}

func (g gen) u64() uint64 { return uint64(g.i64()) }
func (g gen) u8() uint8   { return uint8(g.i64()) }

func (g gen) id(limit int) []byte {
	if g.r.IntN(3) == 0 {
		return nil
	}
	b := make([]byte, g.r.IntN(limit+1))
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	if len(b) == 0 {
		return nil // absent and empty are the same on the wire
	}
	return b
}

func (g gen) str() string { return string(g.id(MaxIDBytes)) }

func (g gen) command(op engine.Op) engine.Command {
	c := engine.Command{Op: op, SKU: g.id(MaxIDBytes), Store: g.id(MaxIDBytes), Customer: g.id(MaxIDBytes),
		Key: g.id(MaxKeyBytes), ID: g.u64(), Qty: g.i64(), Window: g.i64(), WindowEnd: g.i64(),
		Quota: g.i64(), TTL: time.Duration(g.i64()), PickupCode: g.u64(), Restock: g.r.IntN(2) == 0,
		Stock: g.i64(), Limit: g.i64(), OpensAt: g.i64(), ClosesAt: g.i64(), MemberTier: g.u8(),
		MemberUnits: g.i64(), MemberCutoff: g.i64(), Tier: g.u8(),
		Claim: g.id(MaxKeyBytes), Deadline: g.i64(), ItemShard: uint16(g.u64()), ClaimCode: engine.Code(g.u64()),
		FromShard: uint16(g.u64()), ToShard: uint16(g.u64()), Seq: g.u64(),
		Zone: []byte(rtZones[g.r.IntN(len(rtZones))]), // put_store's zone must be one the zone database knows
		Set:  engine.ItemSet(g.u8()), Reason: g.id(MaxReasonBytes), Actor: g.id(MaxIDBytes),
		Items: g.items()}
	return onlyFieldsOf(c)
}

// items returns 1 to 8 bulk put items, each field sometimes zero (an empty
// id included) and sometimes extreme; sometimes MaxBulkItems of them.
func (g gen) items() []engine.ItemPut {
	n := 1 + g.r.IntN(8)
	if g.r.IntN(20) == 0 {
		n = MaxBulkItems
	}
	items := make([]engine.ItemPut, n)
	for i := range items {
		items[i] = engine.ItemPut{SKU: nilIfEmpty(g.id(MaxIDBytes)), Store: nilIfEmpty(g.id(MaxIDBytes)),
			Set: engine.ItemSet(g.u8()), Stock: g.i64(), OpensAt: g.i64(), ClosesAt: g.i64(),
			MemberTier: g.u8(), MemberUnits: g.i64(), MemberCutoff: g.i64()}
	}
	return items
}

var rtZones = []string{"Asia/Taipei", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+8", "Europe/Paris"}

// onlyFieldsOf clears the fields op does not carry, as the wire drops them.
func onlyFieldsOf(c engine.Command) engine.Command {
	m := requestFields[c.Op]
	keep := func(f int) bool { return m&(1<<f) != 0 }
	out := engine.Command{Op: c.Op, Linked: c.Linked}
	if keep(fSKU) {
		out.SKU = c.SKU
	}
	if keep(fStore) {
		out.Store = c.Store
	}
	if keep(fCustomer) {
		out.Customer = c.Customer
	}
	if keep(fKey) {
		out.Key = c.Key
	}
	copyIf := func(f int, dst *int64, v int64) {
		if keep(f) {
			*dst = v
		}
	}
	if keep(fID) {
		out.ID = c.ID
	}
	copyIf(fQty, &out.Qty, c.Qty)
	copyIf(fWindow, &out.Window, c.Window)
	copyIf(fWindowEnd, &out.WindowEnd, c.WindowEnd)
	copyIf(fQuota, &out.Quota, c.Quota)
	if keep(fTTL) {
		out.TTL = c.TTL
	}
	if keep(fPickupCode) {
		out.PickupCode = c.PickupCode
	}
	out.Restock = keep(fRestock) && c.Restock
	copyIf(fStock, &out.Stock, c.Stock)
	copyIf(fLimit, &out.Limit, c.Limit)
	copyIf(fOpensAt, &out.OpensAt, c.OpensAt)
	copyIf(fClosesAt, &out.ClosesAt, c.ClosesAt)
	if keep(fMemberTier) {
		out.MemberTier = c.MemberTier
	}
	copyIf(fMemberUnits, &out.MemberUnits, c.MemberUnits)
	copyIf(fMemberCutoff, &out.MemberCutoff, c.MemberCutoff)
	if keep(fTier) {
		out.Tier = c.Tier
	}
	if keep(fClaim) {
		out.Claim = c.Claim
	}
	copyIf(fDeadline, &out.Deadline, c.Deadline)
	for _, f := range []struct {
		bit      int
		dst, src *uint16
	}{{fItemShard, &out.ItemShard, &c.ItemShard}, {fFromShard, &out.FromShard, &c.FromShard}, {fToShard, &out.ToShard, &c.ToShard}} {
		if keep(f.bit) {
			*f.dst = *f.src
		}
	}
	if keep(fClaimCode) {
		out.ClaimCode = c.ClaimCode
	}
	if keep(fSeq) {
		out.Seq = c.Seq
	}
	if keep(fZone) {
		out.Zone = c.Zone
	}
	if keep(fSet) {
		out.Set = c.Set
	}
	if keep(fReason) {
		out.Reason = c.Reason
	}
	if keep(fActor) {
		out.Actor = c.Actor
	}
	if keep(fItems) {
		out.Items = c.Items
	}
	return out
}

func clientOps() []engine.Op {
	var ops []engine.Op
	for op := engine.Op(1); op <= engine.OpLast; op++ {
		if clientOp(op) {
			ops = append(ops, op)
		}
	}
	return ops
}

func TestRoundTripRequests(t *testing.T) {
	g := gen{newRand(t)}
	ops := clientOps()
	for i := 0; i < 20000; i++ {
		want := g.command(ops[g.r.IntN(len(ops))])
		frame := AppendRequest(nil, uint32(i), &want)
		f, n, err := ReadFrame(frame, 0)
		if err != nil || n != len(frame) || f.ReqID != uint32(i) {
			t.Fatalf("%v: ReadFrame: %v", want.Op, err)
		}
		var got engine.Command
		if err := DecodeRequest(f.Op, f.Payload, &got); err != nil {
			t.Fatalf("%v: %v", want.Op, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestRoundTripBatches(t *testing.T) {
	g := gen{newRand(t)}
	ops := clientOps()
	for i := 0; i < 200; i++ {
		cmds := make([]engine.Command, 1+g.r.IntN(100))
		for j := range cmds {
			cmds[j] = g.command(ops[g.r.IntN(len(ops))])
			cmds[j].Linked = g.r.IntN(3) == 0
		}
		frame := AppendBatchRequest(nil, 1, cmds)
		got, err := DecodeBatchRequest(frame[HeaderSize:], nil)
		if err != nil || !reflect.DeepEqual(got, cmds) {
			t.Fatalf("batch round trip: %v", err)
		}
		results := make([]engine.Result, len(cmds))
		for j := range results {
			results[j] = g.result()
		}
		frame = AppendBatchResult(nil, 1, cmds, results)
		rs, err := DecodeBatchResult(frame[HeaderSize:], nil)
		if err != nil || len(rs) != len(results) {
			t.Fatalf("batch reply round trip: %v", err)
		}
		for j := range rs {
			if rs[j].Op != DomainOp(cmds[j].Op) || !reflect.DeepEqual(rs[j].Result, results[j]) {
				t.Fatalf("batch reply entry %d differs", j)
			}
		}
	}
}

func (g gen) item() engine.ItemInfo {
	it := engine.ItemInfo{SKU: g.str(), Store: g.str(), Stock: g.i64(), Held: g.i64(), Confirmed: g.i64(),
		PickedUp: g.i64(), Available: g.i64(), Limit: g.i64(), OpensAt: g.i64(), ClosesAt: g.i64(),
		MemberTier: g.u8(), MemberUnits: g.i64(), MemberUsed: g.i64(), MemberCutoff: g.i64()}
	if n := g.r.IntN(4); n > 0 {
		it.Windows = make([]engine.WindowInfo, n)
		for i := range it.Windows {
			it.Windows[i] = engine.WindowInfo{Start: g.i64(), End: g.i64(), Quota: g.i64(), Used: g.i64()}
		}
	}
	return it
}

func (g gen) reservation() engine.ReservationInfo {
	return engine.ReservationInfo{ID: g.u64(), SKU: g.str(), Store: g.str(), Customer: g.str(), Qty: g.i64(),
		Window: g.i64(), State: engine.State(g.u8()), CreatedAt: g.i64(), ExpiresAt: g.i64(),
		UpdatedAt: g.i64(), PickupCode: g.u64(), Attempts: g.i64(), Locked: g.r.IntN(2) == 0}
}

func (g gen) result() engine.Result {
	r := engine.Result{Code: engine.Code(g.u8()), ID: g.u64(), State: engine.State(g.u8()), Qty: g.i64(),
		Window: g.i64(), ExpiresAt: g.i64(), PickupCode: g.u64()}
	switch g.r.IntN(10) {
	case 0:
		it := g.item()
		r.Item = &it
	case 1:
		r.WindowInfo = &engine.WindowInfo{Start: g.i64(), End: g.i64(), Quota: g.i64(), Used: g.i64()}
	case 2:
		res := g.reservation()
		r.Reservation = &res
	case 3:
		r.Customer = &engine.CustomerInfo{ID: g.str(), Tier: g.u8(), Blocked: g.r.IntN(2) == 0,
			AutoBlocked: g.r.IntN(2) == 0, NoShows: g.i64(), Open: g.i64()}
	case 4:
		for n := 1 + g.r.IntN(5); n > 0; n-- {
			r.Reservations = append(r.Reservations, g.reservation())
		}
	case 5:
		for n := 1 + g.r.IntN(5); n > 0; n-- {
			r.Stores = append(r.Stores, engine.StoreStock{Store: g.str(), Available: g.i64()})
		}
	case 6:
		for n := 1 + g.r.IntN(5); n > 0; n-- {
			r.Items = append(r.Items, g.item())
		}
	case 7:
		st := engine.StoreInfo{Store: g.str(), Zone: string(g.id(MaxZoneBytes))}
		for n := g.r.IntN(4); n > 0; n-- {
			st.Windows = append(st.Windows, engine.WindowInfo{Start: g.i64(), End: g.i64(), Quota: g.i64(), Used: g.i64()})
		}
		r.Store = &st
	}
	return r
}

func TestRoundTripResults(t *testing.T) {
	g := gen{newRand(t)}
	for i := 0; i < 20000; i++ {
		want := g.result()
		frame := AppendResult(nil, 1, engine.OpGetItem, &want)
		var got engine.Result
		if err := DecodeResult(frame[HeaderSize:], &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestRoundTripEvents(t *testing.T) {
	g := gen{newRand(t)}
	for i := 0; i < 20000; i++ {
		want := Event{Shard: uint16(g.u64()), Position: g.u64(), Ordinal: uint32(g.u64()),
			Event: engine.Event{Kind: engine.EventKind(1 + g.r.IntN(16)), At: g.i64(), ID: g.u64(),
				SKU: g.str(), Store: g.str(), Customer: g.str(), Qty: g.i64(), Window: g.i64(),
				State: engine.State(g.u8()), PickupCode: g.u64(), Stock: g.i64(), Tier: g.u8(),
				Blocked: g.r.IntN(2) == 0, Actor: g.str(), Reason: g.str()}}
		frame := AppendEvent(nil, 4, &want)
		var got Event
		if err := DecodeEvent(frame[HeaderSize:], &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestRoundTripTopology(t *testing.T) {
	g := gen{newRand(t)}
	for i := 0; i < 2000; i++ {
		want := Topology{Version: g.u64(), Hash: HashName}
		for n := g.r.IntN(8); n > 0; n-- {
			want.Nodes = append(want.Nodes, Node{ID: uint32(g.u64()), Addr: g.str()})
		}
		want.Shards = make([]ShardPlacement, 1+g.r.IntN(300))
		for s := range want.Shards {
			want.Shards[s].Leader = uint32(g.u64())
			for n := g.r.IntN(MaxReplicas + 1); n > 0; n-- {
				want.Shards[s].Replicas = append(want.Shards[s].Replicas, uint32(g.u64()))
			}
		}
		frame := AppendTopology(nil, 3, &want)
		var got Topology
		if err := DecodeTopology(frame[HeaderSize:], &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestRoundTripStatus(t *testing.T) {
	g := gen{newRand(t)}
	for i := 0; i < 2000; i++ {
		want := StatusReply{NodeID: uint32(g.u64()), UptimeMs: g.u64(), Server: string(g.id(MaxNameBytes))}
		shard := 0
		for n := g.r.IntN(300); n > 0 && shard < MaxShards; n-- {
			shard += 1 + g.r.IntN(20)
			s := StatusShard{Shard: uint16(shard - 1), State: RaftState(1 + g.r.IntN(4)), Leader: uint32(g.u64()),
				Term: g.u64(), LastLogIndex: g.u64(), LastLogTerm: g.u64(), CommitIndex: g.u64(),
				AppliedIndex: g.u64(), LastSnapshotIndex: g.u64(), LastSnapshotTerm: g.u64()}
			want.Shards = append(want.Shards, s)
		}
		frame := AppendStatusReply(nil, 8, &want)
		var got StatusReply
		if err := DecodeStatusReply(frame[HeaderSize:], &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
		}
	}
}
