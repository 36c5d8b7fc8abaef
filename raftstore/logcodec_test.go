// Tests of the stored raft.Log encoding. They prove that every field of
// raft.Log survives encode → decode (table of edge cases), that the computed
// length equals the encoded length (StoreLogs relies on it to encode in place),
// and, by fuzzing, that the decoder never panics on arbitrary bytes and that
// whatever it accepts re-encodes to exactly the same bytes (canonical form).
package raftstore

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func sampleLogs() []raft.Log {
	return []raft.Log{
		{},
		{Index: 1, Term: 1, Type: raft.LogNoop},
		{Index: 7, Term: 3, Type: raft.LogCommand, Data: []byte("hello")},
		{Index: math.MaxUint64, Term: math.MaxUint64, Type: raft.LogConfiguration,
			Data: bytes.Repeat([]byte{0xAB}, 300), Extensions: []byte{1, 2, 3}},
		{Index: 42, Term: 2, Type: raft.LogBarrier, Extensions: []byte("ext only")},
		{Index: 9, Term: 9, Type: raft.LogCommand, Data: []byte{0}, AppendedAt: time.Unix(1700000000, 123456789)},
		{Index: 10, Term: 9, AppendedAt: time.Unix(0, -5)}, // before 1970: negative nanoseconds
		{Index: 11, Term: 9, Type: raft.LogType(200)},      // unknown types are stored, not judged
	}
}

func logsEqual(a, b *raft.Log) bool {
	return a.Index == b.Index && a.Term == b.Term && a.Type == b.Type &&
		bytes.Equal(a.Data, b.Data) && bytes.Equal(a.Extensions, b.Extensions) &&
		a.AppendedAt.Equal(b.AppendedAt) && a.AppendedAt.IsZero() == b.AppendedAt.IsZero()
}

func TestLogCodecRoundTrip(t *testing.T) {
	for i, in := range sampleLogs() {
		enc := appendLog(nil, &in)
		if len(enc) != encodedLogLen(&in) {
			t.Fatalf("log %d: encoded %d bytes, encodedLogLen says %d", i, len(enc), encodedLogLen(&in))
		}
		var out raft.Log
		if err := decodeLog(enc, &out); err != nil {
			t.Fatalf("log %d: decode: %v", i, err)
		}
		if !logsEqual(&in, &out) {
			t.Fatalf("log %d: got %+v, want %+v", i, out, in)
		}
		// The decoded slices must not alias the input (Pebble reuses it).
		if len(out.Data) > 0 {
			enc[len(enc)-1] ^= 0xFF
			if !bytes.Equal(out.Data, in.Data) {
				t.Fatalf("log %d: decoded data aliases the stored value", i)
			}
		}
	}
}

func TestLogCodecRejectsDamage(t *testing.T) {
	good := appendLog(nil, &raft.Log{Index: 5, Term: 2, Data: []byte("abc"), Extensions: []byte("x")})
	bad := map[string][]byte{
		"empty":        {},
		"version":      append([]byte{2}, good[1:]...),
		"flags":        append([]byte{good[0], 0x80}, good[2:]...),
		"truncated":    good[:len(good)-1],
		"trailing":     append(append([]byte{}, good...), 0),
		"overlong":     {logCodecVersion, 0, 0x85, 0x00, 1, 0, 0, 0}, // index 5 in two bytes
		"huge length":  {logCodecVersion, 0, 1, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F},
		"varint over":  {logCodecVersion, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01},
		"no type byte": {logCodecVersion, 0, 1, 1},
	}
	for name, b := range bad {
		var l raft.Log
		if err := decodeLog(b, &l); err == nil {
			t.Errorf("%s: decoded %x without error", name, b)
		}
	}
}

func FuzzDecodeLog(f *testing.F) {
	for _, l := range sampleLogs() {
		f.Add(appendLog(nil, &l))
	}
	f.Add([]byte{logCodecVersion, logFlagAppendedAt, 1, 1, 0, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		var l raft.Log
		if err := decodeLog(b, &l); err != nil {
			return
		}
		again := appendLog(nil, &l)
		if !bytes.Equal(again, b) {
			t.Fatalf("decode → encode changed the bytes:\n in  %x\n out %x", b, again)
		}
		if encodedLogLen(&l) != len(b) {
			t.Fatalf("encodedLogLen %d for %d bytes", encodedLogLen(&l), len(b))
		}
	})
}
