// This file holds the reference values of the control frames (HELLO, PING,
// TOPOLOGY, SUBSCRIBE, EVENT, SNAPSHOT, STATUS, ERROR, NOT_LEADER), of compressed frames and of
// the shard hash; see vectors_test.go for how they are used.
package protocol

import (
	"strconv"
	"time"

	"github.com/invsys/inv/engine"
)

var (
	vHello = Hello{Version: ProtocolVersion, MaxFrame: DefaultMaxFrameBytes,
		Accept: CompressionSet(0).With(CompressionS2).With(CompressionZstd),
		Token:  "tok_storefront_3f9a1c", Client: "inv-go/0.1 web-7"}
	vHelloReply = HelloReply{Version: ProtocolVersion, Compression: CompressionS2, NodeID: 1, Server: "invd 0.1.0",
		Limits: Limits{MaxFrame: DefaultMaxFrameBytes, MaxBatchOps: MaxBatchOps, MaxInFlight: 1024,
			MaxIDBytes: MaxIDBytes, MaxKeyBytes: MaxKeyBytes, CompressMinBytes: 4096}}
	vTopology = Topology{Version: 17, Hash: HashName,
		Nodes: []Node{{ID: 1, Addr: "10.0.0.11:7400"}, {ID: 2, Addr: "10.0.0.12:7400"}, {ID: 3, Addr: "10.0.0.13:7400"}},
		Shards: []ShardPlacement{
			{Leader: 1, Replicas: []uint32{1, 2, 3}},
			{Leader: 2, Replicas: []uint32{1, 2, 3}},
			{Leader: 3, Replicas: []uint32{1, 2, 3}},
			{Leader: 0, Replicas: []uint32{1, 2, 3}},
		}}
	vSnapshotReply = SnapshotReply{NodeID: 2, Shards: []SnapshotShard{
		{Shard: 0, Status: SnapshotTaken, Index: 1205},
		{Shard: 1, Status: SnapshotUnchanged, Index: 88},
		{Shard: 2, Status: SnapshotUnchanged},
		{Shard: 3, Status: SnapshotFailed, Message: "shutting down"},
	}}
	vStatusReply = StatusReply{NodeID: 2, UptimeMs: 3_723_000, Server: "invd 0.1.0", Shards: []StatusShard{
		{Shard: 0, State: RaftLeader, Leader: 2, Term: 3, LastLogIndex: 1210, LastLogTerm: 3, CommitIndex: 1210,
			AppliedIndex: 1209, LastSnapshotIndex: 1205, LastSnapshotTerm: 3},
		{Shard: 1, State: RaftFollower, Leader: 1, Term: 2, LastLogIndex: 88, LastLogTerm: 2, CommitIndex: 88,
			AppliedIndex: 88},
		{Shard: 2, State: RaftCandidate, Term: 5, LastLogIndex: 40, LastLogTerm: 4, CommitIndex: 40,
			AppliedIndex: 40, LastSnapshotIndex: 32, LastSnapshotTerm: 4},
	}}
	vEventReserved = Event{Shard: 3, Position: 1205, Ordinal: 0, Event: engine.Event{Kind: engine.EvReserved,
		At: vNow, ID: vID, SKU: string(vSKU), Store: string(vStore), Customer: string(vCustomer), Qty: 2,
		Window: vWindow, State: engine.StateHeld}}
	vEventConfirmed = Event{Shard: 3, Position: 1210, Ordinal: 4, Event: engine.Event{Kind: engine.EvConfirmed,
		At: vNow + int64(time.Minute), ID: vID, SKU: string(vSKU), Store: string(vStore),
		Customer: string(vCustomer), Qty: 2, Window: vWindow, State: engine.StateConfirmed, PickupCode: vCode}}
	vEventCustomer = Event{Shard: 1, Position: 88, Ordinal: 1, Event: engine.Event{Kind: engine.EvCustomer,
		At: vNow, Customer: string(vCustomer), Tier: 1, Blocked: true}}
	vShardCall = shardCall{Shard: 3, Command: engine.Command{Op: engine.OpBlock, Customer: vCustomer,
		Key: []byte("blk-7f3a")}}
	vEventStock = Event{Shard: 3, Position: 90, Event: engine.Event{Kind: engine.EvStockChanged,
		At: vNow, SKU: string(vSKU), Store: string(vStore), Qty: -3, Stock: 97,
		Actor: "night-shift", Reason: "3 broken in transit"}}
	vEventStorePut = Event{Shard: 3, Position: 91, Event: engine.Event{Kind: engine.EvStorePut,
		At: vNow, Store: string(vStore), Zone: "Asia/Taipei"}}
	vEventStoreWindow = Event{Shard: 3, Position: 92, Event: engine.Event{Kind: engine.EvStoreWindow,
		At: vNow, Store: string(vStore), Window: vWindow, Qty: 12}}
	vEventLimitSet = Event{Shard: 3, Position: 93, Event: engine.Event{Kind: engine.EvLimitSet,
		At: vNow, SKU: string(vSKU), Qty: 2}}
	vEventClaimAnchored = Event{Shard: 5, Position: 310, Event: engine.Event{Kind: engine.EvClaimAnchored,
		At: vNow, SKU: string(vSKU), Customer: string(vCustomer), Qty: 1}}
	vEventHoldRefused = Event{Shard: 3, Position: 1207, Event: engine.Event{Kind: engine.EvHoldRefused,
		At: vNow, ID: vID, SKU: string(vSKU), Store: string(vStore), Customer: string(vCustomer), Qty: 1,
		State: engine.StateCancelled}}
	vEventCouponRedeemed = Event{Shard: 3, Position: 1208, Event: engine.Event{Kind: engine.EvCouponRedeemed,
		At: vNow, ID: vSerial, SKU: string(vCouponSKU), Store: string(vStore), Customer: string(vCustomer), Qty: 1}}
)

