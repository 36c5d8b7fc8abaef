package protocol

import (
	"errors"
	"slices"
	"strconv"
	"sync"

	"github.com/invsys/inv/engine"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Compression of a frame covers its payload only: the header stays readable
// so that a reader learns the frame's op, request id and wire length without
// decompressing, and refuses oversize frames before reading them. The
// length field holds the compressed length; the decompressed payload is
// bounded by the same frame limit as an uncompressed one, checked before the
// output is allocated (s2.DecodedLen; the zstd frame's declared content
// size, and a decoder that stops at its output's capacity).

var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
)

// zstdCodec returns the process's zstd encoder and decoder, made on first
// use: most connections never negotiate zstd and should not pay for its
// tables. Both are safe for concurrent EncodeAll / DecodeAll.
func zstdCodec() (*zstd.Encoder, *zstd.Decoder) {
	zstdOnce.Do(func() {
		var err error
		// Fastest level: frames are compressed on the reply path, where
		// latency matters more than the last few percent of ratio.
		// Single segment: the frame always declares its content size,
		// which the decoder needs to bound its output (small inputs would
		// otherwise go without it).
		zstdEnc, err = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithSingleSegment(true),
			zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic("protocol: zstd encoder: " + err.Error())
		}
		zstdDec, err = zstd.NewReader(nil,
			// Bound what any one frame can make the decoder hold, whatever
			// its header declares; each call is bounded further by the
			// capacity of its output (WithDecodeAllCapLimit).
			zstd.WithDecoderMaxMemory(MaxFrameBytesLimit),
			zstd.WithDecoderMaxWindow(MaxFrameBytesLimit),
			zstd.WithDecodeAllCapLimit(true),
			zstd.WithDecoderConcurrency(0))
		if err != nil {
			panic("protocol: zstd decoder: " + err.Error())
		}
	})
	return zstdEnc, zstdDec
}

// CompressFrame appends frame, a whole uncompressed frame as the Append
// functions produce it, to dst with its payload compressed by c and the
// header's length and flags updated. When c is none, or compressing would
// not make the payload smaller, the frame is appended unchanged. dst and
// frame must not overlap. With S2 and enough capacity in dst it allocates
// nothing.
func CompressFrame(dst, frame []byte, c Compression) []byte {
	if len(frame) < HeaderSize || int(le.Uint32(frame))+HeaderSize != len(frame) {
		panic("protocol: CompressFrame of something that is not one whole frame")
	}
	flags := Flags(frame[5])
	if flags.Compression() != CompressionNone {
		panic("protocol: CompressFrame of a compressed frame")
	}
	payload := frame[HeaderSize:]
	if c == CompressionNone || len(payload) == 0 {
		return append(dst, frame...)
	}
	start := len(dst)
	dst = append(dst, frame[:HeaderSize]...)
	switch c {
	case CompressionS2:
		bound := s2.MaxEncodedLen(len(payload))
		if bound < 0 {
			panic("protocol: payload too large for s2")
		}
		dst = slices.Grow(dst, bound)
		out := s2.Encode(dst[len(dst):len(dst)+bound], payload)
		dst = dst[:len(dst)+len(out)]
	case CompressionZstd:
		enc, _ := zstdCodec()
		dst = enc.EncodeAll(payload, dst)
	default:
		panic("protocol: unknown compression " + c.String())
	}
	n := len(dst) - start - HeaderSize
	if n >= len(payload) {
		return append(dst[:start], frame...)
	}
	le.PutUint32(dst[start:], uint32(n))
	dst[start+5] = byte(flags.WithCompression(c))
	return dst
}

// DecompressFrame returns f with its payload decompressed into buf (reusing
// buf's capacity, growing it only as far as the decompressed size) and the
// buffer to pass to the next call; the returned frame's payload is valid
// until then. A frame without compression is returned as it is.
//
// The decompressed payload may not exceed maxFrame - HeaderSize (maxFrame as
// in ReadFrame): a frame that would is refused with ErrTooLarge before the
// output is allocated. Corrupt input gives ErrMalformed.
func DecompressFrame(buf []byte, f Frame, maxFrame int) (Frame, []byte, error) {
	c := f.Compression()
	if c == CompressionNone {
		return f, buf, nil
	}
	limit := normMaxFrame(maxFrame) - HeaderSize
	var out []byte
	var err error
	switch c {
	case CompressionS2:
		out, err = decompressS2(buf, f.Payload, limit)
	case CompressionZstd:
		out, err = decompressZstd(buf, f.Payload, limit)
	default:
		return f, buf, errFlags
	}
	if err != nil {
		return f, buf, err
	}
	f.Payload = out
	f.Flags = f.Flags.WithCompression(CompressionNone)
	return f, out[:0], nil
}

func decompressS2(buf, src []byte, limit int) ([]byte, error) {
	n, err := s2.DecodedLen(src)
	if err != nil {
		return nil, malformed("s2 payload: " + err.Error())
	}
	if n > limit {
		return nil, decompressedTooLarge(uint64(n), limit)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	out, err := s2.Decode(buf[:cap(buf)], src)
	if err != nil {
		return nil, malformed("s2 payload: " + err.Error())
	}
	return out, nil
}

func decompressZstd(buf, src []byte, limit int) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		return nil, malformed("zstd payload: " + err.Error())
	}
	// The content size must be declared (every one-shot zstd compressor
	// writes it) so that the output is sized, and refused, before any
	// decoding; decoding blind until a bound trips costs work and memory
	// for nothing.
	if !h.HasFCS {
		return nil, malformed("zstd payload without a content size")
	}
	if h.FrameContentSize > uint64(limit) {
		return nil, decompressedTooLarge(h.FrameContentSize, limit)
	}
	want := int(h.FrameContentSize)
	if cap(buf) < want {
		buf = make([]byte, 0, want)
	}
	// The output's capacity bounds the decoder (WithDecodeAllCapLimit), so
	// a frame that lies about its size, or is followed by more frames,
	// cannot make it write more than the declared size.
	_, dec := zstdCodec()
	out, err := dec.DecodeAll(src, buf[:0:want])
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			return nil, malformed("zstd payload larger than its declared content size")
		}
		return nil, malformed("zstd payload: " + err.Error())
	}
	return out, nil
}

func decompressedTooLarge(n uint64, limit int) error {
	return &Error{Code: engine.CodeTooLarge,
		Msg: "decompressed payload of " + strconv.FormatUint(n, 10) + " bytes over the limit of " + strconv.Itoa(limit)}
}
