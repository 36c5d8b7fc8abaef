package raftstore

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"time"

	"github.com/hashicorp/raft"
)

// The stored form of one raft.Log. Our own binary layout rather than msgpack:
// it is smaller, allocation-free to encode, and its decoder is a few lines we
// can fuzz. Pebble checksums every WAL record and sstable block, so the value
// carries no checksum of its own.
//
//	version   byte   (logCodecVersion)
//	flags     byte   (bit 0: AppendedAt is set)
//	index     uvarint
//	term      uvarint
//	type      byte
//	appended  varint  Unix nanoseconds, present only with flag bit 0
//	data      uvarint length, bytes
//	ext       uvarint length, bytes
//
// Decoding is strict: unknown versions or flags, non-minimal varints, lengths
// beyond the input and trailing bytes are errors, so a corrupt value is
// reported, never guessed at, and every value that decodes re-encodes to the
// same bytes.
const (
	logCodecVersion byte = 1

	logFlagAppendedAt byte = 1 << 0
	logFlagsKnown          = logFlagAppendedAt
)

// errLogCorrupt is returned for a stored log value that does not decode.
var errLogCorrupt = errors.New("raftstore: corrupt log entry")

// appendLog appends the encoding of l to dst.
func appendLog(dst []byte, l *raft.Log) []byte {
	var flags byte
	if !l.AppendedAt.IsZero() {
		flags |= logFlagAppendedAt
	}
	dst = append(dst, logCodecVersion, flags)
	dst = binary.AppendUvarint(dst, l.Index)
	dst = binary.AppendUvarint(dst, l.Term)
	dst = append(dst, byte(l.Type))
	if flags&logFlagAppendedAt != 0 {
		dst = binary.AppendVarint(dst, l.AppendedAt.UnixNano())
	}
	dst = binary.AppendUvarint(dst, uint64(len(l.Data)))
	dst = append(dst, l.Data...)
	dst = binary.AppendUvarint(dst, uint64(len(l.Extensions)))
	return append(dst, l.Extensions...)
}

// encodedLogLen returns the exact length of appendLog's output for l, so
// that StoreLogs can reserve the value inside the Pebble batch and encode in
// place, with no intermediate buffer.
func encodedLogLen(l *raft.Log) int {
	n := 2 + uvarintLen(l.Index) + uvarintLen(l.Term) + 1
	if !l.AppendedAt.IsZero() {
		n += varintLen(l.AppendedAt.UnixNano())
	}
	n += uvarintLen(uint64(len(l.Data))) + len(l.Data)
	return n + uvarintLen(uint64(len(l.Extensions))) + len(l.Extensions)
}

// uvarintLen is the length of binary.AppendUvarint's output for x.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// varintLen is the length of binary.AppendVarint's output for x (zigzag).
func varintLen(x int64) int { return uvarintLen(uint64(x<<1) ^ uint64(x>>63)) }

// decodeLog decodes b into l. Data and Extensions are copied (into one
// allocation) because b belongs to Pebble and is released after the read.
// It never panics, whatever b holds.
func decodeLog(b []byte, l *raft.Log) error {
	if len(b) < 2 || b[0] != logCodecVersion || b[1]&^logFlagsKnown != 0 {
		return errLogCorrupt
	}
	flags := b[1]
	b = b[2:]
	index, n := readUvarint(b)
	if n <= 0 {
		return errLogCorrupt
	}
	b = b[n:]
	term, n := readUvarint(b)
	if n <= 0 || len(b) == n {
		return errLogCorrupt
	}
	typ := raft.LogType(b[n])
	b = b[n+1:]
	var appendedAt time.Time
	if flags&logFlagAppendedAt != 0 {
		ns, n := readVarint(b)
		if n <= 0 {
			return errLogCorrupt
		}
		appendedAt = time.Unix(0, ns)
		b = b[n:]
	}
	data, b, ok := cutBytes(b)
	if !ok {
		return errLogCorrupt
	}
	ext, b, ok := cutBytes(b)
	if !ok || len(b) != 0 {
		return errLogCorrupt
	}
	*l = raft.Log{Index: index, Term: term, Type: typ, AppendedAt: appendedAt}
	if len(data)+len(ext) > 0 {
		buf := make([]byte, len(data)+len(ext))
		copy(buf, data)
		copy(buf[len(data):], ext)
		if len(data) > 0 {
			l.Data = buf[:len(data):len(data)]
		}
		if len(ext) > 0 {
			l.Extensions = buf[len(data):]
		}
	}
	return nil
}

// cutBytes splits a uvarint-length-prefixed byte string off the front of b.
// The length is checked against what is left before any slicing, so a huge
// declared length cannot allocate or panic.
func cutBytes(b []byte) (field, rest []byte, ok bool) {
	size, n := readUvarint(b)
	if n <= 0 || size > uint64(len(b)-n) {
		return nil, nil, false
	}
	end := n + int(size)
	return b[n:end], b[end:], true
}

// readUvarint is binary.Uvarint that also refuses non-minimal encodings
// (n <= 0), keeping every decoder canonical: one value, one byte form.
func readUvarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 { // one byte, always minimal: most fields of a command
		return uint64(b[0]), 1
	}
	v, n := binary.Uvarint(b)
	if n > 0 && n != uvarintLen(v) {
		return 0, -1
	}
	return v, n
}

// readVarint is binary.Varint that also refuses non-minimal encodings.
func readVarint(b []byte) (int64, int) {
	if len(b) > 0 && b[0] < 0x80 { // one byte, always minimal (zigzag, as binary.Varint)
		u := uint64(b[0])
		return int64(u>>1) ^ -int64(u&1), 1
	}
	v, n := binary.Varint(b)
	if n > 0 && n != varintLen(v) {
		return 0, -1
	}
	return v, n
}
