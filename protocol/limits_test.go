// This file proves that every limit of limits.go holds at its edge: a value
// exactly at the limit is accepted and one past it is refused with
// ErrTooLarge and a message naming both numbers. Payloads are built by hand
// (not with the encoders, which refuse to write them) so that the decoders
// see exactly what a hostile peer could send.
package protocol

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/invsys/inv/engine"
)

func wantTooLarge(t *testing.T, what string, err error, numbers ...string) {
	t.Helper()
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%s: got %v, want ErrTooLarge", what, err)
	}
	if CodeOf(err) != engine.CodeTooLarge {
		t.Fatalf("%s: code %v", what, CodeOf(err))
	}
	for _, n := range numbers {
		if !strings.Contains(err.Error(), n) {
			t.Fatalf("%s: message %q does not name %s", what, err, n)
		}
	}
}

func TestFrameLimit(t *testing.T) {
	for _, maxFrame := range []int{0, 64, 4096, DefaultMaxFrameBytes, 3 << 20} {
		limit := normMaxFrame(maxFrame)
		at := AppendFrame(nil, OpPing, 0, 1, make([]byte, limit-HeaderSize))
		f, n, err := ReadFrame(at, maxFrame)
		if err != nil || n != limit || len(f.Payload) != limit-HeaderSize {
			t.Fatalf("max %d: frame at the limit: n=%d err=%v", maxFrame, n, err)
		}
		over := AppendFrame(nil, OpPing, 0, 1, make([]byte, limit-HeaderSize+1))
		// Refused from its first 4 bytes, before the rest arrives.
		for _, prefix := range [][]byte{over[:4], over} {
			_, n, err = ReadFrame(prefix, maxFrame)
			wantTooLarge(t, "frame one byte over", err, itoa(limit+1), itoa(limit))
			if n != 0 {
				t.Fatalf("n=%d for a refused frame", n)
			}
		}
	}
	// The largest length a header can declare, and a configured limit past the ceiling.
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0}
	_, _, err := ReadFrame(huge, 1<<40)
	wantTooLarge(t, "4 GiB frame", err, itoa(MaxFrameBytesLimit))
}

func TestTruncatedFrames(t *testing.T) {
	for _, v := range allVectors() {
		frame := v.encode(nil)
		for i := 0; i < len(frame); i++ {
			if _, n, err := ReadFrame(frame[:i], 0); err != ErrIncomplete || n != 0 {
				t.Fatalf("%s cut at %d: n=%d err=%v", v.name, i, n, err)
			}
		}
		f, _, _ := ReadFrame(frame, 0)
		if f.Compression() != CompressionNone {
			continue
		}
		// A payload cut short anywhere is an error, never a panic or a value.
		for i := 0; i < len(f.Payload); i++ {
			g := f
			g.Payload = f.Payload[:i]
			if _, err := v.decode(g); err == nil {
				t.Fatalf("%s: payload cut at %d of %d decoded", v.name, i, len(f.Payload))
			}
		}
		// So is a payload with a byte too many.
		g := f
		g.Payload = append(bytes.Clone(f.Payload), 0)
		if _, err := v.decode(g); err == nil && v.kind != "empty" {
			t.Fatalf("%s: trailing byte accepted", v.name)
		}
	}
}

func TestHeaderFlags(t *testing.T) {
	for _, flags := range []Flags{0x06, 0x10, 0x20, 0x80, 0xF9} {
		frame := AppendFrame(nil, OpPing, flags, 1, make([]byte, 8))
		_, n, err := ReadFrame(frame, 0)
		if !errors.Is(err, ErrMalformed) || n != len(frame) {
			t.Errorf("flags %#x: n=%d err=%v; want ErrMalformed and the frame's size", flags, n, err)
		}
	}
	// The stale flag (bit 3) is no longer reserved: a frame with it reads.
	frame := AppendFrame(nil, DomainOp(engine.OpGetItem), FlagStale, 1, nil)
	f, n, err := ReadFrame(frame, 0)
	if err != nil || n != len(frame) || !f.Flags.Stale() {
		t.Errorf("stale flag: n=%d err=%v stale=%v; want the frame read with the flag", n, err, f.Flags.Stale())
	}
}

