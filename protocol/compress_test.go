// This file proves that compression is transparent and safe: frames of any
// size survive S2 and zstd and come back byte for byte; a payload that does
// not shrink is sent as it is; and compressed bytes that lie about their
// size, or are corrupt, are refused rather than trusted.
package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/s2"
)

// compressible returns n bytes that look like a list reply: similar
// records that differ in a few digits.
func compressible(n int) []byte {
	b := make([]byte, 0, n+64)
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, "item 4710088412345 store TPE%04d stock %d;", i%10000, i*7%101)
	}
	return b[:n]
}

func TestCompressRoundTrip(t *testing.T) {
	for _, c := range []Compression{CompressionS2, CompressionZstd} {
		for _, n := range []int{1, 100, 4096, 100 << 10, DefaultMaxFrameBytes - HeaderSize} {
			payload := compressible(n)
			frame := AppendFrame(nil, DomainOp(34), FlagReply, 77, payload)
			packed := CompressFrame(nil, frame, c)
			f, size, err := ReadFrame(packed, 0)
			if err != nil || size != len(packed) || f.ReqID != 77 {
				t.Fatalf("%v %d: %v", c, n, err)
			}
			if n >= 100 && (f.Compression() != c || len(packed) >= len(frame)) {
				t.Fatalf("%v %d: not compressed (%d → %d bytes)", c, n, len(frame), len(packed))
			}
			out, _, err := DecompressFrame(nil, f, 0)
			if err != nil || !bytes.Equal(out.Payload, payload) || out.Flags != FlagReply || out.Op != f.Op {
				t.Fatalf("%v %d: round trip: %v", c, n, err)
			}
		}
	}
}

func TestCompressIncompressible(t *testing.T) {
	payload := make([]byte, 4096)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range payload {
		payload[i] = byte(r.Uint32())
	}
	frame := AppendFrame(nil, OpPing, 0, 1, payload)
	for _, c := range []Compression{CompressionNone, CompressionS2, CompressionZstd} {
		if got := CompressFrame([]byte("x"), frame, c); !bytes.Equal(got[1:], frame) || got[0] != 'x' {
			t.Errorf("%v: a payload that does not shrink must be appended unchanged", c)
		}
	}
	f, _, _ := ReadFrame(frame, 0)
	if out, _, err := DecompressFrame(nil, f, 0); err != nil || !bytes.Equal(out.Payload, payload) {
		t.Errorf("uncompressed frame through DecompressFrame: %v", err)
	}
}

func TestDecompressRefusesLies(t *testing.T) {
	payload := compressible(1000)
	block := s2.Encode(nil, payload)
	// Declare 10 bytes fewer than the block produces.
	short := append(appendUvarint(nil, 990), block[uvarintLen(block):]...)
	zframe := CompressFrame(nil, AppendFrame(nil, OpPing, 0, 1, payload), CompressionZstd)[HeaderSize:]
	corrupt := bytes.Clone(zframe)
	corrupt[len(corrupt)/2] ^= 0xff
	cases := map[string]Frame{
		"s2 shorter than declared": {Flags: Flags(0).WithCompression(CompressionS2), Payload: short},
		"s2 garbage":               {Flags: Flags(0).WithCompression(CompressionS2), Payload: []byte{5, 0xff, 0xff}},
		"s2 empty":                 {Flags: Flags(0).WithCompression(CompressionS2)},
		"zstd corrupt":             {Flags: Flags(0).WithCompression(CompressionZstd), Payload: corrupt},
		"zstd truncated":           {Flags: Flags(0).WithCompression(CompressionZstd), Payload: zframe[:len(zframe)-3]},
		"zstd twice":               {Flags: Flags(0).WithCompression(CompressionZstd), Payload: append(bytes.Clone(zframe), zframe...)},
		"zstd garbage":             {Flags: Flags(0).WithCompression(CompressionZstd), Payload: []byte("not zstd at all")},
	}
	for name, f := range cases {
		if _, _, err := DecompressFrame(nil, f, 0); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func uvarintLen(b []byte) int {
	for i, c := range b {
		if c < 0x80 {
			return i + 1
		}
	}
	return len(b)
}
