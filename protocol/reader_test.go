// This file proves that Reader delivers a pipelined stream exactly as sent
// (every golden frame, compressed ones decompressed, in order) however the
// bytes are cut by the transport, that it grows its buffer for large frames
// and no further, and that it reports the ways a stream can end: cleanly,
// inside a frame, or with a frame over the limit, after which it stays failed.
package protocol

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func goldenStream(t *testing.T) (stream []byte, frames []Frame) {
	t.Helper()
	for _, v := range allVectors() {
		frame := v.encode(nil)
		stream = append(stream, frame...)
		f, _, err := ReadFrame(frame, 0)
		if err != nil {
			t.Fatal(err)
		}
		f, _, err = DecompressFrame(nil, f, 0)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	return stream, frames
}

func TestReaderPipelinedStream(t *testing.T) {
	stream, want := goldenStream(t)
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+EOF": iotest.DataErrReader,
	}
	for name, wrap := range readers {
		r := NewReader(wrap(bytes.NewReader(stream)), 0)
		for i, w := range want {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("%s: frame %d: %v", name, i, err)
			}
			if got.Op != w.Op || got.Flags != w.Flags || got.ReqID != w.ReqID || !bytes.Equal(got.Payload, w.Payload) {
				t.Fatalf("%s: frame %d differs", name, i)
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("%s: end of stream gave %v, want io.EOF", name, err)
		}
	}
}

func TestReaderLargeFrame(t *testing.T) {
	payload := bytes.Repeat([]byte{0xA5}, 3*readChunk)
	stream := AppendFrame(nil, OpPing, 0, 1, []byte("12345678"))
	stream = AppendFrame(stream, OpBatch, FlagReply, 2, payload)
	stream = AppendFrame(stream, OpPing, 0, 3, []byte("87654321"))
	r := NewReader(iotest.HalfReader(bytes.NewReader(stream)), 4*readChunk)
	for _, id := range []uint32{1, 2, 3} {
		f, err := r.Next()
		if err != nil || f.ReqID != id {
			t.Fatalf("frame %d: %+v %v", id, f.ReqID, err)
		}
		if id == 2 && !bytes.Equal(f.Payload, payload) {
			t.Fatal("large payload differs")
		}
	}
	if cap(r.buf) > 4*readChunk {
		t.Fatalf("buffer grew to %d past the frame limit", cap(r.buf))
	}
}

func TestReaderEnds(t *testing.T) {
	frame := AppendPing(nil, 1, 42, true)
	cases := []struct {
		name   string
		stream []byte
		max    int
		want   error
	}{
		{"empty", nil, 0, io.EOF},
		{"inside the header", frame[:3], 0, io.ErrUnexpectedEOF},
		{"inside the payload", frame[:len(frame)-1], 0, io.ErrUnexpectedEOF},
		{"over the limit", AppendFrame(nil, OpPing, 0, 1, make([]byte, 100)), 64, ErrTooLarge},
		{"reserved flags", AppendFrame(nil, OpPing, 0x80, 1, nil), 0, ErrMalformed},
		{"corrupt s2", AppendFrame(nil, OpPing, Flags(0).WithCompression(CompressionS2), 1, []byte{0xff, 0xff}), 0, ErrMalformed},
	}
	for _, c := range cases {
		r := NewReader(bytes.NewReader(c.stream), c.max)
		_, err := r.Next()
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if _, again := r.Next(); !errors.Is(again, c.want) {
			t.Errorf("%s: second call gave %v; errors must stick", c.name, again)
		}
	}
	r := NewReader(iotest.ErrReader(io.ErrClosedPipe), 0)
	if _, err := r.Next(); err != io.ErrClosedPipe {
		t.Errorf("transport error: %v", err)
	}
}

// emptyReader never makes progress.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderNoProgress(t *testing.T) {
	if _, err := NewReader(emptyReader{}, 0).Next(); err != io.ErrNoProgress {
		t.Errorf("reader without progress: %v", err)
	}
}