func TestUnknownOps(t *testing.T) {
	// 0x1B-0x1D: the retired claim ops (settle_claim, extend_claim,
	// claim_released), never sent again; the others never were ops.
	unknown := []Op{0x00, 0x0B, 0x0D, 0x10, DomainOp(engine.OpExpire), 0x1B, 0x1C, 0x1D, 0x2E, 0x45, 0xFF}
	for _, op := range unknown {
		// Framing does not depend on the op: the frame reads, the server answers it.
		frame := AppendFrame(nil, op, 0, 9, []byte{0, 0, 0, 0})
		if _, n, err := ReadFrame(frame, 0); err != nil || n != len(frame) {
			t.Fatalf("op %#x: ReadFrame n=%d err=%v", op, n, err)
		}
		var cmd engine.Command
		err := DecodeRequest(op, []byte{0, 0, 0, 0}, &cmd)
		if !errors.Is(err, ErrUnknownOp) || CodeOf(err) != engine.CodeUnknownOp {
			t.Errorf("op %#x: DecodeRequest gave %v", op, err)
		}
		if op.Known() && op != 0x00 {
			t.Errorf("op %#x reported known", op)
		}
	}
	if err := CheckRequest(&engine.Command{Op: engine.OpExpire}); !errors.Is(err, ErrUnknownOp) {
		t.Errorf("expire from a client: %v", err)
	}
	// An unknown op inside a batch refuses the whole batch.
	b := appendU16(nil, 2)
	b = appendEntry(b, DomainOp(engine.OpCancel), 0, appendU32(nil, 0))
	b = appendEntry(b, 0x45, 0, appendU32(nil, 0))
	if _, err := DecodeBatchRequest(b, nil); !errors.Is(err, ErrUnknownOp) {
		t.Errorf("batch with an unknown op: %v", err)
	}
}

func appendEntry(b []byte, op Op, flags EntryFlags, body []byte) []byte {
	b = append(b, byte(op), byte(flags))
	b = appendU32(b, uint32(len(body)))
	return append(b, body...)
}

// str8Request builds a request payload of op with one str8 field of n bytes.
func str8Request(field int, n int) []byte {
	b := appendU32(nil, 1<<field)
	b = append(b, byte(n))
	return append(b, bytes.Repeat([]byte{'7'}, n)...)
}

func TestIDAndKeyLimits(t *testing.T) {
	cases := []struct {
		op    engine.Op
		field int
		limit int
	}{
		{engine.OpGetItem, fSKU, MaxIDBytes},
		{engine.OpGetItem, fStore, MaxIDBytes},
		{engine.OpGetCustomer, fCustomer, MaxIDBytes},
		{engine.OpCancel, fKey, MaxKeyBytes},
	}
	for _, c := range cases {
		name := requestFieldNames[c.field]
		var cmd engine.Command
		if err := DecodeRequest(DomainOp(c.op), str8Request(c.field, c.limit), &cmd); err != nil {
			t.Fatalf("%s of %d bytes: %v", name, c.limit, err)
		}
		if err := CheckRequest(&cmd); err != nil {
			t.Fatalf("%s of %d bytes: CheckRequest %v", name, c.limit, err)
		}
		err := DecodeRequest(DomainOp(c.op), str8Request(c.field, c.limit+1), &cmd)
		wantTooLarge(t, name, err, name, itoa(c.limit+1), itoa(c.limit))

		long := bytes.Repeat([]byte{'7'}, c.limit+1)
		big := engine.Command{Op: c.op, SKU: long, Store: long, Customer: long, Key: long}
		wantTooLarge(t, "CheckRequest "+name, CheckRequest(&big), itoa(c.limit+1))
		mustPanic(t, "AppendRequest "+name, func() { AppendRequest(nil, 1, &big) })
	}
}

func mustPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatalf("%s: no panic", what)
		}
	}()
	fn()
}

