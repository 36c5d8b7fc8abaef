// This file proves, by fuzzing every decoder, that hostile bytes cannot hurt
// a reader of this protocol. For any input each target checks that:
//   - the decoder returns a value or an error and never panics;
//   - what it allocates is bounded by the input's length (retainedBytes);
//   - a value it accepts encodes back to exactly the input bytes, so the
//     format has one encoding per value and nothing in a frame is ignored.
//
// Seeds come from the golden vectors (testdata/fuzz/<Target>/, rewritten by
// go test -run Golden -update); plain go test runs them as unit tests. Run
// one target with, for example:
//
//	go test ./protocol -run '^$' -fuzz '^FuzzDecodeRequest$' -fuzztime 3000000x
//
// A count rather than a duration: with a duration, Go 1.26's coordinator can
// end a clean run with "context deadline exceeded" and no failing input
// (golang/go#75804). A real failure writes its input to testdata/fuzz.
package protocol

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/invsys/inv/engine"
)

// allocFactor bounds the memory a decoder may keep per input byte. Go values
// are wider than their encodings (a 6-byte shard placement is a 32-byte
// struct), never by more than this.
const allocFactor = 8

func checkRetained(t *testing.T, v any, input []byte) {
	t.Helper()
	if n := retainedBytes(reflect.ValueOf(v)); n > allocFactor*len(input)+512 {
		t.Fatalf("decoded value holds %d bytes for %d bytes of input", n, len(input))
	}
}

// retainedBytes adds up the heap memory reachable from v: slice backing
// arrays, strings, pointed-to values.
func retainedBytes(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return int(v.Type().Elem().Size()) + retainedBytes(v.Elem())
	case reflect.Struct:
		n := 0
		for i := 0; i < v.NumField(); i++ {
			n += retainedBytes(v.Field(i))
		}
		return n
	case reflect.Slice:
		n := v.Cap() * int(v.Type().Elem().Size())
		for i := 0; i < v.Len(); i++ {
			n += retainedBytes(v.Index(i))
		}
		return n
	case reflect.String:
		return v.Len()
	}
	return 0
}

func mustEqualBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: re-encoding differs\n got %x\nwant %x", what, got, want)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxFrame = 4096
		fr, n, err := ReadFrame(data, maxFrame)
		switch {
		case err == nil:
			if n > len(data) || n > maxFrame || fr.Size() != n {
				t.Fatalf("n=%d size=%d of %d bytes", n, fr.Size(), len(data))
			}
			mustEqualBytes(t, "frame", AppendFrame(nil, fr.Op, fr.Flags, fr.ReqID, fr.Payload), data[:n])
		case errors.Is(err, errFlags):
			if n < HeaderSize || n > len(data) {
				t.Fatalf("flag error with n=%d", n)
			}
		case err == ErrIncomplete || errors.Is(err, ErrTooLarge):
			if n != 0 {
				t.Fatalf("%v with n=%d", err, n)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// chunkedReader hands out its data in pieces of varying size, to exercise
// every path of Reader.fill.
type chunkedReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *chunkedReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1 + int(r.sizes[r.i%len(r.sizes)])*7
	r.i++
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// FuzzReader checks the streaming reader against ReadFrame over the whole
// input: the same frames, then an error, with buffers within the limit.
func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxFrame = 4096
		r := NewReader(&chunkedReader{data: data, sizes: append([]byte{3}, data...)}, maxFrame)
		rest := data
		var scratch []byte
		for {
			got, err := r.Next()
			want, n, werr := ReadFrame(rest, maxFrame)
			if werr == nil {
				want, scratch, werr = DecompressFrame(scratch, want, maxFrame)
			}
			if werr != nil {
				if err == nil {
					t.Fatalf("Reader returned a frame where ReadFrame says %v", werr)
				}
				if werr == ErrIncomplete && len(rest) > 0 && err != io.ErrUnexpectedEOF {
					t.Fatalf("truncated stream gave %v", err)
				}
				break
			}
			if err != nil {
				t.Fatalf("Reader: %v; ReadFrame read a frame", err)
			}
			if got.Op != want.Op || got.Flags != want.Flags || got.ReqID != want.ReqID || !bytes.Equal(got.Payload, want.Payload) {
				t.Fatalf("Reader and ReadFrame disagree")
			}
			rest = rest[n:]
		}
		if cap(r.buf) > max(readChunk, maxFrame) || cap(r.scratch) > maxFrame {
			t.Fatalf("buffers grew to %d and %d", cap(r.buf), cap(r.scratch))
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, op byte, payload []byte) {
		var cmd engine.Command
		if DecodeRequest(Op(op), payload, &cmd) != nil {
			return
		}
		if err := CheckRequest(&cmd); err != nil {
			t.Fatalf("decoded a request CheckRequest refuses: %v", err)
		}
		mustEqualBytes(t, "request", AppendRequest(nil, 0, &cmd)[HeaderSize:], payload)
	})
}

func FuzzDecodeResult(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		var r engine.Result
		if DecodeResult(payload, &r) != nil {
			return
		}
		checkRetained(t, r, payload)
		if err := CheckResult(&r); err != nil {
			t.Fatalf("decoded a result CheckResult refuses: %v", err)
		}
		mustEqualBytes(t, "result", AppendResult(nil, 0, engine.OpGetItem, &r)[HeaderSize:], payload)
	})
}

func FuzzDecodeBatchRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		cmds, err := DecodeBatchRequest(payload, nil)
		if err != nil {
			return
		}
		mustEqualBytes(t, "batch", AppendBatchRequest(nil, 0, cmds)[HeaderSize:], payload)
	})
}