// shardCall is a SHARD_CALL request as golden.json shows it.
type shardCall struct {
	Shard   uint16
	Command engine.Command
}

func controlVectors() []vector {
	v := func(name, about, kind string, value any, encode func([]byte) []byte, decode func(Frame) (any, error)) vector {
		return vector{name: name, about: about, kind: kind, value: value, encode: encode, decode: decode}
	}
	return []vector{
		v("hello", "first frame of a connection: version, max frame, accepts s2 and zstd, token, client name", "hello", vHello,
			func(dst []byte) []byte { return AppendHello(dst, 1, &vHello) },
			func(f Frame) (any, error) { var h Hello; err := DecodeHello(f.Payload, &h); return h, err }),
		v("hello_reply", "server chose s2; its node id and the limits it enforces", "hello_reply", vHelloReply,
			func(dst []byte) []byte { return AppendHelloReply(dst, 1, &vHelloReply) },
			func(f Frame) (any, error) { var h HelloReply; err := DecodeHelloReply(f.Payload, &h); return h, err }),
		v("ping", "liveness probe with a nonce", "ping", uint64(0x0123456789abcdef),
			func(dst []byte) []byte { return AppendPing(dst, 2, 0x0123456789abcdef, false) },
			func(f Frame) (any, error) { return DecodePing(f.Payload) }),
		v("pong", "the reply to ping: same op, reply flag, nonce echoed", "ping", uint64(0x0123456789abcdef),
			func(dst []byte) []byte { return AppendPing(dst, 2, 0x0123456789abcdef, true) },
			func(f Frame) (any, error) { return DecodePing(f.Payload) }),
		v("topology_request", "ask for the cluster map (empty payload)", "empty", nil,
			func(dst []byte) []byte { return AppendTopologyRequest(dst, 3) },
			func(f Frame) (any, error) { return nil, emptyPayload(f.Payload) }),
		v("topology", "3 nodes, 4 shards, shard 3 without a leader (election in progress)", "topology", vTopology,
			func(dst []byte) []byte { return AppendTopology(dst, 3, &vTopology) },
			func(f Frame) (any, error) { var t Topology; err := DecodeTopology(f.Payload, &t); return t, err }),
		v("subscribe", "follow shard 3 from raft index 1200", "subscribe", Subscribe{Shard: 3, From: 1200},
			func(dst []byte) []byte { return AppendSubscribe(dst, 4, &Subscribe{Shard: 3, From: 1200}) },
			func(f Frame) (any, error) { var s Subscribe; err := DecodeSubscribe(f.Payload, &s); return s, err }),
		v("subscribed", "the stream starts at 1200; the shard has applied up to 1250", "subscribed",
			Subscribed{Shard: 3, First: 1200, Last: 1250},
			func(dst []byte) []byte {
				return AppendSubscribed(dst, 4, &Subscribed{Shard: 3, First: 1200, Last: 1250})
			},
			func(f Frame) (any, error) { var s Subscribed; err := DecodeSubscribed(f.Payload, &s); return s, err }),
		v("snapshot_request", "operator: snapshot every shard of the node now (empty payload)", "empty", nil,
			func(dst []byte) []byte { return AppendSnapshotRequest(dst, 11) },
			func(f Frame) (any, error) { return nil, emptyPayload(f.Payload) }),
		v("snapshot_reply", "node 2: shard 0 snapshotted at 1205, shard 1 had nothing new since its snapshot at 88, "+
			"shard 2 has nothing to snapshot yet, shard 3 failed", "snapshot", vSnapshotReply,
			func(dst []byte) []byte { return AppendSnapshotReply(dst, 11, &vSnapshotReply) },
			func(f Frame) (any, error) {
				var r SnapshotReply
				err := DecodeSnapshotReply(f.Payload, &r)
				return r, err
			}),
		v("status_request", "operator: this node's raft state and indexes of each of its shards (empty payload)",
			"empty", nil,
			func(dst []byte) []byte { return AppendStatusRequest(dst, 12) },
			func(f Frame) (any, error) { return nil, emptyPayload(f.Payload) }),
		v("status_reply", "node 2, up 1h02m03s: leads shard 0 (snapshot at 1205, one entry not yet applied), "+
			"follows node 1 on shard 1 (no snapshot yet), is a candidate without a leader on shard 2", "status",
			vStatusReply,
			func(dst []byte) []byte { return AppendStatusReply(dst, 12, &vStatusReply) },
			func(f Frame) (any, error) {
				var r StatusReply
				err := DecodeStatusReply(f.Payload, &r)
				return r, err
			}),
		eventVector("event_reserved", "a hold was taken", vEventReserved),
		eventVector("event_confirmed", "a hold was confirmed: the notifier sends this pickup code", vEventConfirmed),
		eventVector("event_customer", "a customer was blocked by the no-show rule", vEventCustomer),
		eventVector("event_stock_changed", "the night-shift token removed 3 units, saying why; 97 left", vEventStock),
		eventVector("event_store_put", "a store's time zone was set", vEventStorePut),
		eventVector("event_store_window_put", "a store's pickup window takes 12 pre-orders across every SKU", vEventStoreWindow),
		eventVector("event_limit_set", "a SKU's per-customer limit is 2, at every store", vEventLimitSet),
		eventVector("event_claim_anchored", "the customer's home found the hold of a pending claim: it counts until released", vEventClaimAnchored),
		eventVector("event_hold_refused", "a provisional hold ended: the customer's home refused its claim", vEventHoldRefused),
		eventVector("event_coupon_redeemed", "a coupon serial was redeemed at a store: the invoicing record", vEventCouponRedeemed),
		errorVector("error_protocol", "the request's payload did not decode", 9,
			ErrorReply{Code: engine.CodeProtocol, Message: "payload ends inside a field"}),
		errorVector("error_busy", "too many requests in flight on this connection; retry after a back-off", 10,
			ErrorReply{Code: engine.CodeBusy, Message: "in-flight limit of 1024 reached"}),
		errorVector("error_no_hello", "a request before HELLO", 1,
			ErrorReply{Code: engine.CodeNoHello, Message: "send HELLO first"}),
		v("not_leader", "this node does not lead shard 3; node 2 does, at its client address", "not_leader",
			NotLeader{Shard: 3, LeaderID: 2, LeaderAddr: "10.0.0.12:7400"},
			func(dst []byte) []byte {
				return AppendNotLeader(dst, 7, &NotLeader{Shard: 3, LeaderID: 2, LeaderAddr: "10.0.0.12:7400"})
			},
			func(f Frame) (any, error) { var nl NotLeader; err := DecodeNotLeader(f.Payload, &nl); return nl, err }),
		v("not_leader_unknown", "no leader known (election in progress): ask TOPOLOGY again later", "not_leader",
			NotLeader{Shard: 3},
			func(dst []byte) []byte { return AppendNotLeader(dst, 7, &NotLeader{Shard: 3}) },
			func(f Frame) (any, error) { var nl NotLeader; err := DecodeNotLeader(f.Payload, &nl); return nl, err }),
		v("shard_call", "node to node: block customer M00012345 on shard 3 alone, with its key", "shard_call", vShardCall,
			func(dst []byte) []byte { return AppendShardCall(dst, 12, vShardCall.Shard, &vShardCall.Command) },
			func(f Frame) (any, error) {
				var sc shardCall
				var err error
				sc.Shard, err = DecodeShardCall(f.Payload, &sc.Command)
				return sc, err
			}),
		compressedVector("list_items_s2", CompressionS2),
		compressedVector("list_items_zstd", CompressionZstd),
	}
}