func TestBatchLimit(t *testing.T) {
	cmds := make([]engine.Command, MaxBatchOps+1)
	for i := range cmds {
		cmds[i] = engine.Command{Op: engine.OpReserve, SKU: vSKU, Store: vStore, Customer: vCustomer, Qty: 1}
	}
	frame := AppendBatchRequest(nil, 1, cmds[:MaxBatchOps])
	f, _, err := ReadFrame(frame, 0)
	if err != nil {
		t.Fatalf("batch of %d reserves (%d bytes) over the default frame: %v", MaxBatchOps, len(frame), err)
	}
	got, err := DecodeBatchRequest(f.Payload, nil)
	if err != nil || len(got) != MaxBatchOps {
		t.Fatalf("batch at the limit: %d, %v", len(got), err)
	}
	// One entry more: the count alone refuses it.
	over := bytes.Clone(f.Payload)
	le.PutUint16(over, MaxBatchOps+1)
	over = appendEntry(over, DomainOp(engine.OpCancel), 0, appendU32(nil, 0))
	_, err = DecodeBatchRequest(over, nil)
	wantTooLarge(t, "batch", err, itoa(MaxBatchOps+1), itoa(MaxBatchOps))
	mustPanic(t, "AppendBatchRequest over the limit", func() { AppendBatchRequest(nil, 1, cmds) })
	if _, err := DecodeBatchRequest(appendU16(nil, 0), nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty batch: %v", err)
	}
}

// listPayload builds a result payload whose list at bit declares n entries
// of entry bytes each.
func listPayload(bit int, n int, entry []byte) []byte {
	b := appendU16(nil, 0)
	b = appendU16(b, 1<<bit)
	b = appendU16(b, uint16(n))
	for i := 0; i < n; i++ {
		b = append(b, entry...)
	}
	return b
}

func TestListLimits(t *testing.T) {
	res := appendReservation(nil, &vRes)
	store := appendStr8(nil, vStore, MaxIDBytes, "")
	store = appendI64(store, 5)
	item := appendItem(nil, &vItem2)
	cases := []struct {
		name  string
		bit   int
		limit int
		entry []byte
	}{
		{"reservations", rReservations, MaxListReservations, res},
		{"stores", rStores, MaxListStores, store},
		{"items", rItems, MaxListItems, item},
	}
	for _, c := range cases {
		var r engine.Result
		if err := DecodeResult(listPayload(c.bit, c.limit, c.entry), &r); err != nil {
			t.Fatalf("%s at %d: %v", c.name, c.limit, err)
		}
		if err := CheckResult(&r); err != nil {
			t.Fatalf("%s at %d: CheckResult %v", c.name, c.limit, err)
		}
		err := DecodeResult(listPayload(c.bit, c.limit+1, c.entry), &r)
		wantTooLarge(t, c.name, err, c.name, itoa(c.limit+1), itoa(c.limit))
		// A count the remaining bytes cannot hold is refused before allocating.
		if err := DecodeResult(listPayload(c.bit, c.limit, nil), &r); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: %d declared, none sent: %v", c.name, c.limit, err)
		}
	}
	big := engine.Result{Stores: make([]engine.StoreStock, MaxListStores+1)}
	wantTooLarge(t, "CheckResult stores", CheckResult(&big), itoa(MaxListStores+1))
	mustPanic(t, "AppendResult stores over the limit", func() { AppendResult(nil, 1, engine.OpStoresWithStock, &big) })
}

func TestWindowLimit(t *testing.T) {
	it := vItem2
	it.Windows = make([]engine.WindowInfo, MaxWindowsPerItem)
	for i := range it.Windows {
		it.Windows[i] = engine.WindowInfo{Start: int64(i + 1), End: int64(i + 2), Quota: 1}
	}
	frame := AppendResult(nil, 1, engine.OpGetItem, &engine.Result{Item: &it})
	var r engine.Result
	if err := DecodeResult(frame[HeaderSize:], &r); err != nil || len(r.Item.Windows) != MaxWindowsPerItem {
		t.Fatalf("item with %d windows: %v", MaxWindowsPerItem, err)
	}
	// Declare one window more and append one.
	p := bytes.Clone(frame[HeaderSize:])
	at := len(p) - MaxWindowsPerItem*windowBytes - 2
	le.PutUint16(p[at:], MaxWindowsPerItem+1)
	p = append(p, make([]byte, windowBytes)...)
	err := DecodeResult(p, &r)
	wantTooLarge(t, "windows", err, itoa(MaxWindowsPerItem+1), itoa(MaxWindowsPerItem))
}

