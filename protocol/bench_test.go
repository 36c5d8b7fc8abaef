// This file measures the hot path with -benchmem: encoding and decoding a
// reserve request and its reply (the goal is 0 allocations), a 64-op batch
// both ways, frame reading from a pipelined stream, compression of a large
// reply, and the shard hash.
//
//	go test ./protocol -run '^$' -bench . -benchmem
package protocol

import (
	"bytes"
	"testing"

	"github.com/invsys/inv/engine"
)

var (
	benchReserve = engine.Command{Op: engine.OpReserve, SKU: vSKU, Store: vStore, Customer: vCustomer,
		Qty: 1, Key: vKey}
	benchHeld = engine.Result{ID: vID, State: engine.StateHeld, Qty: 1, ExpiresAt: vNow}
)

func BenchmarkReserveRequestEncode(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRequest(buf[:0], 1, &benchReserve)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkReserveRequestDecode(b *testing.B) {
	frame := AppendRequest(nil, 1, &benchReserve)
	var cmd engine.Command
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		f, _, err := ReadFrame(frame, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := DecodeRequest(f.Op, f.Payload, &cmd); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReserveReplyEncode(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResult(buf[:0], 1, engine.OpReserve, &benchHeld)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkReserveReplyDecode(b *testing.B) {
	frame := AppendResult(nil, 1, engine.OpReserve, &benchHeld)
	var r engine.Result
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		f, _, err := ReadFrame(frame, 0)
		if err != nil {
			b.Fatal(err)
		}
		if err := DecodeResult(f.Payload, &r); err != nil {
			b.Fatal(err)
		}
	}
}

func batch64() ([]engine.Command, []engine.Result) {
	cmds := make([]engine.Command, 64)
	results := make([]engine.Result, 64)
	for i := range cmds {
		cmds[i], results[i] = benchReserve, benchHeld
	}
	return cmds, results
}

func BenchmarkBatch64RequestEncode(b *testing.B) {
	cmds, _ := batch64()
	buf := make([]byte, 0, 16<<10)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBatchRequest(buf[:0], 1, cmds)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkBatch64RequestDecode(b *testing.B) {
	cmds, _ := batch64()
	frame := AppendBatchRequest(nil, 1, cmds)
	out := make([]engine.Command, 0, 64)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = DecodeBatchRequest(frame[HeaderSize:], out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBatch64ReplyEncode(b *testing.B) {
	cmds, results := batch64()
	buf := make([]byte, 0, 16<<10)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBatchResult(buf[:0], 1, cmds, results)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkBatch64ReplyDecode(b *testing.B) {
	cmds, results := batch64()
	frame := AppendBatchResult(nil, 1, cmds, results)
	out := make([]BatchResult, 0, 64)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = DecodeBatchResult(frame[HeaderSize:], out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReaderPipelined reads reserve replies off a stream the way a
// client's connection goroutine does.
func BenchmarkReaderPipelined(b *testing.B) {
	frame := AppendResult(nil, 1, engine.OpReserve, &benchHeld)
	stream := bytes.Repeat(frame, 4096)
	src := bytes.NewReader(stream)
	r := NewReader(src, 0)
	var res engine.Result
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := r.Next()
		if err != nil {
			src.Reset(stream)
			r = NewReader(src, 0)
			continue
		}
		_ = DecodeResult(f.Payload, &res)
	}
}

func benchCompress(b *testing.B, c Compression) {
	items := make([]engine.ItemInfo, 200)
	for i := range items {
		items[i] = vItem
	}
	frame := AppendResult(nil, 1, engine.OpListItems, &engine.Result{Items: items})
	buf := make([]byte, 0, 2*len(frame))
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		buf = CompressFrame(buf[:0], frame, c)
	}
	b.ReportMetric(float64(len(buf))/float64(len(frame)), "ratio")
}

func BenchmarkCompressS2(b *testing.B)   { benchCompress(b, CompressionS2) }
func BenchmarkCompressZstd(b *testing.B) { benchCompress(b, CompressionZstd) }

func BenchmarkShardOf(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = ShardOf(vSKU, vStore, 64)
	}
}