func eventVector(name, about string, ev Event) vector {
	return vector{name: name, about: about, kind: "event", value: ev,
		encode: func(dst []byte) []byte { return AppendEvent(dst, 4, &ev) },
		decode: func(f Frame) (any, error) { var got Event; err := DecodeEvent(f.Payload, &got); return got, err }}
}

func errorVector(name, about string, reqID uint32, e ErrorReply) vector {
	return vector{name: name, about: about, kind: "error", value: e,
		encode: func(dst []byte) []byte { return AppendError(dst, reqID, &e) },
		decode: func(f Frame) (any, error) {
			var got ErrorReply
			err := DecodeErrorReply(f.Payload, &got)
			return got, err
		}}
}

// compressedVector is a list_items reply of 24 similar items, large enough
// for compression to pay. Compressed bytes are not canonical (another
// compressor, or another version of this one, may produce different bytes
// for the same payload): other implementations check that the frame
// decompresses and decodes to the value, not that they compress to the
// same bytes.
func compressedVector(name string, c Compression) vector {
	items := make([]engine.ItemInfo, 24)
	for i := range items {
		items[i] = vItem
		items[i].Store = "TPE" + strconv.Itoa(1000+i)
	}
	r := engine.Result{Items: items}
	return vector{name: name, about: "a list_items reply of 24 items, payload compressed with " + c.String(),
		kind: "result", value: r,
		encode: func(dst []byte) []byte {
			return CompressFrame(dst, AppendResult(nil, 50, engine.OpListItems, &r), c)
		},
		decode: func(f Frame) (any, error) {
			var got engine.Result
			err := DecodeResult(f.Payload, &got)
			return got, err
		}}
}