func TestControlLimits(t *testing.T) {
	// Each case builds a payload with one field or count of n.
	cases := []struct {
		name   string
		limit  int
		build  func(n int) []byte
		decode func(p []byte) error
	}{
		{"token", MaxTokenBytes, func(n int) []byte {
			b := appendU16(nil, 1)
			b = appendU32(b, 0)
			b = append(b, 0)
			b = appendStr16(b, strings.Repeat("t", n), 1<<16, "")
			return append(b, 0)
		}, func(p []byte) error { return DecodeHello(p, &Hello{}) }},
		{"client name", MaxNameBytes, func(n int) []byte {
			b := appendU16(nil, 1)
			b = appendU32(b, 0)
			b = append(b, 0, 0, 0)
			return appendStr8(b, strings.Repeat("c", n), 255, "")
		}, func(p []byte) error { return DecodeHello(p, &Hello{}) }},
		{"error message", MaxMessageBytes, func(n int) []byte {
			return appendStr16(appendU16(nil, uint16(engine.CodeBusy)), strings.Repeat("m", n), 1<<16, "")
		}, func(p []byte) error { return DecodeErrorReply(p, &ErrorReply{}) }},
		{"hash name", MaxHashNameBytes, func(n int) []byte {
			b := appendStr8(appendU64(nil, 1), strings.Repeat("h", n), 255, "")
			b = appendU16(b, 0)                  // no nodes
			b = appendU16(b, 1)                  // one shard
			return appendU16(appendU32(b, 0), 0) // no leader, no replicas
		}, func(p []byte) error { return DecodeTopology(p, &Topology{}) }},
		{"nodes", MaxNodes, func(n int) []byte { return topologyPayload(n, 1, 0) },
			func(p []byte) error { return DecodeTopology(p, &Topology{}) }},
		{"shards", MaxShards, func(n int) []byte { return topologyPayload(1, n, 3) },
			func(p []byte) error { return DecodeTopology(p, &Topology{}) }},
		{"replicas", MaxReplicas, func(n int) []byte { return topologyPayload(1, 2, n) },
			func(p []byte) error { return DecodeTopology(p, &Topology{}) }},
		{"status server name", MaxNameBytes, func(n int) []byte {
			b := appendStr8(appendU64(appendU32(nil, 1), 0), strings.Repeat("s", n), 255, "")
			return appendU16(b, 0)
		}, func(p []byte) error { return DecodeStatusReply(p, &StatusReply{}) }},
		{"status shards", MaxShards, statusPayload, func(p []byte) error { return DecodeStatusReply(p, &StatusReply{}) }},
	}
	for _, c := range cases {
		if err := c.decode(c.build(c.limit)); err != nil {
			t.Fatalf("%s at %d: %v", c.name, c.limit, err)
		}
		wantTooLarge(t, c.name, c.decode(c.build(c.limit+1)), itoa(c.limit+1), itoa(c.limit))
	}
}

// statusPayload builds a STATUS reply of shards followers, shards 0, 1, ...
func statusPayload(shards int) []byte {
	b := appendStr8(appendU64(appendU32(nil, 1), 0), "invd", 255, "")
	b = appendU16(b, uint16(shards))
	for i := 0; i < shards; i++ {
		b = appendU32(appendU8(appendU16(b, uint16(i)), uint8(RaftFollower)), 1)
		b = append(b, make([]byte, 7*8)...)
	}
	return b
}

// TestStatusRefusals: a STATUS reply with an unknown raft state or shards
// out of order is malformed, and encoding one is a bug (panic).
func TestStatusRefusals(t *testing.T) {
	for name, r := range map[string]StatusReply{
		"state 0":      {Shards: []StatusShard{{State: 0}}},
		"state 5":      {Shards: []StatusShard{{State: 5}}},
		"repeated":     {Shards: []StatusShard{{Shard: 1, State: RaftLeader}, {Shard: 1, State: RaftLeader}}},
		"out of order": {Shards: []StatusShard{{Shard: 2, State: RaftLeader}, {Shard: 1, State: RaftLeader}}},
		"long name":    {Server: strings.Repeat("n", MaxNameBytes+1)},
		"too many":     {Shards: make([]StatusShard, MaxShards+1)},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: encoded", name)
				}
			}()
			AppendStatusReply(nil, 1, &r)
		}()
	}
	ok := AppendStatusReply(nil, 1, &StatusReply{Shards: []StatusShard{{Shard: 1, State: RaftLeader},
		{Shard: 2, State: RaftFollower}}})[HeaderSize:]
	state := 4 + 8 + 1 + 2 + 2 // node, uptime, empty server, count, shard id of the first entry
	for name, mutate := range map[string]func(b []byte){
		"state 0":      func(b []byte) { b[state] = 0 },
		"state 5":      func(b []byte) { b[state] = 5 },
		"out of order": func(b []byte) { b[state-2] = 3 },
	} {
		b := append([]byte(nil), ok...)
		mutate(b)
		if err := DecodeStatusReply(b, &StatusReply{}); CodeOf(err) != engine.CodeProtocol {
			t.Errorf("%s: decoded with %v, want protocol_error", name, err)
		}
	}
	if err := DecodeStatusReply(ok, &StatusReply{}); err != nil {
		t.Fatalf("the unmutated reply: %v", err)
	}
}

