// This file proves the memory promises of the package comment, measured
// with the runtime's own counters rather than argued:
//   - the hot path (frame, reserve request and reply, batch, S2) allocates
//     nothing when the caller's buffers have room (testing.AllocsPerRun);
//   - hostile input cannot make a decoder allocate more than a small multiple
//     of the bytes it was given: huge declared counts, and compression bombs
//     that expand far past the frame limit (runtime.MemStats.TotalAlloc).
package protocol

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/invsys/inv/engine"
	"github.com/klauspost/compress/zstd"
)

func TestHotPathAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are slow to measure")
	}
	reserve := engine.Command{Op: engine.OpReserve, SKU: vSKU, Store: vStore, Customer: vCustomer, Qty: 1, Key: vKey}
	held := engine.Result{ID: vID, State: engine.StateHeld, Qty: 1, ExpiresAt: vNow}
	reqFrame := AppendRequest(nil, 1, &reserve)
	resFrame := AppendResult(nil, 1, engine.OpReserve, &held)
	batch := make([]engine.Command, 64)
	results := make([]engine.Result, 64)
	for i := range batch {
		batch[i], results[i] = reserve, held
	}
	batchFrame := AppendBatchRequest(nil, 1, batch)
	big := AppendResult(nil, 1, engine.OpListItems, &engine.Result{Items: []engine.ItemInfo{vItem, vItem, vItem, vItem}})
	s2Frame := CompressFrame(nil, big, CompressionS2)

	buf := make([]byte, 0, 64<<10)
	scratch := make([]byte, 0, 64<<10)
	cmds := make([]engine.Command, 0, 64)
	var cmd engine.Command
	var res engine.Result
	cases := map[string]func(){
		"AppendRequest":      func() { buf = AppendRequest(buf[:0], 1, &reserve) },
		"AppendResult":       func() { buf = AppendResult(buf[:0], 1, engine.OpReserve, &held) },
		"AppendBatchRequest": func() { buf = AppendBatchRequest(buf[:0], 1, batch) },
		"AppendBatchResult":  func() { buf = AppendBatchResult(buf[:0], 1, batch, results) },
		"ReadFrame":          func() { _, _, _ = ReadFrame(reqFrame, 0) },
		"DecodeRequest":      func() { _ = DecodeRequest(DomainOp(engine.OpReserve), reqFrame[HeaderSize:], &cmd) },
		"DecodeResult":       func() { _ = DecodeResult(resFrame[HeaderSize:], &res) },
		"DecodeBatchRequest": func() { cmds, _ = DecodeBatchRequest(batchFrame[HeaderSize:], cmds) },
		"CompressFrame/s2":   func() { buf = CompressFrame(buf[:0], big, CompressionS2) },
		"DecompressFrame/s2": func() {
			f, _, _ := ReadFrame(s2Frame, 0)
			_, scratch, _ = DecompressFrame(scratch, f, 0)
		},
		"Reader.Next": func() {}, // measured below
	}
	for name, fn := range cases {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %.1f allocations per run", name, n)
		}
	}
	// A Reader over a stream of reserve replies allocates only its buffers.
	stream := bytes.Repeat(resFrame, 1000)
	r := NewReader(bytes.NewReader(stream), 0)
	if n := testing.AllocsPerRun(500, func() { _, _ = r.Next() }); n != 0 {
		t.Errorf("Reader.Next: %.1f allocations per frame", n)
	}
}

// allocated returns the bytes fn allocates: the least of a few runs, since
// the runtime itself allocates now and then (a GC cycle, a timer) and would
// otherwise be charged to fn.
func allocated(fn func()) uint64 {
	least := uint64(1<<64 - 1)
	for range 5 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		fn()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

func TestHostileCountsAllocateLittle(t *testing.T) {
	// Every list declares its maximum count and sends a few bytes: each must
	// be refused before its slice is made.
	payloads := map[string][]byte{
		"reservations": listPayload(rReservations, MaxListReservations, nil),
		"stores":       listPayload(rStores, MaxListStores, nil),
		"items":        listPayload(rItems, MaxListItems, nil),
		"topology":     append(appendStr8(appendU64(nil, 1), HashName, 255, ""), 0xff, 0xff),
		"batch":        appendU16(nil, MaxBatchOps),
		"status":       append(appendStr8(appendU64(appendU32(nil, 1), 0), "", 255, ""), 0x00, 0x10),
	}
	for name, p := range payloads {
		p = append(p, make([]byte, 40)...)
		n := allocated(func() {
			_ = DecodeResult(p, &engine.Result{})
			_ = DecodeTopology(p, &Topology{})
			_, _ = DecodeBatchRequest(p, nil)
			_ = DecodeStatusReply(p, &StatusReply{})
		})
		if n > 4096 {
			t.Errorf("%s: %d bytes allocated for a %d-byte payload", name, n, len(p))
		}
	}
}

func TestValidListsAllocateInProportion(t *testing.T) {
	rs := make([]engine.ReservationInfo, MaxListReservations)
	for i := range rs {
		rs[i] = vRes
	}
	items := make([]engine.ItemInfo, 1000)
	for i := range items {
		items[i] = vItem
	}
	for name, r := range map[string]engine.Result{
		"reservations": {Reservations: rs},
		"items":        {Items: items},
	} {
		p := AppendResult(nil, 1, engine.OpListItems, &r)[HeaderSize:]
		n := allocated(func() { _ = DecodeResult(p, &engine.Result{}) })
		if n > uint64(allocFactor*len(p)) {
			t.Errorf("%s: %d bytes allocated for a %d-byte payload", name, n, len(p))
		}
	}
}

// TestCompressionBombs decompresses payloads that expand to 64 MiB with a
// 64 KiB frame limit: refused, having allocated about the limit at most.
func TestCompressionBombs(t *testing.T) {
	const maxFrame = 64 << 10
	zeros := make([]byte, 64<<20)

	s2Frame := CompressFrame(nil, AppendFrame(nil, OpPing, 0, 1, zeros), CompressionS2)
	// zstd written as a stream: its frame declares no content size, which
	// the protocol refuses before decoding anything.
	var stream bytes.Buffer
	w, err := zstd.NewWriter(&stream)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(zeros)
	_ = w.Close()
	zstdNoSize := AppendFrame(nil, OpPing, Flags(0).WithCompression(CompressionZstd), 1, stream.Bytes())
	zstdSized := CompressFrame(nil, AppendFrame(nil, OpPing, 0, 1, zeros), CompressionZstd)
	zeros = nil

	_, dec := zstdCodec() // made before measuring: a one-time cost shared by every connection
	_ = dec
	for name, frame := range map[string][]byte{"s2": s2Frame, "zstd without size": zstdNoSize, "zstd with size": zstdSized} {
		f := Frame{Op: OpPing, Flags: Flags(frame[5]), Payload: frame[HeaderSize:]}
		if len(f.Payload) > maxFrame {
			t.Fatalf("%s: bomb of %d bytes does not fit a frame", name, len(f.Payload))
		}
		var derr error
		_, _, _ = DecompressFrame(nil, f, maxFrame) // warm the decoder's reusable state
		n := allocated(func() { _, _, derr = DecompressFrame(nil, f, maxFrame) })
		if name == "zstd without size" {
			if !errors.Is(derr, ErrMalformed) {
				t.Errorf("%s: %v, want ErrMalformed", name, derr)
			}
		} else {
			wantTooLarge(t, name, derr)
		}
		if n > 4*maxFrame {
			t.Errorf("%s: %d bytes allocated to refuse it (limit %d)", name, n, maxFrame)
		}
	}
}