func FuzzDecodeBatchResult(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		rs, err := DecodeBatchResult(payload, nil)
		if err != nil {
			return
		}
		checkRetained(t, rs, payload)
		var w BatchWriter
		w.Begin(nil, 0, true)
		for i := range rs {
			switch rs[i].Op {
			case OpError:
				w.AddError(&rs[i].Err)
			case OpNotLeader:
				w.AddNotLeader(&rs[i].NotLeader)
			default:
				eop, _ := rs[i].Op.Engine()
				w.AddResult(eop, &rs[i].Result)
			}
		}
		mustEqualBytes(t, "batch reply", w.Finish()[HeaderSize:], payload)
	})
}

func FuzzDecodeHello(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		var h Hello
		if DecodeHello(payload, &h) != nil {
			return
		}
		checkRetained(t, h, payload)
		mustEqualBytes(t, "hello", AppendHello(nil, 0, &h)[HeaderSize:], payload)
	})
}

func FuzzDecodeHelloReply(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		var h HelloReply
		if DecodeHelloReply(payload, &h) != nil {
			return
		}
		checkRetained(t, h, payload)
		mustEqualBytes(t, "hello reply", AppendHelloReply(nil, 0, &h)[HeaderSize:], payload)
	})
}

func FuzzDecodeTopology(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		var top Topology
		if DecodeTopology(payload, &top) != nil {
			return
		}
		checkRetained(t, top, payload)
		mustEqualBytes(t, "topology", AppendTopology(nil, 0, &top)[HeaderSize:], payload)
	})
}

func FuzzDecodeEvent(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		var ev Event
		if DecodeEvent(payload, &ev) != nil {
			return
		}
		checkRetained(t, ev, payload)
		mustEqualBytes(t, "event", AppendEvent(nil, 0, &ev)[HeaderSize:], payload)
	})
}

func FuzzDecodeStatus(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		var r StatusReply
		if DecodeStatusReply(payload, &r) != nil {
			return
		}
		checkRetained(t, r, payload)
		mustEqualBytes(t, "status reply", AppendStatusReply(nil, 0, &r)[HeaderSize:], payload)
	})
}

// FuzzDecodeControl runs every small control decoder over the same bytes.
func FuzzDecodeControl(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		if nonce, err := DecodePing(payload); err == nil {
			mustEqualBytes(t, "ping", AppendPing(nil, 0, nonce, false)[HeaderSize:], payload)
		}
		var s Subscribe
		if DecodeSubscribe(payload, &s) == nil {
			mustEqualBytes(t, "subscribe", AppendSubscribe(nil, 0, &s)[HeaderSize:], payload)
		}
		var sd Subscribed
		if DecodeSubscribed(payload, &sd) == nil {
			mustEqualBytes(t, "subscribed", AppendSubscribed(nil, 0, &sd)[HeaderSize:], payload)
		}
		var e ErrorReply
		if DecodeErrorReply(payload, &e) == nil {
			checkRetained(t, e, payload)
			mustEqualBytes(t, "error", AppendError(nil, 0, &e)[HeaderSize:], payload)
		}
		var nl NotLeader
		if DecodeNotLeader(payload, &nl) == nil {
			checkRetained(t, nl, payload)
			mustEqualBytes(t, "not leader", AppendNotLeader(nil, 0, &nl)[HeaderSize:], payload)
		}
		var sr SnapshotReply
		if DecodeSnapshotReply(payload, &sr) == nil {
			checkRetained(t, sr, payload)
			mustEqualBytes(t, "snapshot reply", AppendSnapshotReply(nil, 0, &sr)[HeaderSize:], payload)
		}
	})
}

// FuzzDecompress checks that decompression is bounded by the frame limit
// whatever the compressed bytes claim, and that what decompresses survives
// a round trip through the compressor.
func FuzzDecompress(f *testing.F) {
	f.Fuzz(func(t *testing.T, flags byte, payload []byte) {
		const maxFrame = 8192
		fr := Frame{Op: DomainOp(engine.OpListItems), Flags: Flags(flags), Payload: payload}
		if fr.Flags&flagsReserved != 0 || !fr.Compression().Valid() {
			return // ReadFrame refuses these before anyone decompresses
		}
		out, buf, err := DecompressFrame(nil, fr, maxFrame)
		if err != nil {
			return
		}
		if len(out.Payload) > maxFrame-HeaderSize || cap(buf) > maxFrame-HeaderSize {
			t.Fatalf("decompressed to %d bytes (buffer %d) past the limit", len(out.Payload), cap(buf))
		}
		if fr.Compression() == CompressionNone || len(out.Payload) == 0 {
			return
		}
		frame := AppendFrame(nil, fr.Op, 0, 0, out.Payload)
		again, _, _ := ReadFrame(CompressFrame(nil, frame, fr.Compression()), maxFrame)
		again, _, err = DecompressFrame(nil, again, maxFrame)
		if err != nil || !bytes.Equal(again.Payload, out.Payload) {
			t.Fatalf("round trip through the compressor: %v", err)
		}
	})
}

// FuzzDecodeShardCall: a SHARD_CALL payload decodes or is refused, never
// panics; what decodes encodes back to the same bytes.
func FuzzDecodeShardCall(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		var cmd engine.Command
		shard, err := DecodeShardCall(payload, &cmd)
		if err != nil {
			return
		}
		mustEqualBytes(t, "shard call", AppendShardCall(nil, 0, shard, &cmd)[HeaderSize:], payload)
	})
}