func emptyPayload(p []byte) error {
	if len(p) != 0 {
		return errTrailing
	}
	return nil
}

func allVectors() []vector {
	var all []vector
	all = append(all, requestVectors()...)
	all = append(all, resultVectors()...)
	all = append(all, batchVectors()...)
	all = append(all, controlVectors()...)
	all = append(all, markVectors()...)
	all = append(all, reviewVectors()...)
	return all
}

// shardVector is a test vector of the routing hash.
type shardVector struct {
	SKU, Store string // item vector when Customer and Key are empty
	Customer   string
	Key        string // an idempotency key's home (ShardOfKey)
	Shards     int
}

// Items are placed by their store (docs/adr/0071): an item vector's hash
// is its store's, whatever the SKU, and two SKUs of one store share a shard.
var shardVectors = []shardVector{
	{Store: "TPE0427", Shards: 64},
	{Store: "KHH0113", Shards: 64},
	{SKU: "4710088412345", Store: "TPE0427", Shards: 64},
	{SKU: "4710088499999", Store: "TPE0427", Shards: 64},
	{SKU: "4710088412345", Store: "KHH0113", Shards: 16},
	{Store: "C", Shards: 1024},
	{Store: "BC", Shards: 1024},
	{Store: "", Shards: 7},
	{Customer: "M00012345", Shards: 64},
	{Key: "c2f7c5d0-3a64-4f3e-9d41-7b1f0c8a9e21", Shards: 16},
	{Key: "order-1001", Shards: 16},
	{Key: "order-1001", Shards: 64},
	{Key: "3f9c0e1d2b4a59687f8e7d6c5b4a3~000b", Shards: 16}, // homed: 11
	{Key: "3f9c0e1d2b4a59687f8e7d6c5b4a3~03e8", Shards: 16}, // homed: 1000 mod 16 = 8
	{Key: "3f9c0e1d2b4a59687f8e7d6c5b4a3~03E8", Shards: 16}, // upper-case digits: hashed
	{Key: "order~12", Shards: 16},                           // too short a suffix: hashed
}