// topologyPayload builds a TOPOLOGY reply of nodes nodes and shards shards
// with replicas replicas each.
func topologyPayload(nodes, shards, replicas int) []byte {
	b := appendStr8(appendU64(nil, 1), HashName, 255, "")
	b = appendU16(b, uint16(nodes))
	for i := 0; i < nodes; i++ {
		b = appendStr8(appendU32(b, uint32(i+1)), "10.0.0.1:7400", 255, "")
	}
	b = appendU16(b, uint16(shards))
	for i := 0; i < shards; i++ {
		b = appendU16(appendU32(b, 1), uint16(replicas))
		for j := 0; j < replicas; j++ {
			b = appendU32(b, uint32(j+1))
		}
	}
	return b
}

func TestDecompressLimit(t *testing.T) {
	const maxFrame = 4096
	limit := maxFrame - HeaderSize
	for _, c := range []Compression{CompressionS2, CompressionZstd} {
		for _, size := range []int{limit, limit + 1} {
			payload := bytes.Repeat([]byte("inv "), size/4+1)[:size]
			frame := CompressFrame(nil, AppendFrame(nil, OpPing, 0, 1, payload), c)
			f, _, err := ReadFrame(frame, maxFrame)
			if err != nil || f.Compression() != c {
				t.Fatalf("%v: compressed frame of %d bytes: %v %v", c, len(frame), err, f.Compression())
			}
			out, buf, err := DecompressFrame(nil, f, maxFrame)
			if size == limit {
				if err != nil || !bytes.Equal(out.Payload, payload) {
					t.Fatalf("%v: payload at the limit: %v", c, err)
				}
				if cap(buf) > limit {
					t.Fatalf("%v: buffer of %d for %d bytes", c, cap(buf), limit)
				}
				continue
			}
			wantTooLarge(t, c.String()+" payload over the limit", err, itoa(limit))
		}
	}
}

func TestCanonicalEncoding(t *testing.T) {
	cancel := DomainOp(engine.OpCancel)
	var cmd engine.Command
	cases := []struct {
		name string
		err  error
	}{
		{"id present but zero", DecodeRequest(cancel, appendU64(appendU32(nil, 1<<fID), 0), &cmd)},
		{"empty key present", DecodeRequest(cancel, append(appendU32(nil, 1<<fKey), 0), &cmd)},
		{"field the op does not use", DecodeRequest(cancel, appendI64(appendU32(nil, 1<<fStock), 5), &cmd)},
		{"reserved mask bit", DecodeRequest(cancel, appendU32(nil, 1<<31), &cmd)},
		{"trailing byte", DecodeRequest(cancel, []byte{0, 0, 0, 0, 0}, &cmd)},
		{"result reserved bit", DecodeResult(appendU16(appendU16(nil, 0), 1<<15), &engine.Result{})},
		{"empty list present", DecodeResult(listPayload(rStores, 0, nil), &engine.Result{})},
		{"error with code ok", DecodeErrorReply([]byte{0, 0, 0, 0}, &ErrorReply{})},
		{"event of kind 0", DecodeEvent(make([]byte, 2+8+4+1+8+2), &Event{})},
		{"hello with unknown compression", DecodeHello([]byte{1, 0, 0, 0, 0, 0, 0x08, 0, 0, 0}, &Hello{})},
	}
	for _, c := range cases {
		if !errors.Is(c.err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", c.name, c.err)
		}
	}
	// A customer record with blocked = 2.
	cu := appendCustomer(nil, &engine.CustomerInfo{ID: "c"})
	cu[3] = 2
	p := append(appendU16(appendU16(nil, 0), 1<<rCustomer), cu...)
	if err := DecodeResult(p, &engine.Result{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("boolean 2: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
